# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] tags=["en"]
# # 04 — A minimal Transformer with RoPE, a causal mask and a KV cache
#
# **Interview questions this notebook answers**
#
# - **C1** Implement a simple Transformer that uses RoPE.
# - Why is RoPE applied to q and k only, never to v?
# - Why can a KV cache store the keys already rotated?
# - What does RoPE cost compared with attention?
#
# **What you will do**
#
# 1. Spot what is wrong with the source document's "RoPE Transformer".
# 2. Build the model step by step: multi-head attention with RoPE, the causal mask, the KV cache, the
#    pre-norm block, the model with a selectable positional scheme.
# 3. Implement it in `exercises/transformer.py` and grade it here.
# 4. Use *your* model: attention maps with and without RoPE and with the causal mask, the relative
#    property at model level, incremental decoding with the cache, and the cost of RoPE.

# %% [markdown] tags=["zh"]
# # 04 — 带 RoPE、因果掩码和键值缓存的最小 Transformer
#
# **本笔记本（notebook）回答的面试题**
#
# - **C1** 实现一个使用 RoPE 的简单 Transformer。
# - 为什么 RoPE 只作用于 q 和 k，而从不作用于 v？
# - 为什么键值缓存（KV cache）可以直接存储旋转后的键？
# - RoPE 的计算开销与注意力相比如何？
#
# **你要做的事**
#
# 1. 找出源文档里那个“RoPE Transformer”的问题。
# 2. 一步步搭建模型：带 RoPE 的多头注意力、因果掩码、键值缓存、Pre-norm 的 Transformer 块，
#    以及可以选择位置编码方案的完整模型。
# 3. 在 `exercises/transformer.py` 中实现它，并在这里评分。
# 4. 用*你自己的*模型做实验：不加位置编码、加 RoPE、RoPE 加因果掩码三种情况下的注意力图，
#    模型层面的相对位置性质，用缓存做增量解码，以及 RoPE 的开销。

# %%
import math
import time

import matplotlib.pyplot as plt
import torch

from grader import check, load

torch.manual_seed(0)  # every random draw in this notebook is seeded
gen = torch.Generator().manual_seed(0)

# %% [markdown] tags=["en"]
# ## 1. Spot the bugs (source document 000)
#
# The first source document's "Transformer with RoPE" (for its text classifier) has four problems an
# interviewer expects you to see:
#
# - `src = src + pos_encoding`: that is an **additive absolute** encoding, not RoPE. RoPE is never added
#   to anything: inside every attention layer it *rotates* the queries and the keys (not the values),
#   so that the score $q_m \cdot k_n$ depends only on $n - m$.
# - `nn.Embedding(d_model)` lacks an argument: an embedding needs `(num_embeddings, embedding_dim)`; the
#   code does not even run.
# - It uses the encoder-decoder `nn.Transformer` to classify a sentence: a classifier needs only an
#   encoder (plus pooling and a linear head).
# - `BCELoss` on unbounded outputs: BCELoss expects probabilities; use `BCEWithLogitsLoss` (or
#   cross-entropy for several classes) on raw logits.

# %% [markdown] tags=["zh"]
# ## 1. 找错（源文档 000）
#
# 第一份源文档里的“带 RoPE 的 Transformer”（用于它的文本分类器）有四个问题，面试官会希望你一眼看出来：
#
# - `src = src + pos_encoding`：这是**加性的绝对**位置编码，不是 RoPE。RoPE 从不加到任何东西上：
#   它在每个注意力层内部*旋转*查询和键（不旋转值），使分数 $q_m \cdot k_n$ 只依赖于 $n - m$。
# - `nn.Embedding(d_model)` 少了一个参数：嵌入层需要 `(num_embeddings, embedding_dim)`；这段代码根本跑不起来。
# - 用编码器-解码器结构的 `nn.Transformer` 做句子分类：分类器只需要编码器（再加上池化和一个线性分类头）。
# - 把 `BCELoss` 用在没有值域约束的输出上：BCELoss 要求输入是概率；应当在原始 logits 上使用
#   `BCEWithLogitsLoss`（多分类则用交叉熵）。

