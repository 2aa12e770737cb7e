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
# # 08 — RoPE in production: the KV cache and Llama's attention
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - What does a serving model's KV cache hold under RoPE, and why can a cached key be moved to another
#   position without recomputing it? / 使用 RoPE 时键值缓存里存的是什么？为什么已缓存的键可以不重新计算就移到
#   另一个位置？
# - How does a chat that outgrows its context keep going (StreamingLLM's attention sinks, llama.cpp's
#   context shift)? / 对话超过上下文长度后如何继续（StreamingLLM 的注意力汇聚点、llama.cpp 的上下文平移）？
# - Dynamic NTK changes the base with the length: why are keys cached under the old base wrong, and what
#   does fixing them cost? / 动态 NTK 随长度改变 base：为什么按旧 base 缓存的键是错的？
#   修正它们要付出什么代价？
# - Where does RoPE sit in grouped-query attention, what does the cache hold, and how do left-padded
#   batches, sliding windows and packed documents change the positions and the mask? / 分组查询注意力中
#   RoPE 放在哪里、缓存里存什么？左填充、滑动窗口和序列打包如何改变位置与掩码？
# - Why does DeepSeek-V2's latent attention need a decoupled RoPE? / DeepSeek-V2 的潜在注意力为什么需要
#   解耦的 RoPE？
# - How do ALiBi, xPos and NoPE put position in, and what do they miss? / ALiBi、xPos、NoPE
#   如何引入位置信息，各自缺了什么？
# - Derive RoPE: why must an encoding whose scores depend on m − n only be a rotation? / 推导 RoPE：
#   为什么分数只依赖 m − n 的编码必然是旋转？
# - Why are RoPE's angles computed in float32, what breaks near position $10^6$ or in bfloat16, and how
#   large must the base be for a context length? / 为什么 RoPE 的角度要用 float32 计算？在位置 $10^6$ 附近或
#   bfloat16 下会出什么问题？给定上下文长度，base 至少要多大？
#
# **What you will do / 你要做的事**: implement `exercises/rope_cache.py` (four functions), then use them
# to watch a cache being moved, evicted and re-rotated; then `exercises/llama_attention.py`, one Llama
# attention layer graded against Hugging Face's; then `exercises/mla_rope.py`, DeepSeek-V2's latent
# attention; `exercises/alternatives.py` (ALiBi, xPos, NoPE); `exercises/derive_rope.py`, the
# derivation step by step; and `exercises/rope_precision.py`, precision and the base. / 实现
# `exercises/rope_cache.py`
# 的四个函数，
# 然后用它们观察缓存的平移、淘汰与重新旋转；再实现 `exercises/llama_attention.py`：一个以 Hugging Face
# 为准评分的 Llama 注意力层；再实现 `exercises/mla_rope.py`：DeepSeek-V2 的潜在注意力；最后是
# `exercises/alternatives.py`（ALiBi、xPos、NoPE）、`exercises/derive_rope.py`（逐步推导 RoPE）和
# `exercises/rope_precision.py`（数值精度与 base）。

# %%
import cmath

import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw in this notebook comes from a seeded generator

# %% [markdown]
# ## 1. The cache holds rotated keys, and rotations compose / 缓存里是旋转后的键，旋转可以叠加
#
# Each layer caches, for every token seen so far, its value $v_m$ and its key **already rotated**,
# $R(m)\,k_m$: a key's rotation depends only on its own position, so it is computed once. The pre-RoPE
# key is gone. Because the angles of one pair add, $R(m+\Delta) = R(\Delta)\,R(m)$: a cached key moves from
# position $m$ to $m+\Delta$ by **one more rotation**, without its pre-RoPE value and without re-running
# the layer. Values are never rotated, so they never move.
#
# 每一层为已见过的每个词缓存其值 $v_m$ 和**已经旋转过的**键 $R(m)\,k_m$（键的旋转只取决于它自己的位置，
# 只需算一次），旋转前的键不再保存。同一对特征的角度相加，$R(m+\Delta) = R(\Delta)R(m)$：已缓存的键
# 再旋转一次就从位置 $m$ 移到 $m+\Delta$，不需要旋转前的键，也不需要重新计算这一层。值从不旋转，所以不用移动。
#
# Two places use it / 两个用途:
#
# - **Context shift** (llama.cpp): when the context is full, drop the oldest tokens and rotate every
#   remaining key back by the number dropped. / **上下文平移**：上下文满时丢掉最早的词，其余键整体往回旋转。
# - **Attention sinks** (StreamingLLM, Xiao et al. 2023, arXiv 2309.17453): keep the first few tokens
#   (the model parks attention on them; dropping them breaks generation) plus a window of recent
#   tokens, and give the kept tokens their positions *inside the cache*, 0, 1, 2, ... — the recent keys
#   move back by the number of evicted tokens. / **注意力汇聚点**：保留最前面几个词（模型会把多余的注意力
#   放在它们身上，丢掉会破坏生成）和最近的一段窗口，并按缓存内的位置 0, 1, 2, ... 重新编号：
#   最近的键往回移动被淘汰的词数。
#
# **Exercise / 练习**: `shift_keys`, `evict_middle`, `dynamic_ntk_base`, `rerotate_keys` in
# `exercises/rope_cache.py`; save, then run the next cell. / 在 `exercises/rope_cache.py` 中实现这四个函数，
# 保存后运行下一个单元格评分。

