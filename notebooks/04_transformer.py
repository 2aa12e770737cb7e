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

# %% [markdown]
# # 04 — A minimal Transformer with RoPE, a causal mask and a KV cache
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - **C1** Implement a simple Transformer that uses RoPE. / 实现一个使用 RoPE 的简单 Transformer。
# - Why is RoPE applied to q and k only, never to v? / 为什么 RoPE 只作用于 q 和 k，而不作用于 v？
# - Why can a KV cache store the keys already rotated? / 为什么 KV cache 可以直接缓存旋转后的 k？
# - What does RoPE cost compared with attention? / RoPE 的计算量与注意力相比如何？
#
# **What you will do / 你要做的事**
#
# 1. Spot what is wrong with the source document's "RoPE Transformer".
# 2. Build the model step by step: multi-head attention with RoPE, the causal mask, the KV cache, the
#    pre-norm block, the model with a selectable positional scheme.
# 3. Implement it in `exercises/transformer.py` and grade it here.
# 4. Use *your* model: attention maps with and without RoPE and with the causal mask, the relative
#    property at model level, incremental decoding with the cache, and the cost of RoPE.

# %%
import math
import time

import matplotlib.pyplot as plt
import torch

from grader import check, load

torch.manual_seed(0)  # every random draw in this notebook is seeded
gen = torch.Generator().manual_seed(0)

# %% [markdown]
# ## 1. Spot the bugs (source document 000) / 找错
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
#
# 源文档 000 的问题：`src + pos_encoding` 是加性的绝对位置编码而不是 RoPE（RoPE 在注意力内部旋转 q 和 k，
# 从不加到嵌入上，也不作用于 v）；`nn.Embedding(d_model)` 少了一个参数，代码根本跑不起来；分类任务用了
# 编码器-解码器结构的 `nn.Transformer`；`BCELoss` 用在未经 sigmoid 的输出上。

# %% [markdown]
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
#
# 多头注意力：投影后按特征切分为 H 个头并把头的维度移到前面 `[B, H, T, hd]`，头就是一个批维度。RoPE 在
# 点积之前分别旋转 q 和 k。因果掩码：第 i 个 token 只能看 $j \le i$，在 softmax 之前把禁止位置设为 $-\infty$。
# KV cache：新 token 的位置接在缓存之后，k 只依赖自身位置，所以可以缓存旋转后的 k。Pre-norm：只对子层输入
# 做 LayerNorm，残差流本身不归一化。

# %% [markdown]
# ## 3. Exercise: implement `exercises/transformer.py` / 练习
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
#
# 练习：在 `exercises/transformer.py` 中实现注意力、Block 和 Transformer
# （名称保持不变，检查会加载存储的权重），保存后运行下一个单元格评分。

# %%
check("transformer")

# %% [markdown]
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

# %% [markdown]
# ### 4.2 The relative property, at model level
#
# Shift every position by the same offset: with RoPE the attention weights of every layer, and so the
# logits, must not change (up to float32 rounding). With a learned absolute table they do.

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

# %% [markdown]
# ### 4.3 Incremental decoding with the KV cache
#
# Greedy generation two ways: (a) recompute the whole sequence for every new token, (b) feed the prompt
# once, then one token at a time with the cache. Same tokens, same logits; (b) does O(t) work per token
# instead of O(t^2).

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

# %% [markdown]
# ### 4.4 What RoPE costs
#
# RoPE is element-wise: for q and k, $O(T \cdot d)$ multiply-adds per layer. Attention's scores and the
# weighted sum are two matrix products of $O(T^2 \cdot d)$. RoPE does not make attention cheaper (the
# source documents claim it does); it is a small extra next to attention, and the ratio shrinks as T
# grows.

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

# %% [markdown]
# ## 5. Interview questions / 面试题
#
# **Why is RoPE applied to q and k only, never to v? / 为什么 RoPE 只作用于 q 和 k？**
# Position should decide *how much* token m attends to token n: that is the score, and rotating both q
# and k makes it $\langle q_m, R(n - m) k_n\rangle$, a function of the offset only. The values are the
# content being mixed; nothing would cancel a rotation of v, so each value would carry its absolute angle
# into the output and the relative property would be lost. (The checks test exactly this: a single
# token's output must not depend on its position.)
# 位置应当决定 m 对 n 的注意力大小，即分数；同时旋转 q 和 k 使分数只依赖 $n-m$。v 是被加权混合的内容，
# 旋转 v 不会被抵消，会把绝对位置带进输出，破坏相对性。
#
# **Why can the KV cache store the keys already rotated? / 为什么 KV cache 可以缓存旋转后的 k？**
# $R(n) k_n$ depends only on the key's own position n, which never changes once the token is written.
# A new query at position m is rotated by $R(m)$ and meets the stored $R(n) k_n$: the product is the
# same as in the full pass. So each key is rotated once, and new tokens must get positions after the
# cached ones (restarting at 0 would give every new token the angle of token 0).
# $R(n)k_n$ 只依赖 key 自己的位置 n，一旦写入就不会变；新 query 用 $R(m)$ 旋转后与缓存的 $R(n)k_n$ 相乘，
# 结果与完整前向相同。因此每个 k 只需旋转一次；新 token 的位置必须接在缓存之后，而不是从 0 重新开始。
#
# **What does RoPE cost compared with attention? / RoPE 的代价与注意力相比？**
# $O(T \cdot d)$ element-wise work per layer (a few multiply-adds per feature of q and k, no
# parameters), against $O(T^2 \cdot d)$ for attention. It does not reduce attention's complexity; it is
# cheap, and fused kernels apply it to q and k in one pass at memory bandwidth.
# 每层 $O(T\cdot d)$ 的逐元素计算、没有参数；注意力是 $O(T^2\cdot d)$。RoPE 不降低复杂度，只是很便宜。
#
# **Why pre-norm? / 为什么用 Pre-norm？**
# With `x + f(norm(x))` the residual stream is an identity path from the embeddings to the head, so
# gradients reach early layers unchanged and deep stacks train without warm-up tricks; post-norm
# (`norm(x + f(x))`) normalises that path at every layer.
# Pre-norm 保留了从嵌入到输出的恒等残差通路，梯度可以直接传到浅层，深层网络更容易训练。
#
# **Why mask with $-\infty$ before the softmax? / 为什么在 softmax 之前用 $-\infty$ 掩码？**
# $e^{-\infty} = 0$, so forbidden keys get weight exactly 0 and each row still sums to 1; zeroing weights
# after the softmax would leave rows that no longer sum to 1.
# 在 softmax 之前置为 $-\infty$，被禁止的位置权重恰好为 0 且每行和仍为 1。

# %% [markdown]
# ## 6. Stuck, done, or curious? / 下一步
#
# - `ropekit hint transformer` shows the next hint level; `ropekit solution transformer` shows the
#   reference (try the hints first); `ropekit` lists every exercise and your progress.
#
# 卡住了用 `ropekit hint transformer` 看提示，`ropekit solution transformer` 看参考答案。