# %% [markdown] tags=["en"]
# ## 2. The model, step by step
#
# Notation: B batch, T new tokens, P cached tokens, H heads, $h_d = d/H$ the head size, V vocabulary.
#
# **Multi-head self-attention.** Project $x$ `[B, T, d]` to q, k, v (each `[B, T, d]`), split the
# features into H heads and move the head axis forward: `.view(B, T, H, hd).transpose(1, 2)` gives
# `[B, H, T, hd]`. From there on the heads are just a batch dimension. With RoPE the query and the key of
# a token at position m are rotated by $R(m)$ (half-split pairs, $\theta_i = \text{base}^{-2i/h_d}$):
#
# $$
# \text{score}(m, n) = \frac{\langle R(m) q_m,\ R(n) k_n\rangle}{\sqrt{h_d}}
#                    = \frac{\langle q_m,\ R(n-m)\, k_n\rangle}{\sqrt{h_d}} .
# $$
#
# The softmax over the keys gives the weights `[B, H, T, P + T]`; `weights @ v` mixes the values, the
# heads go back side by side (`transpose(1, 2).reshape(B, T, d)`) and `out_proj` mixes them.
#
# **Causal mask.** Token i may attend to tokens $j \le i$. With P cached tokens, new token i is token
# $P + i$ of the sequence: `torch.ones(T, P + T).tril(diagonal=P)` is the allowed set. Forbidden scores
# become $-\infty$ *before* the softmax, so their weights are exactly 0 and each row still sums to 1.
#
# **KV cache.** To generate token $t + 1$ we only need the new token's query; the keys and values of
# the earlier tokens do not change. So each layer keeps them, and a new token gets the position after
# the cached ones ($P, P+1, \ldots$), computes its own q, k, v, appends k and v, and attends to all.
# Because a key's rotation depends only on *its own* position, the cache stores keys already rotated.
#
# **Pre-norm block and model.** `x = x + attn(norm1(x))`, then `x = x + mlp(norm2(x))`: the residual
# stream is never normalised, only the input of each sublayer (GPT-2, Llama). The model is token
# embedding (+ a learned or sinusoidal table for those schemes) → blocks → final LayerNorm → LM head.

# %% [markdown] tags=["zh"]
# ## 2. 逐步搭建模型
#
# 记号：B 为批（batch）大小，T 为新 token 数，P 为已缓存的 token 数，H 为头数，$h_d = d/H$ 为每个头的维度，
# V 为词表大小。
#
# **多头自注意力。** 把 $x$ `[B, T, d]` 投影为 q、k、v（形状都是 `[B, T, d]`），把特征切分成 H 个头，
# 再把头的维度移到前面：`.view(B, T, H, hd).transpose(1, 2)` 得到 `[B, H, T, hd]`。此后，头就只是一个批维度。
# 使用 RoPE 时，位置 m 上 token 的查询和键都用 $R(m)$ 旋转
# （特征对采用前后半分（half-split）布局，$\theta_i = \text{base}^{-2i/h_d}$）：
#
# $$
# \text{score}(m, n) = \frac{\langle R(m) q_m,\ R(n) k_n\rangle}{\sqrt{h_d}}
#                    = \frac{\langle q_m,\ R(n-m)\, k_n\rangle}{\sqrt{h_d}} .
# $$
#
# 在键的维度上做 softmax 得到权重 `[B, H, T, P + T]`；`weights @ v` 对值做加权混合，
# 各个头再重新并排拼接回去（`transpose(1, 2).reshape(B, T, d)`），最后由 `out_proj` 把它们混合起来。
#
# **因果掩码。** token i 只能关注满足 $j \le i$ 的 token j。有 P 个缓存 token 时，新 token i 在整个序列中的
# 下标是 $P + i$（从 0 数起）：`torch.ones(T, P + T).tril(diagonal=P)` 就是允许关注的位置集合。
# 被禁止的分数在 softmax **之前**置为 $-\infty$，于是它们的权重恰好为 0，每行之和仍为 1。
#
# **键值缓存（KV cache）。** 生成第 $t + 1$ 个 token 时只需要新 token 的查询；之前那些 token 的键和值不会变。
# 所以每一层都把它们保存下来：新 token 的位置接在缓存之后（$P, P+1, \ldots$），它算出自己的 q、k、v，
# 把 k 和 v 追加到缓存里，再对所有 token 做注意力。由于键的旋转只依赖于*它自己的*位置，
# 缓存里存的可以直接是旋转后的键。
#
# **Pre-norm 块与整个模型。** 先 `x = x + attn(norm1(x))`，再 `x = x + mlp(norm2(x))`：
# 残差流本身从不归一化，只归一化每个子层的输入（GPT-2、Llama 都是这样）。
# 模型依次是：词向量（可学习和正弦两种方案再加上对应的位置表）→ 若干个块 → 最后的 LayerNorm → LM head。