# %%
check("rope_cache")

# %% [markdown]
# The cells below import **your** `exercises/rope_cache.py` and `exercises/rope.py` (re-run them after
# editing). First the composition law, measured: a key cached at 40 and moved by 1000 against the same
# key rotated at 1040 from the start. / 下面的单元格使用**你的**实现。先测量叠加律：在位置 40 缓存、再移动
# 1000 的键，与一开始就在 1040 旋转的键相比。

# %%
rope, cache = load("rope"), load("rope_cache")
k0 = torch.randn(1, 2, 1, 64, generator=gen, dtype=torch.float64)  # one pre-RoPE key, 2 KV heads
moved = cache.shift_keys(rope.apply_rope(k0, torch.tensor([40])), 1000)
direct = rope.apply_rope(k0, torch.tensor([1040]))
print(f"largest difference: {float((moved - direct).abs().max()):.2e} (float64)")

# %% [markdown]
# ## 2. Attention sinks: a query sees the evicted cache as a fresh one / 淘汰后的缓存与新缓存等价
#
# A cache of 24 tokens keeps 4 sinks and the last 8. The next query, at position 12 (the length of the
# kept cache), scores the kept keys exactly as it would score those 12 tokens rotated at 0 .. 11 from
# the start: the scores depend only on offsets inside the cache. / 24 个词的缓存保留 4 个汇聚点和最后 8 个。
# 下一个查询位于位置 12，它对保留下来的键的打分，与这 12 个词一开始就在 0..11 旋转时完全相同。

# %%
P, n_sink, n_recent, d = 24, 4, 8, 64
keys0 = torch.randn(1, 1, P, d, generator=gen, dtype=torch.float64)
values = torch.randn(1, 1, P, d, generator=gen, dtype=torch.float64)
k_cache = rope.apply_rope(keys0, torch.arange(P))
k_kept, v_kept = cache.evict_middle(k_cache, values, n_sink, n_recent)
kept0 = torch.cat((keys0[..., :n_sink, :], keys0[..., P - n_recent :, :]), dim=-2)
q = rope.apply_rope(torch.randn(1, 1, 1, d, generator=gen, dtype=torch.float64), torch.tensor([12]))
evicted_scores = (q @ k_kept.transpose(-1, -2)).flatten()
fresh_scores = (q @ rope.apply_rope(kept0, torch.arange(12)).transpose(-1, -2)).flatten()
not_moved = torch.cat((k_cache[..., :n_sink, :], k_cache[..., P - n_recent :, :]), dim=-2)
stale_scores = (q @ not_moved.transpose(-1, -2)).flatten()
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(fresh_scores.numpy(), "o-", label="fresh cache, positions 0 .. 11")
ax.plot(evicted_scores.numpy(), "x", ms=9, label="evict_middle (recent keys moved back)")
ax.plot(stale_scores.numpy(), ".--", label="kept but not moved (stale positions)")
ax.set(xlabel="kept token", ylabel="score q·k", title="one query against the kept cache")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 3. Dynamic NTK and stale keys / 动态 NTK 与过期的键
#
# Hugging Face's `dynamic` rope type keeps the trained base up to $L$ = `max_position_embeddings`, then
# grows it with the current length $s$:
# $\text{base}' = \text{base}\,(f\,s/L - (f-1))^{d/(d-2)}$. The base changes with every new token past
# $L$. Keys cached earlier were rotated with smaller bases; new queries use the new one. The score of
# query $n$ and key $m$ is then no longer a function of $n - m$: the cached keys are **wrong**, not
# merely old. / 超过训练长度 $L$ 后，base 随当前长度 $s$ 增大，而且每生成一个新词都会变。之前缓存的键用的是
# 更小的 base，新的查询用的是新 base：打分不再只依赖 $n-m$，缓存的键是**错的**，而不只是旧的。

# %%
L, factor, d = 4096, 2.0, 128
lengths = np.arange(1, 4 * L, 64)
bases = [cache.dynamic_ntk_base(10000.0, d, int(s), L, factor) for s in lengths]
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(lengths, bases)
ax.axvline(L, color="gray", lw=0.8, ls=":")
ax.set(xlabel="current length s", ylabel="base'", title=f"Dynamic NTK, L = {L}, factor = {factor:g}, d = {d}")
plt.show()

# %% [markdown]
# Measure the damage: a key cached at position $m$ when the length was $L$ (base 10 000), read by the
# query at $n = m + 10$ once the length is $2L$ (base about 30 500), against the same key rotated with
# the new base. `rerotate_keys` mends it: $R_{\text{new}}(m)\,R_{\text{old}}(-m)$. / 测量误差：长度为 $L$
# 时在位置 $m$ 缓存的键（base 10 000），在长度 $2L$ 时被位置 $n=m+10$ 的查询读取；`rerotate_keys` 修正它。

# %%
old, new = 10000.0, cache.dynamic_ntk_base(10000.0, d, 2 * L, L, factor)
q0 = torch.randn(1, 1, 1, d, generator=gen, dtype=torch.float64)
key0 = torch.randn(1, 1, 1, d, generator=gen, dtype=torch.float64)
rows = []
for m in (0, 100, 1000, 4000):
    qn = rope.apply_rope(q0, torch.tensor([m + 10]), base=new)
    stale = rope.apply_rope(key0, torch.tensor([m]), base=old)
    right = rope.apply_rope(key0, torch.tensor([m]), base=new)
    mended = cache.rerotate_keys(stale, torch.tensor([m]), old, new)
    rows.append((m, float(qn @ right.mT), float(qn @ stale.mT), float(qn @ mended.mT)))
print(f"new base {new:.0f}")
print(f"{'key at m':>9} {'right score':>12} {'stale score':>12} {'re-rotated':>11}")
for m, right, stale, mended in rows:
    print(f"{m:>9} {right:>12.4f} {stale:>12.4f} {mended:>11.4f}")

# %% [markdown]
# At $m = 0$ nothing is rotated and the stale key is right; the error grows with $m$ because the
# difference of the angles, $m\,(\theta_i - \theta'_i)$, grows with $m$.
#
# **What re-rotating costs / 重新旋转的代价.** One more rotation of every cached key in every layer and KV
# head: for Llama-3-8B (32 layers, 8 KV heads, $d$ = 128, bf16) with 32 768 cached tokens that is
# reading and writing the whole key cache, 2 GiB each way — and Dynamic NTK changes the base at **every**
# new token past $L$, so each decoding step would pay it: twice the key-cache traffic that the attention
# itself reads. That is why Hugging Face keeps the stale keys (transformers issue #25104:
# the exact fix was judged too slow) and why static scalings (PI, YaRN, Llama 3.1, notebook 06) are what
# serving systems use: their frequencies do not change with the length.
# 每层、每个 KV 头的所有缓存键都要再旋转一次：以 Llama-3-8B（32 层、8 个 KV 头、$d$=128、bf16）
# 缓存 32 768 个词为例，需要把整个键缓存读写一遍（各 2 GiB）；而动态 NTK 在超过 $L$ 后每生成一个词
# 就改变一次 base，所以每一步解码都要付出这个代价：注意力本身读取键缓存流量的两倍。
# 这就是 Hugging Face 保留过期键（issue #25104）、而推理系统采用静态缩放（PI、YaRN、Llama 3.1，
# 见第 06 节）的原因：它们的频率不随长度变化。

# %%
layers, kv_heads, head_dim, tokens, bytes_per = 32, 8, 128, 32768, 2
key_cache = layers * kv_heads * head_dim * tokens * bytes_per
gib = key_cache / 2**30
print(f"key cache: {gib:.1f} GiB; re-rotating it reads and writes it: {2 * gib:.1f} GiB of traffic")

# %% [markdown]
# ## 4. Llama's attention as a server runs it / 生产中的 Llama 注意力
#
# **Grouped-query attention** (GQA, Ainslie et al. 2023, arXiv 2305.13245) gives $H$ query heads but
# only $H_{kv}$ key/value heads: query head $h$ reads KV head $h // (H/H_{kv})$. RoPE rotates the
# $H_{kv}$ key heads **before** they are repeated, and the cache keeps $H_{kv}$ heads: that is the whole
# point, the cache is $H/H_{kv}$ times smaller. Rotating after repeating gives the same scores (every
# copy gets the same rotation) but caches $H$ heads. For a Llama-3-8B-like model (32 layers, 32 query
# heads, 8 KV heads, $d = 128$, bf16) one token costs $2 \cdot 32 \cdot 8 \cdot 128 \cdot 2$ bytes =
# 128 KiB of cache, against 512 KiB with 32 KV heads. / **分组查询注意力**：$H$ 个查询头共享 $H_{kv}$ 个
# 键值头，查询头 $h$ 读取键值头 $h // (H/H_{kv})$。RoPE 在**复制键值头之前**旋转这 $H_{kv}$ 个键头，缓存也只存
# $H_{kv}$ 个头——这正是 GQA 的意义：缓存小 $H/H_{kv}$ 倍。
#
# Three more things a serving stack gets right / 推理框架还要处理好三件事:
#
# - **Left padding**: a batch of prompts of different lengths is padded on the left, so each row's first
#   real token must still be at position 0: positions come from the attention mask, not from the column.
#   / **左填充**：每行第一个真实的词仍在位置 0，位置由注意力掩码算出，而不是列号。
# - **Sliding window** (Mistral, arXiv 2310.06825): a token sees itself and the $W-1$ tokens before it,
#   counted on cache indices. / **滑动窗口**：每个词只看到自己和之前的 $W-1$ 个词（按缓存下标计）。
# - **Packing** documents into one row for training: positions restart per document and a block-diagonal
#   causal mask keeps them apart; each document's outputs then equal running it alone.
#   / **序列打包**：每篇文档的位置从 0 重新开始，块对角的因果掩码把文档隔开。
#
# **Exercise / 练习**: the five functions of `exercises/llama_attention.py`. The hidden checks compare
# your layer with Hugging Face transformers' own `LlamaAttention` and `MistralAttention` on the same
# weights (stored outputs: no download). / 实现 `exercises/llama_attention.py` 的五个函数；隐藏检查把你的
# 注意力层与 Hugging Face 的 `LlamaAttention`、`MistralAttention` 在相同权重下的输出逐一比较。