# %% [markdown] tags=["en"]
# ## 3. Exercise: implement `exercises/transformer.py`
#
# The config dataclass `TransformerConfig` (vocab_size, d_model, n_heads, n_layers, max_len, pos_scheme
# in `"rope" | "sinusoidal" | "learned" | "none"`, causal, rope_base, dropout, mlp_ratio) is given. Write:
#
# - `MultiHeadSelfAttention(config)` with `q_proj, k_proj, v_proj, out_proj` (`Linear(d, d, bias=False)`);
#   `forward(x, positions=None, cache=None) -> (output [B, T, d], weights [B, H, T, P + T], (keys, values))`.
#   Rotate q and k with the module's `rotate` helper (it calls *your* `apply_rope` from `rope.py`).
# - `Block(config)` with `norm1, attn, norm2, mlp`; `forward(x, positions=None, cache=None)` returns
#   `(x, weights, cache)`.
# - `Transformer(config)` with `tok_emb`, `pos_emb` (learned only), `blocks`, `norm`, `lm_head`;
#   `forward(idx, positions=None, cache=None) -> (logits [B, T, V], cache per layer, weights per layer)`.
#   `ValueError` for an unknown scheme, an indivisible `d_model`, an odd head size with RoPE, or positions
#   past a learned/sinusoidal table.
#
# Keep these names: the checks load stored weights into your model. The docstring in the file lists
# the exact architecture.

# %% [markdown] tags=["zh"]
# ## 3. 练习：实现 `exercises/transformer.py`
#
# 配置数据类 `TransformerConfig` 已经给出，字段包括 vocab_size、d_model、n_heads、n_layers、max_len、
# pos_scheme（取值为 `"rope" | "sinusoidal" | "learned" | "none"`）、causal、rope_base、dropout、mlp_ratio。
# 你需要实现：
#
# - `MultiHeadSelfAttention(config)`，包含 `q_proj, k_proj, v_proj, out_proj`（`Linear(d, d, bias=False)`）；
#   `forward(x, positions=None, cache=None) -> (output [B, T, d], weights [B, H, T, P + T], (keys, values))`。
#   用模块自带的辅助方法 `rotate` 旋转 q 和 k（它会调用 `rope.py` 中*你的* `apply_rope`）。
# - `Block(config)`，包含 `norm1, attn, norm2, mlp`；`forward(x, positions=None, cache=None)` 返回
#   `(x, weights, cache)`。
# - `Transformer(config)`，包含 `tok_emb`、`pos_emb`（仅用于可学习位置嵌入）、`blocks`、`norm`、`lm_head`；
#   `forward(idx, positions=None, cache=None) -> (logits [B, T, V], cache per layer, weights per layer)`。
#   以下情况要抛出 `ValueError`：未知的位置编码方案、`d_model` 不能被头数整除、使用 RoPE 时头维度为奇数、
#   位置超出可学习或正弦位置表的长度。
#
# 请保持这些名称不变：检查项会把存储好的权重加载到你的模型里。文件中的 docstring 列出了确切的模型结构。
# 实现并保存后，运行下一个单元格评分。

# %%
check("transformer")