# %%
check("llama_attention")

# %% [markdown]
# With **your** layer: 12 tokens in one call against 8 tokens then 4 decode steps through the cache,
# a left-padded row against the same prompt alone, and three packed documents against each alone.
# / 用**你的**实现验证：一次处理 12 个词与先处理 8 个、再逐个解码 4 个；左填充的行与单独的同一提示；
# 打包的三篇文档与分别单独运行。

# %%
llama = load("llama_attention")
D, H, H_kv, hd = 32, 8, 2, 8
w = {
    name: torch.randn(*shape, generator=gen, dtype=torch.float64) / shape[1] ** 0.5
    for name, shape in (
        ("q_proj", (H * hd, D)),
        ("k_proj", (H_kv * hd, D)),
        ("v_proj", (H_kv * hd, D)),
        ("o_proj", (D, H * hd)),
    )
}
x = torch.randn(1, 12, D, generator=gen, dtype=torch.float64)
whole, (k_all, _) = llama.llama_attention(x, w, H, H_kv)
steps, past = [], None
out, past = llama.llama_attention(x[:, :8], w, H, H_kv)
steps.append(out)
for t in range(8, 12):
    out, past = llama.llama_attention(x[:, t : t + 1], w, H, H_kv, past_kv=past)
    steps.append(out)
print(
    f"prefill vs prefill + 4 decode steps: {float((whole - torch.cat(steps, 1)).abs().max()):.1e}; "
    f"cache {tuple(past[0].shape)} = [B, H_kv, P, d] ({H_kv} KV heads, not {H})"
)

prompt = x[:, :5]
padded = torch.cat((torch.zeros(1, 3, D, dtype=torch.float64), prompt), dim=1)
mask = torch.tensor([[0, 0, 0, 1, 1, 1, 1, 1]])
alone, _ = llama.llama_attention(prompt, w, H, H_kv)
out, _ = llama.llama_attention(
    padded, w, H, H_kv, attention_mask=mask, position_ids=llama.left_padding_position_ids(mask)
)
print(f"left-padded row vs the prompt alone (real tokens): {float((out[:, 3:] - alone).abs().max()):.1e}")

lengths = [5, 3, 4]
packed, _ = llama.llama_attention(
    x,
    w,
    H,
    H_kv,
    position_ids=llama.packed_position_ids(lengths),
    attention_mask=llama.packed_causal_mask(lengths)[None, None],
)
alone = torch.cat([llama.llama_attention(doc, w, H, H_kv)[0] for doc in x.split(lengths, dim=1)], dim=1)
print(f"packed documents vs each alone: {float((packed - alone).abs().max()):.1e}")

# %% [markdown]
# The masks, as pictures: the causal mask of the packed row (three blocks), and a window of 4 over 12
# tokens. / 掩码的样子：打包后一行的块对角因果掩码，以及 12 个词上宽度为 4 的滑动窗口。

# %%
i, j = torch.arange(12)[:, None], torch.arange(12)[None, :]
window = (j <= i) & (j > i - 4)
fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
for ax, m, title in (
    (axes[0], llama.packed_causal_mask(lengths), "packed: documents of 5, 3, 4"),
    (axes[1], window, "sliding window W = 4"),
):
    ax.imshow(m.numpy(), cmap="Greys")
    ax.set(title=title, xlabel="key j", ylabel="query i")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. DeepSeek-V2's latent attention and its decoupled RoPE / DeepSeek-V2 的潜在注意力与解耦 RoPE
#
# MLA (DeepSeek-V2, arXiv 2405.04434, §2.1) caches one latent $c^{KV}_t = W^{DKV} h_t$ per token and
# rebuilds every head's key $k^C_{t,i} = W^{UK}_i c^{KV}_t$ from it. Better still, the content score
# $q^{C\top}_i k^C_i = c^{Q\top} (W^{UQ\top}_i W^{UK}_i)\, c^{KV}$: the two up-projections **absorb** into
# one fixed matrix per head, and the cached latents are scored directly. RoPE on the content parts
# puts $R(n-m)$ between $W^{UQ\top}_i$ and $W^{UK}_i$ — a matrix that depends on the two positions — so
# nothing can be precomputed. DeepSeek-V2 therefore adds a small **decoupled** rotary part: per-head
# rotary queries $q^R_i$ and **one** rotary key $k^R_t = \mathrm{RoPE}(W^{KR} h_t)$ shared by all heads,
# cached next to the latent. / MLA 每个词只缓存一个潜在向量；内容部分的两个上投影矩阵可以**吸收**成每个头
# 一个固定矩阵。若对内容部分做 RoPE，$R(n-m)$ 会夹在两个矩阵之间，无法预先相乘；所以 DeepSeek-V2 另加一小段
# **解耦**的旋转部分：每个头的旋转查询和所有头共享的**一个**旋转键，与潜在向量一起缓存。
#
# **Exercise / 练习**: the six functions of `exercises/mla_rope.py`. / 实现 `exercises/mla_rope.py`
# 的六个函数。