# %% [markdown] tags=["en"]
# ## 4. Your model at work
#
# The cells below import **your** `exercises/transformer.py` (re-run them after editing the file).
#
# ### 4.1 Attention maps: no positions, RoPE, RoPE + causal mask
#
# Feed the *same* token vector at all 24 positions to one attention layer whose keys equal its queries.
# Without positions every score is the same, so every row of the map is uniform: attention cannot tell
# the tokens apart. With RoPE the score of (m, n) is proportional to
# $\sum_i |q_i|^2 \cos((n - m)\theta_i)$ (a sum over the pairs): it depends only on $n - m$, so it is
# constant along each diagonal, and it peaks at $n = m$. The weights are its softmax per row, so the
# stripes repeat where the fastest pair comes back into phase ($\theta_0 = 1$ rad: every
# $2\pi \approx 6.3$ tokens). The causal mask zeroes everything above the diagonal.

# %% [markdown] tags=["zh"]
# ## 4. 用你的模型做实验
#
# 下面的单元格导入的是**你的** `exercises/transformer.py`（修改文件后要重新运行这些单元格）。
#
# ### 4.1 注意力图：无位置信息、RoPE、RoPE + 因果掩码
#
# 把*同一个* token 向量放在全部 24 个位置上，送入一个键与查询相同的注意力层。
# 没有位置信息时所有分数都相同，注意力图的每一行都是均匀分布：注意力无法区分这些 token。
# 使用 RoPE 时，(m, n) 的分数正比于 $\sum_i |q_i|^2 \cos((n - m)\theta_i)$（对所有特征对求和）：
# 它只依赖 $n - m$，因此沿每条对角线都是常数，并在 $n = m$ 处取得峰值。权重是对每一行的分数做 softmax 的结果，
# 所以每当转得最快的那一对重新回到同一相位，条纹就会重复一次
# （$\theta_0 = 1$ rad：每 $2\pi \approx 6.3$ 个 token 一次）。因果掩码把对角线以上的部分全部置零。

# %%
tf = load("transformer")
T, d = 24, 32
token = torch.randn(1, 1, d, generator=gen).expand(1, T, d)  # (1, T, d): one vector at every position
maps = {}
for title, scheme, causal in [
    ("none (no positions)", "none", False),
    ("rope", "rope", False),
    ("rope + causal mask", "rope", True),
]:
    cfg = tf.TransformerConfig(d_model=d, n_heads=2, pos_scheme=scheme, causal=causal)
    attn = tf.MultiHeadSelfAttention(cfg)
    with torch.no_grad():
        attn.q_proj.weight.normal_(0, 1.5 / math.sqrt(d), generator=torch.Generator().manual_seed(1))
        attn.k_proj.weight.copy_(attn.q_proj.weight)  # k = q: the score measures the rotation only
        _, weights, _ = attn(token)  # weights (1, H, T, T)
    maps[title] = weights[0, 0]  # head 0

fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
for ax, (title, w) in zip(axes, maps.items(), strict=True):
    im = ax.imshow(w, cmap="viridis", vmin=0)
    ax.set(title=title, xlabel="key n", ylabel="query m")
    fig.colorbar(im, ax=ax, fraction=0.046)
plt.tight_layout()
plt.show()

# %% [markdown] tags=["en"]
# ### 4.2 The relative property, at model level
#
# Shift every position by the same offset: with RoPE the attention weights of every layer, and so the
# logits, must not change (up to float32 rounding). With a learned absolute table they do.

# %% [markdown] tags=["zh"]
# ### 4.2 模型层面的相对位置性质
#
# 把所有位置平移同一个偏移量：使用 RoPE 时，每一层的注意力权重以及由此得到的 logits 都不应改变
# （至多相差 float32 的舍入误差）。而使用可学习的绝对位置表时，它们会变。

# %%
idx = torch.randint(0, 64, (2, 16), generator=gen)  # (B, T) token ids
for scheme in ("rope", "learned"):
    torch.manual_seed(0)
    model = tf.Transformer(tf.TransformerConfig(pos_scheme=scheme)).eval()
    with torch.no_grad():
        logits, _, weights = model(idx)  # positions 0 .. 15
        shifted, _, moved = model(idx, positions=torch.arange(16) + 200)  # positions 200 .. 215
    w_change = max((a - b).abs().max().item() for a, b in zip(weights, moved, strict=True))
    print(
        f"{scheme:8s} shift by 200: max weight change {w_change:.1e}, "
        f"max logit change {(logits - shifted).abs().max().item():.1e}"
    )

# %% [markdown] tags=["en"]
# ### 4.3 Incremental decoding with the KV cache
#
# Greedy generation two ways: (a) recompute the whole sequence for every new token, (b) feed the prompt
# once, then one token at a time with the cache. Same tokens, same logits; (b) does O(t) work per token
# instead of O(t^2).

# %% [markdown] tags=["zh"]
# ### 4.3 用键值缓存做增量解码
#
# 用两种方式做贪心生成：(a) 每生成一个新 token 都重新计算整个序列；(b) 先把提示词一次性送入，
# 之后借助缓存每次只送入一个 token。两者得到的 token 和 logits 都相同；(b) 每个 token 的计算量是 O(t)，
# 而不是 O(t^2)。

# %%
torch.manual_seed(0)
model = tf.Transformer(tf.TransformerConfig(n_layers=2, d_model=64, max_len=512)).eval()
prompt = torch.randint(0, 64, (1, 8), generator=gen)  # (1, 8)
n_new = 120


@torch.no_grad()
def generate_without_cache(model, idx, n):
    for _ in range(n):
        logits, _, _ = model(idx)  # the whole sequence, every time
        idx = torch.cat([idx, logits[:, -1:].argmax(-1)], dim=1)
    return idx


@torch.no_grad()
def generate_with_cache(model, idx, n):
    logits, cache, _ = model(idx)  # the prompt once
    out = [idx]
    for _ in range(n):
        nxt = logits[:, -1:].argmax(-1)  # (1, 1)
        out.append(nxt)
        logits, cache, _ = model(nxt, cache=cache)  # one token, positions continue after the cache
    return torch.cat(out, dim=1)


start = time.perf_counter()
slow = generate_without_cache(model, prompt, n_new)
middle = time.perf_counter()
fast = generate_with_cache(model, prompt, n_new)
end = time.perf_counter()
print("same tokens:", torch.equal(slow, fast))
print(f"without cache {middle - start:.2f} s, with cache {end - middle:.2f} s")
print("cached keys per layer:", tuple(model(fast[:, :-1])[1][0][0].shape), "(B, H, T, head_dim)")

# %% [markdown] tags=["en"]
# ### 4.4 What RoPE costs
#
# RoPE is element-wise: for q and k, $O(T \cdot d)$ multiply-adds per layer. Attention's scores and the
# weighted sum are two matrix products of $O(T^2 \cdot d)$. RoPE does not make attention cheaper (the
# source documents claim it does); it is a small extra next to attention, and the ratio shrinks as T
# grows.

# %% [markdown] tags=["zh"]
# ### 4.4 RoPE 的开销
#
# RoPE 是逐元素运算：对 q 和 k，每层需要 $O(T \cdot d)$ 次乘加。注意力的分数计算和加权求和是两次矩阵乘法，
# 复杂度为 $O(T^2 \cdot d)$。RoPE 并不会让注意力更省计算（源文档却声称会）；和注意力相比，
# 它只是一点额外的小开销，而且 T 越大，这个比例越小。

# %%
rope = load("rope")
for T in (128, 512, 2048):
    q = torch.randn(1, 4, T, 64, generator=gen)  # (B, H, T, hd)
    start = time.perf_counter()
    for _ in range(5):
        rope.apply_rope(q, torch.arange(T))
        rope.apply_rope(q, torch.arange(T))  # q and k
    t_rope = (time.perf_counter() - start) / 5
    start = time.perf_counter()
    for _ in range(5):
        torch.softmax(q @ q.transpose(-2, -1) / 8.0, dim=-1) @ q
    t_attn = (time.perf_counter() - start) / 5
    flops_rope, flops_attn = 2 * 3 * T * 64 * 4, 2 * 2 * T * T * 64 * 4
    print(
        f"T={T:5d}: RoPE {t_rope * 1e3:6.2f} ms, attention {t_attn * 1e3:7.2f} ms; "
        f"flops ratio attention/RoPE = {flops_attn / flops_rope:5.0f}"
    )