# %%
check("mla_rope")

# %% [markdown]
# With **your** functions: the absorption gap against the offset $n - m$ (zero only at offset 0), the
# absorbed layer against the one that rebuilds keys, and the cache per token. / 用**你的**实现：吸收误差随
# 偏移 $n-m$ 的变化（只有偏移为 0 时为零）、吸收版与重建键的版本对比、每个词的缓存大小。

# %%
mla = load("mla_rope")
D, H, d_h, d_r, d_q, d_c = 32, 4, 16, 8, 24, 20
shapes = {
    "w_dq": (d_q, D),
    "w_uq": (H * d_h, d_q),
    "w_qr": (H * d_r, d_q),
    "w_dkv": (d_c, D),
    "w_uk": (H * d_h, d_c),
    "w_uv": (H * d_h, d_c),
    "w_kr": (d_r, D),
    "w_o": (D, H * d_h),
}
w = {n: torch.randn(*s, generator=gen, dtype=torch.float64) / s[1] ** 0.5 for n, s in shapes.items()}
c_q = torch.randn(d_q, generator=gen, dtype=torch.float64)
c_kv = torch.randn(d_c, generator=gen, dtype=torch.float64)
offsets = range(0, 65)
gaps = [mla.rope_absorption_gap(c_q, c_kv, w["w_uq"], w["w_uk"], H, 100, 100 + r) for r in offsets]
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.plot(list(offsets), gaps, ".-")
ax.set(
    xlabel="offset n - m", ylabel="max |exact - absorbed|", title="RoPE on the content part breaks absorption"
)
plt.show()

x = torch.randn(2, 9, D, generator=gen, dtype=torch.float64)
out, (lat, k_r) = mla.mla_attention(x, w, H)
absorbed, _ = mla.mla_attention_absorbed(x[:, 6:], w, H, past=mla.mla_attention(x[:, :6], w, H)[1])
print(
    f"absorbed decode vs rebuilt keys: {float((absorbed - out[:, 6:]).abs().max()):.1e}; "
    f"cache per token: c_kv {lat.shape[-1]} + k_rope {k_r.shape[-1]} numbers"
)
mha, latent = mla.kv_cache_per_token(128, 128, 512, 64)
print(f"DeepSeek-V2 per token and layer: MHA {mha} numbers, MLA {latent} ({mha / latent:.1f}x smaller)")

# %% [markdown]
# ## 6. The alternatives: ALiBi, xPos, NoPE / 替代方案：ALiBi、xPos、NoPE
#
# - **ALiBi** (Press et al., arXiv 2108.12409) adds no embedding: head $h$ subtracts $m_h\,(i-j)$ from its
#   scores. Its slopes form a geometric sequence $2^{-8/H}, 2^{-16/H}, \dots$; for a head count that is not a
#   power of two its code takes the slopes of the power below and fills in every other slope of twice
#   that power. / **ALiBi** 不加任何位置向量，每个头按距离线性扣分；斜率为几何级数，
#   头数不是 2 的幂时按论文代码补齐。
# - **xPos** (Sun et al., arXiv 2212.10554) is RoPE whose pair $i$ also decays as
#   $\zeta_i^{(m-n)/512}$, $\zeta_i = (2i/d + 0.4)/1.4$: the fast pairs, whose RoPE scores oscillate most
#   at long range, are damped most. / **xPos**：在 RoPE 上给每对特征加随距离衰减的系数，
#   转得快的对衰减最多。
# - **NoPE**: a causal decoder without any encoding still knows positions, since token $t$ averages over
#   exactly $t+1$ tokens. / **NoPE**：没有位置编码的因果解码器仍能知道位置，
#   因为第 $t$ 个词恰好平均 $t+1$ 个词。
#
# **Exercise / 练习**: the five functions of `exercises/alternatives.py`; notebook 05's ablation (`python
# scripts/ablation.py`) then trains the classifier with ALiBi too, and says honestly what it shows.
# / 实现 `exercises/alternatives.py` 的五个函数；第 05 节的消融实验随后也用 ALiBi 训练分类器。

# %%
check("alternatives")