# %% [markdown] tags=["en"]
# ## 5. Interview questions
#
# **Why is RoPE applied to q and k only, never to v?**
# Position should decide *how much* token m attends to token n: that is the score, and rotating both q
# and k makes it $\langle q_m, R(n - m) k_n\rangle$, a function of the offset only. The values are the
# content being mixed; nothing would cancel a rotation of v, so each value would carry its absolute angle
# into the output and the relative property would be lost. (The checks test exactly this: a single
# token's output must not depend on its position.)
#
# **Why can the KV cache store the keys already rotated?**
# $R(n) k_n$ depends only on the key's own position n, which never changes once the token is written.
# A new query at position m is rotated by $R(m)$ and meets the stored $R(n) k_n$: the product is the
# same as in the full pass. So each key is rotated once, and new tokens must get positions after the
# cached ones (restarting at 0 would give every new token the angle of token 0).
#
# **What does RoPE cost compared with attention?**
# $O(T \cdot d)$ element-wise work per layer (a few multiply-adds per feature of q and k, no
# parameters), against $O(T^2 \cdot d)$ for attention. It does not reduce attention's complexity; it is
# cheap, and fused kernels apply it to q and k in one pass at memory bandwidth.
#
# **Why pre-norm?**
# With `x + f(norm(x))` the residual stream is an identity path from the embeddings to the head, so
# gradients reach early layers unchanged and deep stacks train without warm-up tricks; post-norm
# (`norm(x + f(x))`) normalises that path at every layer.
#
# **Why mask with $-\infty$ before the softmax?**
# $e^{-\infty} = 0$, so forbidden keys get weight exactly 0 and each row still sums to 1; zeroing weights
# after the softmax would leave rows that no longer sum to 1.

# %% [markdown] tags=["zh"]
# ## 5. 面试题
#
# **为什么 RoPE 只作用于 q 和 k，而从不作用于 v？**
# 位置应当决定 token m 对 token n 关注*多少*，这就是分数；同时旋转 q 和 k，分数就变成
# $\langle q_m, R(n - m) k_n\rangle$，只是偏移量的函数。值是被混合的内容，对 v 的旋转没有任何东西来抵消，
# 于是每个值都会把自己的绝对角度带进输出，相对位置性质也就丢了。
# （检查项测的正是这一点：单个 token 的输出不能依赖于它的位置。）
#
# **为什么键值缓存可以直接存储旋转后的键？**
# $R(n) k_n$ 只依赖键自己的位置 n，而 token 一旦写入，这个位置就不会再变。位置 m 上的新查询用 $R(m)$ 旋转后，
# 与缓存中的 $R(n) k_n$ 相乘，结果与完整前向计算中的完全相同。因此每个键只需旋转一次；
# 新 token 的位置必须接在缓存的 token 之后（如果从 0 重新开始，每个新 token 都会得到 token 0 的角度）。
#
# **RoPE 的开销与注意力相比如何？**
# 每层 $O(T \cdot d)$ 的逐元素计算（对 q 和 k 的每个特征做几次乘加，没有参数），而注意力是 $O(T^2 \cdot d)$。
# RoPE 不会降低注意力的复杂度；它只是很便宜，融合算子（fused kernel）可以一次遍历就完成 q 和 k 的旋转，
# 速度只受内存带宽限制。
#
# **为什么用 Pre-norm？**
# 在 `x + f(norm(x))` 中，残差流是一条从嵌入直通输出头的恒等通路，梯度可以原样传到浅层，
# 深层网络不需要学习率预热（warm-up）之类的技巧也能训练；而 post-norm（`norm(x + f(x))`）
# 在每一层都会对这条通路做归一化。
#
# **为什么在 softmax 之前用 $-\infty$ 做掩码？**
# $e^{-\infty} = 0$，所以被禁止的键权重恰好为 0，每行之和仍为 1；如果在 softmax 之后才把权重置零，
# 各行之和就不再是 1 了。

# %% [markdown] tags=["en"]
# ## 6. Stuck, done, or curious?
#
# - `ropekit hint transformer` shows the next hint level; `ropekit solution transformer` shows the
#   reference (try the hints first); `ropekit` lists every exercise and your progress.

# %% [markdown] tags=["zh"]
# ## 6. 卡住了、做完了，还是想继续深入？
#
# - `ropekit hint transformer` 显示下一级提示；`ropekit solution transformer` 显示参考答案（先试试提示）；
#   `ropekit` 列出所有练习以及你的进度。