# %%
alt = load("alternatives")
print("slopes, 8 heads: ", [f"{m:.4g}" for m in alt.alibi_slopes(8).tolist()])
print("slopes, 12 heads:", [f"{m:.4g}" for m in alt.alibi_slopes(12).tolist()])
print("NoPE signal 1/(t+1), t = 0..5:", [f"{v:.3f}" for v in alt.nope_position_signal(6).tolist()])
distance = torch.arange(0, 4097, 64)
decay = alt.xpos_scale(128, distance)  # zeta_i ** (distance / 512), [distances, 64 pairs]
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
three_heads = alt.alibi_bias(12, 16, 16)[[0, 7, 11]].permute(1, 0, 2).reshape(16, 48)
axes[0].imshow(three_heads.numpy(), cmap="viridis")
axes[0].set(title="ALiBi bias, heads 0, 7, 11", xlabel="key j (three heads side by side)", ylabel="query i")
for i in (0, 16, 32, 63):
    axes[1].plot(distance.numpy(), decay[:, i].numpy(), label=f"pair {i}")
axes[1].set(xlabel="m - n", ylabel="xPos factor", title="xPos damps the fast pairs most")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 7. Derive RoPE from its requirement / 从要求推导 RoPE
#
# RoFormer (§3.4.1 of arXiv 2104.09864) starts from one requirement: an encoding $f(x, m)$ whose scores
# depend on the offset only, $\langle f(q,m), f(k,n)\rangle = g(q,k,m-n)$, with $f(x,0)=x$. In 2-D a vector
# is a complex number and $\langle a,b\rangle = \mathrm{Re}(a\bar b)$; write
# $f(x,m)=R(x,m)\,e^{i\Theta(x,m)}$.
# / RoFormer 从一个要求出发：分数只依赖相对位置。二维向量看作复数，内积是 $\mathrm{Re}(a\bar b)$。
#
# 1. **The requirement as a test** / 把要求变成测试: shift both positions, the score must not move.
# 2. **Moduli** / 模长: at $m=n$, $R(q,m)R(k,m)=|q||k|$ for every $q,k$, so $R(x,m)=|x|$: lengths are kept.
#    / 令 $m=n$ 得 $R(x,m)=|x|$，长度不变。
# 3. **Phases** / 相位: at $m=n$, $\Theta(q,m)-\arg q = \Theta(k,m)-\arg k =: \varphi(m)$, the same for every
#    vector. / 相位的增量 $\varphi(m)$ 与向量无关，只与位置有关。
# 4. **Steps** / 步长: at $n=m+1$, $\varphi(m+1)-\varphi(m)$ does not depend on $m$: $\varphi(m)=m\theta$.
#    / 令 $n=m+1$ 得 $\varphi$ 是等差数列，$\varphi(m)=m\theta$。
#
# So $f(x,m)=x\,e^{im\theta}$, the rotation by $m\theta$; RoPE applies it to $d/2$ pairs with
# $\theta_i = 10000^{-2i/d}$. / 因此 $f(x,m)=x e^{im\theta}$，即旋转；RoPE 对 $d/2$ 对特征各用一个
# $\theta_i$。
#
# **Exercise / 练习**: the six functions of `exercises/derive_rope.py`; each measures one step on a
# candidate encoding. Below they test the rotation against three encodings that fail a step.
# / 实现 `exercises/derive_rope.py` 的六个函数，每个函数在候选编码上检验一步推导。

# %%
check("derive_rope")

# %%
der = load("derive_rope")
candidates = {
    "rotation z e^{0.5im}": lambda z, m: z * cmath.exp(0.5j * m),
    "added vector z + 0.5 e^{im}": lambda z, m: z + 0.5 * cmath.exp(1j * m),
    "phase 0.1 m^2": lambda z, m: z * cmath.exp(0.1j * m * m),
    "modulus (1 + 0.2 m)": lambda z, m: z * (1 + 0.2 * m),
}
z = torch.complex(
    torch.randn(4, generator=gen, dtype=torch.float64), torch.randn(4, generator=gen, dtype=torch.float64)
)
w = torch.complex(
    torch.randn(4, generator=gen, dtype=torch.float64), torch.randn(4, generator=gen, dtype=torch.float64)
)
for name, f in candidates.items():
    gap = float(der.requirement_gap(f, z, w, 3, 1, 5).max())
    modulus, _ = der.polar_parts(f, z, 4)
    steps = der.phase_increments(f, z, 5)[0]
    print(
        f"{name:28s} gap {gap:8.1e}  |f(z,4)|/|z| {float((modulus / z.abs()).max()):.3f}  "
        f"phase steps {[round(v, 3) for v in steps.tolist()]}"
    )
print(
    "rotation_matrix(2, 0.5) @ (1, 0):",
    (der.rotation_matrix(2, 0.5) @ torch.tensor([1.0, 0.0], dtype=torch.float64)).tolist(),
)
print("rope_2d(1, 2, 0.5):", complex(der.rope_2d(torch.tensor(1 + 0j), torch.tensor(2), 0.5)))

# %% [markdown]
# ## 8. Precision and the base at long context / 长上下文中的精度与 base
#
# **Angles in low precision / 低精度下的角度.** The fastest pair's angle is the position itself
# ($\theta_0=1$). float32 keeps 24 significant bits, so near $10^6$ consecutive floats are $2^{-4}=0.0625$
# apart: the angle is off by hundredths of a radian. bfloat16 keeps 8: above 256 not every integer exists,
# and neighbouring positions get the *same* rotation. This is why Hugging Face computes cos and sin in
# float32 with autocast off, even in a bfloat16 model. / 最快的一对特征的角度就是位置本身；float32 在 $10^6$
# 附近的间隔是 0.0625，角度误差达百分之几弧度；bfloat16 在 256 以上连相邻位置都无法区分。
#
# **Why the base is raised / 为什么要调大 base.** Xiong et al. (arXiv 2309.16039) raised Llama 2's base from
# 10 000 to 500 000 before training at 32 768 tokens (smaller angles, less decay); Llama 3 ships with
# 500 000. Men et al. (arXiv 2405.14591) make it a bound: the expected score gap between a similar key and a
# random one at distance $m$ is proportional to $B(m)=\sum_i \cos(m\theta_i)$, and a model can prefer the
# similar token only while $B(m)\ge 0$. A context of $L$ tokens needs it for every distance below $L$, which
# gives the smallest base for each $L$. The good bases do not form an interval (for 1 024 tokens
# $4.3\cdot10^3$ works while some bases up to $6.0\cdot10^3$ fail), so the bound is a scan over candidates,
# not a bisection.
# / Xiong 等人在 32K 训练前把 base 从一万调到五十万；Men 等人证明
# 相似词与随机词的期望分数差正比于 $B(m)$，上下文长度 $L$ 要求所有距离上 $B(m)\ge 0$，由此得到 base 的下界；
# 满足条件的 base 不构成区间，所以要逐个扫描候选值，不能二分。
#
# **Exercise / 练习**: the six functions of `exercises/rope_precision.py`. / 实现
# `exercises/rope_precision.py` 的六个函数。

# %%
check("rope_precision")

# %%
prec = load("rope_precision")
near = torch.tensor([1000, 100_000, 1_000_000, 10_000_000])
error = prec.angle_error(near, 128)
print(
    "largest float32 angle error (rad) at",
    near.tolist(),
    ":",
    [f"{v:.2g}" for v in error.max(-1).values.tolist()],
)
print(
    "float32 holds every integer up to",
    prec.max_exact_integer(torch.float32),
    "; bfloat16 up to",
    prec.max_exact_integer(torch.bfloat16),
)
print("bfloat16 rounds positions 257, 1001:", torch.tensor([257, 1001]).to(torch.bfloat16).tolist())
for base in (10_000.0, 500_000.0):
    print(
        f"d = 128, base {base:>9,.0f}: B(m) >= 0 for every distance below",
        prec.supported_context(128, base, 200_000),
    )
grid = torch.logspace(3, 7, 401, dtype=torch.float64)  # 100 candidates per decade
lengths = [1024, 2048, 4096, 8192, 16384, 32768]
bounds = []
for L in lengths:  # a base that serves L tokens serves fewer: each scan starts at the previous bound
    bounds.append(prec.base_lower_bound(L, 128, grid[grid >= (bounds[-1] if bounds else 0.0)]))
for L, b in zip(lengths, bounds, strict=True):
    print(
        f"context {L:6d}: smallest base on the grid {b:9.3g}   "
        f"(figure 1's fit 0.0424 L^1.628: {0.0424 * L**1.628:9.3g})"
    )
print(
    "a finer scan finds narrow islands below the grid's answer: for 1 024 tokens base 4.3e3 works, "
    "4.5e3 does not:",
    prec.supported_context(128, 4300.0, 1023),
    prec.supported_context(128, 4500.0, 1023),
)
distance = torch.arange(0, 40_001, 20)
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for base in (10_000.0, 500_000.0):
    axes[0].plot(
        distance.numpy(), prec.similar_token_margin(distance, 128, base).numpy(), label=f"base {base:,.0f}"
    )
axes[0].axhline(0, color="gray", lw=0.8)
axes[0].set(xlabel="distance m", ylabel="B(m)", title="Men et al.'s B(m), d = 128")
axes[0].legend(fontsize=8)
axes[1].loglog(lengths, bounds, "o-", label="smallest base (grid)")
axes[1].loglog(lengths, [0.0424 * L**1.628 for L in lengths], "--", label="0.0424 L^1.628")
axes[1].set(xlabel="context length", ylabel="base", title="the base bounds the context")
axes[1].legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 9. Interview questions / 面试题
#
# **Why is a KV cache of rotated keys enough for decoding? / 为什么缓存旋转后的键就够解码用？**
# A key's rotation depends only on its own position, which never changes while decoding; the new
# query is rotated at its own position, and the score $\langle R(n)q, R(m)k\rangle$ depends on $n-m$.
# 键的旋转只取决于它自己的位置，解码时不变；新查询按自己的位置旋转，分数只依赖 $n-m$。
#
# **How do you drop tokens from the middle of a RoPE cache? / 如何从 RoPE 缓存中间删掉词？**
# Remove their keys and values and rotate every later key back by the number removed ($R(-\Delta)$):
# $O(P\,d)$ per layer and KV head, no recomputation. 删除它们的键和值，把之后的每个键往回旋转删除的词数。
#
# **Why is Dynamic NTK awkward with a KV cache? / 为什么动态 NTK 与键值缓存难以配合？**
# Its base changes with the length, so keys cached under earlier bases no longer pair with new
# queries by offset; fixing them means re-rotating the whole key cache at every step. 它的 base 随长度
# 变化，旧 base 下缓存的键与新查询不再只按相对位置配对；修正它们需要每一步都重新旋转整个键缓存。
#
# **Where does RoPE go in GQA? / GQA 中 RoPE 放在哪里？** On q and on the $H_{kv}$ key heads before they
# are repeated: each KV head is rotated once and cached once; the repeat is only for the score. 放在 q 和
# 复制之前的 $H_{kv}$ 个键头上：每个键值头只旋转、缓存一次，复制只用于计算分数。
#
# **Why does a left-padded batch need position ids? / 左填充的批次为什么需要位置编号？** Without them a
# row's first real token would sit at the number of pads, and its RoPE angles would differ from the
# same prompt alone; position ids count only real tokens (cumsum of the mask − 1). 否则每行第一个真实的词
# 会落在填充的个数上，角度与单独运行时不同；位置编号只数真实的词（掩码累加再减一）。
#
# **What does packing need besides restarting positions? / 打包除了重置位置还需要什么？** A block-diagonal
# causal mask: RoPE only makes scores relative, it does not stop a token from attending to an earlier
# document. 块对角的因果掩码：RoPE 只让分数变成相对的，并不能阻止一个词注意到前一篇文档。
#
# **Why does DeepSeek-V2 decouple RoPE? / DeepSeek-V2 为什么要解耦 RoPE？** Its cache holds a latent that
# every head's key is rebuilt from, and at inference the key up-projection is absorbed into the query.
# RoPE on those keys would put $R(n-m)$ between the two matrices, so every cached key would have to be
# rebuilt at every step. A small separate rotary part (per-head queries, one shared key) carries the
# position instead. 缓存的是潜在向量，推理时把键的上投影吸收进查询；对这些键做 RoPE 会让 $R(n-m)$ 夹在两个矩阵
# 之间，每一步都得重建所有键。于是用一小段单独的旋转部分（每头的查询、共享的一个键）携带位置信息。
#
# **Why does a bidirectional encoder with ALiBi's symmetric bias fail notebook 05's order task? / 为什么带
# 对称 ALiBi 偏置的双向编码器做不了第 05 节的词序任务？** $-m|i-j|$ gives distance, not direction: a verb two
# words to the left and one two words to the right look the same, and reversing the sentence flips the
# label. A causal mask gives the direction — and on that task the mask alone does as well as mask plus
# bias. 对称偏置只给距离、不给方向；加上因果掩码才有方向，而在该任务上只用因果掩码也同样好。
#
# **Derive RoPE in one minute / 一分钟推导 RoPE.** Ask for scores that depend on $m-n$ only and for
# $f(x,0)=x$. At $m=n$ the moduli multiply to $|q||k|$, so each encoding keeps its length, and the phase
# added to every vector is one function $\varphi(m)$ of the position. At $n=m+1$ its step is constant,
# so $\varphi(m)=m\theta$ and $f(x,m)=x e^{im\theta}$: a rotation. 要求分数只依赖 $m-n$ 且 $f(x,0)=x$：
# 令 $m=n$ 得模长不变、相位增量只依赖位置；令 $n=m+1$ 得相位是等差数列，于是 $f$ 是旋转。
#
# **Why compute RoPE's angles in float32 even in a bfloat16 model? / 为什么 bfloat16 模型也要用 float32
# 算角度？**
# bfloat16 has 8 significant bits: above 256 consecutive positions round to the same number and get the
# same rotation; float32 is exact up to $2^{24}$ but its angle error grows with the position (hundredths of
# a radian near $10^6$). bfloat16 只有 8 位有效数字，256 以上相邻位置会被舍入成同一个数；float32 在
# $2^{24}$ 以内位置精确，但角度误差随位置增大。
#
# **Why raise the base before long-context training? / 为什么长上下文训练前要调大 base？** A larger base
# turns every pair more slowly, so the scores decay less with distance (Xiong et al., 10 000 → 500 000 at
# 32K), and Men et al.'s $B(m)=\sum_i\cos(m\theta_i)$ stays non-negative over the whole context: with base
# 10 000 and $d=128$ it turns negative at a distance of 1 707, and even at 500 000 it does at 18 438, short
# of the 32 768 Xiong et al. trained at (Men et al.'s bound for 32K is about $6.3\cdot 10^5$).
# base 越大旋转越慢，
# 远程衰减越弱；按 Men 等人的判据，base 为一万、$d=128$ 时 $B(m)$ 在距离 1 707 处就变为负数，base 为五十万时在
# 18 438 处，仍不到 32 768。
