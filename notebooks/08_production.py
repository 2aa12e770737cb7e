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
# # 08 — RoPE in production: the KV cache and Llama's attention
#
# **Interview questions this notebook answers**
#
# - What does a serving model's KV cache hold under RoPE, and why can a cached key be moved to another
#   position without recomputing it?
# - How does a chat that outgrows its context keep going (StreamingLLM's attention sinks, llama.cpp's
#   context shift)?
# - Dynamic NTK changes the base with the length: why are keys cached under the old base wrong, and what
#   does fixing them cost?
# - Where does RoPE sit in grouped-query attention, what does the cache hold, and how do left-padded
#   batches, sliding windows and packed documents change the positions and the mask?
# - Why does DeepSeek-V2's latent attention need a decoupled RoPE?
# - How do ALiBi, xPos and NoPE put position in, and what do they miss?
# - Derive RoPE: why must an encoding whose scores depend on m − n only be a rotation?
# - Why are RoPE's angles computed in float32, what breaks near position $10^6$ or in bfloat16, and how
#   large must the base be for a context length?
#
# **What you will do**: implement `exercises/rope_cache.py` (four functions), then use them
# to watch a cache being moved, evicted and re-rotated; then `exercises/llama_attention.py`, one Llama
# attention layer graded against Hugging Face's; then `exercises/mla_rope.py`, DeepSeek-V2's latent
# attention; `exercises/alternatives.py` (ALiBi, xPos, NoPE); `exercises/derive_rope.py`, the
# derivation step by step; and `exercises/rope_precision.py`, precision and the base.

# %% [markdown] tags=["zh"]
# # 08 — 生产环境中的 RoPE：键值缓存与 Llama 的注意力
#
# **本笔记本（notebook）回答的面试题**
#
# - 使用旋转位置编码（RoPE）时，线上推理模型的键值缓存（KV cache）里存的是什么？
#   为什么已缓存的键不用重新计算就能移到另一个位置？
# - 对话超出上下文窗口之后如何继续下去（StreamingLLM 的注意力汇聚点、llama.cpp 的上下文平移）？
# - 动态 NTK 会随长度改变底数（base）：为什么按旧底数缓存的键是错的？修正它们要付出什么代价？
# - 在分组查询注意力中 RoPE 放在哪里、缓存里存什么？左填充的批次、滑动窗口和序列打包如何改变位置与掩码？
# - DeepSeek-V2 的潜在注意力为什么需要解耦的 RoPE？
# - ALiBi、xPos 和 NoPE 如何引入位置信息？各自缺了什么？
# - 推导 RoPE：为什么分数只依赖 m − n 的编码必然是旋转？
# - 为什么 RoPE 的角度要用 float32 计算？在位置 $10^6$ 附近或使用 bfloat16 时会出什么问题？
#   对给定的上下文长度，底数至少要多大？
#
# **你要做的事**：先实现 `exercises/rope_cache.py`（四个函数），再用它们观察缓存的平移、淘汰与重新旋转；
# 然后实现 `exercises/llama_attention.py`：一个以 Hugging Face 的实现为准评分的 Llama 注意力层；接着是
# `exercises/mla_rope.py`：DeepSeek-V2 的潜在注意力；`exercises/alternatives.py`（ALiBi、xPos、NoPE）；
# `exercises/derive_rope.py`：逐步推导 RoPE；最后是 `exercises/rope_precision.py`：数值精度与底数。

# %%
import cmath

import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw in this notebook comes from a seeded generator

# %% [markdown] tags=["en"]
# ## 1. The cache holds rotated keys, and rotations compose
#
# Each layer caches, for every token seen so far, its value $v_m$ and its key **already rotated**,
# $R(m)\,k_m$: a key's rotation depends only on its own position, so it is computed once. The pre-RoPE
# key is gone. Because the angles of one pair add, $R(m+\Delta) = R(\Delta)\,R(m)$: a cached key moves from
# position $m$ to $m+\Delta$ by **one more rotation**, without its pre-RoPE value and without re-running
# the layer. Values are never rotated, so they never move.
#
# Two places use it:
#
# - **Context shift** (llama.cpp): when the context is full, drop the oldest tokens and rotate every
#   remaining key back by the number dropped.
# - **Attention sinks** (StreamingLLM, Xiao et al. 2023, arXiv 2309.17453): keep the first few tokens
#   (the model parks attention on them; dropping them breaks generation) plus a window of recent
#   tokens, and give the kept tokens their positions *inside the cache*, 0, 1, 2, ... — the recent keys
#   move back by the number of evicted tokens.
#
# **Exercise**: `shift_keys`, `evict_middle`, `dynamic_ntk_base`, `rerotate_keys` in
# `exercises/rope_cache.py`; save, then run the next cell.

# %% [markdown] tags=["zh"]
# ## 1. 缓存里是旋转后的键，旋转可以复合
#
# 每一层都为目前见过的每个 token 缓存它的值 $v_m$ 和**已经旋转过的**键 $R(m)\,k_m$：
# 键的旋转只取决于它自己的位置，所以只需计算一次。旋转前的键不再保存。由于同一对特征的角度可以相加，
# $R(m+\Delta) = R(\Delta)\,R(m)$：已缓存的键只要**再旋转一次**，就能从位置 $m$ 移到 $m+\Delta$，
# 既不需要旋转前的键，也不需要重新计算这一层。值从不旋转，所以也从不需要移动。
#
# 两个用途：
#
# - **上下文平移**（llama.cpp）：上下文满了时，丢掉最早的若干 token，把剩下的每个键按丢掉的个数往回旋转。
# - **注意力汇聚点**（StreamingLLM，Xiao et al. 2023，arXiv 2309.17453）：保留最前面的几个 token
#   （模型会把多余的注意力“停放”在它们身上，丢掉它们会破坏生成）和最近的一段窗口内的 token，并按*缓存内*的位置
#   0, 1, 2, ... 给保留下来的 token 重新编号——最近的那些键往回移动被淘汰的 token 数。
#
# **练习**：在 `exercises/rope_cache.py` 中实现 `shift_keys`、`evict_middle`、`dynamic_ntk_base`、
# `rerotate_keys`；保存后运行下一个单元格。

# %%
check("rope_cache")

# %% [markdown] tags=["en"]
# The cells below import **your** `exercises/rope_cache.py` and `exercises/rope.py` (re-run them after
# editing). First the composition law, measured: a key cached at 40 and moved by 1000 against the same
# key rotated at 1040 from the start.

# %% [markdown] tags=["zh"]
# 下面的单元格导入的是**你的** `exercises/rope_cache.py` 和 `exercises/rope.py`（修改之后要重新运行）。
# 先实测复合律：在位置 40 缓存、再移动 1000 的键，与一开始就在位置 1040 旋转的同一个键相比。

# %%
rope, cache = load("rope"), load("rope_cache")
k0 = torch.randn(1, 2, 1, 64, generator=gen, dtype=torch.float64)  # one pre-RoPE key, 2 KV heads
moved = cache.shift_keys(rope.apply_rope(k0, torch.tensor([40])), 1000)
direct = rope.apply_rope(k0, torch.tensor([1040]))
print(f"largest difference: {float((moved - direct).abs().max()):.2e} (float64)")

# %% [markdown] tags=["en"]
# ## 2. Attention sinks: a query sees the evicted cache as a fresh one
#
# A cache of 24 tokens keeps 4 sinks and the last 8. The next query, at position 12 (the length of the
# kept cache), scores the kept keys exactly as it would score those 12 tokens rotated at 0 .. 11 from
# the start: the scores depend only on offsets inside the cache.

# %% [markdown] tags=["zh"]
# ## 2. 注意力汇聚点：在查询看来，淘汰后的缓存与新缓存无异
#
# 一个 24 个 token 的缓存保留 4 个汇聚点和最后 8 个 token。下一个查询位于位置 12（即保留后缓存的长度），
# 它对保留下来的键的打分，与这 12 个 token 一开始就在位置 0 .. 11 旋转时完全相同：分数只依赖缓存内部的偏移量。

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

# %% [markdown] tags=["en"]
# ## 3. Dynamic NTK and stale keys
#
# Hugging Face's `dynamic` rope type keeps the trained base up to $L$ = `max_position_embeddings`, then
# grows it with the current length $s$:
# $\text{base}' = \text{base}\,(f\,s/L - (f-1))^{d/(d-2)}$. The base changes with every new token past
# $L$. Keys cached earlier were rotated with smaller bases; new queries use the new one. The score of
# query $n$ and key $m$ is then no longer a function of $n - m$: the cached keys are **wrong**, not
# merely old.

# %% [markdown] tags=["zh"]
# ## 3. 动态 NTK 与过期的键
#
# Hugging Face 中 rope type 为 `dynamic` 的缩放方式，在长度不超过 $L$ = `max_position_embeddings`
# 时保持训练时的底数，超过之后让底数随当前长度 $s$ 增大：
# $\text{base}' = \text{base}\,(f\,s/L - (f-1))^{d/(d-2)}$。超过 $L$ 以后，每来一个新 token，底数就变一次。
# 之前缓存的键是用更小的底数旋转的，新的查询却用新底数。于是查询 $n$ 与键 $m$ 的分数不再是 $n - m$ 的函数：
# 缓存的键是**错的**，而不只是旧的。

# %%
L, factor, d = 4096, 2.0, 128
lengths = np.arange(1, 4 * L, 64)
bases = [cache.dynamic_ntk_base(10000.0, d, int(s), L, factor) for s in lengths]
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(lengths, bases)
ax.axvline(L, color="gray", lw=0.8, ls=":")
ax.set(xlabel="current length s", ylabel="base'", title=f"Dynamic NTK, L = {L}, factor = {factor:g}, d = {d}")
plt.show()

# %% [markdown] tags=["en"]
# Measure the damage: a key cached at position $m$ when the length was $L$ (base 10 000), read by the
# query at $n = m + 10$ once the length is $2L$ (base about 30 500), against the same key rotated with
# the new base. `rerotate_keys` mends it: $R_{\text{new}}(m)\,R_{\text{old}}(-m)$.

# %% [markdown] tags=["zh"]
# 测量误差：长度为 $L$ 时（底数 10 000）在位置 $m$ 缓存的一个键，在长度达到 $2L$ 时（底数约为 30 500）被位于
# $n = m + 10$ 的查询读取，把它与用新底数旋转的同一个键相比。`rerotate_keys` 负责修正：
# $R_{\text{new}}(m)\,R_{\text{old}}(-m)$。

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

# %% [markdown] tags=["en"]
# At $m = 0$ nothing is rotated and the stale key is right; the error grows with $m$ because the
# difference of the angles, $m\,(\theta_i - \theta'_i)$, grows with $m$.
#
# **What re-rotating costs.** One more rotation of every cached key in every layer and KV
# head: for Llama-3-8B (32 layers, 8 KV heads, $d$ = 128, bf16) with 32 768 cached tokens that is
# reading and writing the whole key cache, 2 GiB each way — and Dynamic NTK changes the base at **every**
# new token past $L$, so each decoding step would pay it: twice the key-cache traffic that the attention
# itself reads. That is why Hugging Face keeps the stale keys (transformers issue #25104:
# the exact fix was judged too slow) and why static scalings (PI, YaRN, Llama 3.1, notebook 06) are what
# serving systems use: their frequencies do not change with the length.

# %% [markdown] tags=["zh"]
# 在 $m = 0$ 处没有任何旋转，过期的键是对的；误差随 $m$ 增大，因为角度之差 $m\,(\theta_i - \theta'_i)$ 随 $m$
# 增大。
#
# **重新旋转的代价。** 每一层、每个键值头中的所有缓存键都要再旋转一次：以 Llama-3-8B
# （32 层、8 个键值头、$d$ = 128、bf16）缓存 32 768 个 token 为例，这意味着把整个键缓存读写一遍，
# 读和写各 2 GiB——而动态 NTK 在超过 $L$ 之后**每**来一个新 token 就改变一次底数，所以每个解码步
# 都要付出这笔代价：在键缓存上产生的读写流量是注意力本身读取量的两倍。
# 这就是 Hugging Face 保留过期键的原因（transformers issue #25104：精确修正被认为太慢），
# 也是推理系统采用静态缩放（PI、YaRN、Llama 3.1，见笔记本 06）的原因：它们的频率不随长度变化。

# %%
layers, kv_heads, head_dim, tokens, bytes_per = 32, 8, 128, 32768, 2
key_cache = layers * kv_heads * head_dim * tokens * bytes_per
gib = key_cache / 2**30
print(f"key cache: {gib:.1f} GiB; re-rotating it reads and writes it: {2 * gib:.1f} GiB of traffic")

# %% [markdown] tags=["en"]
# ## 4. Llama's attention as a server runs it
#
# **Grouped-query attention** (GQA, Ainslie et al. 2023, arXiv 2305.13245) gives $H$ query heads but
# only $H_{kv}$ key/value heads: query head $h$ reads KV head $h // (H/H_{kv})$. RoPE rotates the
# $H_{kv}$ key heads **before** they are repeated, and the cache keeps $H_{kv}$ heads: that is the whole
# point, the cache is $H/H_{kv}$ times smaller. Rotating after repeating gives the same scores (every
# copy gets the same rotation) but caches $H$ heads. For a Llama-3-8B-like model (32 layers, 32 query
# heads, 8 KV heads, $d = 128$, bf16) one token costs $2 \cdot 32 \cdot 8 \cdot 128 \cdot 2$ bytes =
# 128 KiB of cache, against 512 KiB with 32 KV heads.
#
# Three more things a serving stack gets right:
#
# - **Left padding**: a batch of prompts of different lengths is padded on the left, so each row's first
#   real token must still be at position 0: positions come from the attention mask, not from the column.
# - **Sliding window** (Mistral, arXiv 2310.06825): a token sees itself and the $W-1$ tokens before it,
#   counted on cache indices.
# - **Packing** documents into one row for training: positions restart per document and a block-diagonal
#   causal mask keeps them apart; each document's outputs then equal running it alone.
#
# **Exercise**: the five functions of `exercises/llama_attention.py`. The hidden checks compare
# your layer with Hugging Face transformers' own `LlamaAttention` and `MistralAttention` on the same
# weights (stored outputs: no download).

# %% [markdown] tags=["zh"]
# ## 4. 推理服务中实际运行的 Llama 注意力
#
# **分组查询注意力**（GQA，Ainslie et al. 2023，arXiv 2305.13245）有 $H$ 个查询头，但只有 $H_{kv}$ 个键值头：
# 查询头 $h$ 读取键值头 $h // (H/H_{kv})$。RoPE 在键头被复制**之前**旋转这 $H_{kv}$ 个键头，缓存里也只存
# $H_{kv}$ 个头：这正是 GQA 的意义所在，缓存小了 $H/H_{kv}$ 倍。
# 先复制再旋转得到的分数相同（每个副本的旋转都一样），但缓存的就是 $H$ 个头了。对一个类似 Llama-3-8B
# 的模型（32 层、32 个查询头、8 个键值头、$d = 128$、bf16），每个 token 占用
# $2 \cdot 32 \cdot 8 \cdot 128 \cdot 2$ 字节 = 128 KiB 的缓存，而 32 个键值头时是 512 KiB。
#
# 推理框架还要处理好另外三件事：
#
# - **左填充**：一批长度不同的提示词在左侧填充，每一行的第一个真实 token 仍必须位于位置 0：
#   位置由注意力掩码算出，而不是取列号。
# - **滑动窗口**（Mistral，arXiv 2310.06825）：每个 token 只能看到它自己和它之前的 $W-1$ 个 token，
#   按缓存下标计数。
# - 训练时把多篇文档**打包**进同一行：每篇文档的位置重新从 0 开始，用块对角的因果掩码把文档彼此隔开；
#   这样每篇文档的输出与单独运行它时相同。
#
# **练习**：实现 `exercises/llama_attention.py` 中的五个函数。隐藏检查会在相同权重下，把你的注意力层与
# Hugging Face transformers 自己的 `LlamaAttention` 和 `MistralAttention` 的输出进行比较（使用预先存好的输出，
# 无需下载）。

# %%
check("llama_attention")

# %% [markdown] tags=["en"]
# With **your** layer: 12 tokens in one call against 8 tokens then 4 decode steps through the cache,
# a left-padded row against the same prompt alone, and three packed documents against each alone.

# %% [markdown] tags=["zh"]
# 用**你的**注意力层做三组对比：一次调用处理 12 个 token，对比先处理 8 个 token、再通过缓存解码 4 步；
# 左填充的一行，对比单独运行同一个提示词；打包在一起的三篇文档，对比各自单独运行。

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

# %% [markdown] tags=["en"]
# The masks, as pictures: the causal mask of the packed row (three blocks), and a window of 4 over 12
# tokens.

# %% [markdown] tags=["zh"]
# 把掩码画出来：打包后那一行的因果掩码（三个块），以及 12 个 token 上宽度为 4 的滑动窗口。

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

# %% [markdown] tags=["en"]
# ## 5. DeepSeek-V2's latent attention and its decoupled RoPE
#
# MLA (DeepSeek-V2, arXiv 2405.04434, §2.1) caches one latent $c^{KV}_t = W^{DKV} h_t$ per token and
# rebuilds every head's key $k^C_{t,i} = W^{UK}_i c^{KV}_t$ from it. Better still, the content score
# $q^{C\top}_i k^C_i = c^{Q\top} (W^{UQ\top}_i W^{UK}_i)\, c^{KV}$: the two up-projections **absorb** into
# one fixed matrix per head, and the cached latents are scored directly. RoPE on the content parts
# puts $R(n-m)$ between $W^{UQ\top}_i$ and $W^{UK}_i$ — a matrix that depends on the two positions — so
# nothing can be precomputed. DeepSeek-V2 therefore adds a small **decoupled** rotary part: per-head
# rotary queries $q^R_i$ and **one** rotary key $k^R_t = \mathrm{RoPE}(W^{KR} h_t)$ shared by all heads,
# cached next to the latent.
#
# **Exercise**: the six functions of `exercises/mla_rope.py`.

# %% [markdown] tags=["zh"]
# ## 5. DeepSeek-V2 的潜在注意力与解耦 RoPE
#
# 多头潜在注意力（MLA；DeepSeek-V2，arXiv 2405.04434，§2.1）为每个 token 只缓存一个潜在向量
# $c^{KV}_t = W^{DKV} h_t$，再由它重建每个头的键 $k^C_{t,i} = W^{UK}_i c^{KV}_t$。更妙的是，内容分数
# $q^{C\top}_i k^C_i = c^{Q\top} (W^{UQ\top}_i W^{UK}_i)\, c^{KV}$：
# 两个上投影矩阵可以**吸收**成每个头一个固定矩阵，直接对缓存的潜在向量打分。若对内容部分做 RoPE，
# $W^{UQ\top}_i$ 和 $W^{UK}_i$ 之间就会夹上 $R(n-m)$——一个依赖两个位置的矩阵——于是什么都无法预先计算。因此
# DeepSeek-V2 另加了一小段**解耦**的旋转部分：每个头各自的旋转查询 $q^R_i$，以及所有头共享的**一个**旋转键
# $k^R_t = \mathrm{RoPE}(W^{KR} h_t)$，它与潜在向量一起缓存。
#
# **练习**：实现 `exercises/mla_rope.py` 中的六个函数。

# %%
check("mla_rope")

# %% [markdown] tags=["en"]
# With **your** functions: the absorption gap against the offset $n - m$ (zero only at offset 0), the
# absorbed layer against the one that rebuilds keys, and the cache per token.

# %% [markdown] tags=["zh"]
# 用**你的**函数：吸收误差随偏移 $n - m$ 的变化（只在偏移为 0 时为零）、吸收版注意力层与重建键的版本的对比，
# 以及每个 token 的缓存大小。

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

# %% [markdown] tags=["en"]
# ## 6. The alternatives: ALiBi, xPos, NoPE
#
# - **ALiBi** (Press et al., arXiv 2108.12409) adds no embedding: head $h$ subtracts $m_h\,(i-j)$ from its
#   scores. Its slopes form a geometric sequence $2^{-8/H}, 2^{-16/H}, \dots$; for a head count that is not a
#   power of two its code takes the slopes of the power below and fills in every other slope of twice
#   that power.
# - **xPos** (Sun et al., arXiv 2212.10554) is RoPE whose pair $i$ also decays as
#   $\zeta_i^{(m-n)/512}$, $\zeta_i = (2i/d + 0.4)/1.4$: the fast pairs, whose RoPE scores oscillate most
#   at long range, are damped most.
# - **NoPE**: a causal decoder without any encoding still knows positions, since token $t$ averages over
#   exactly $t+1$ tokens.
#
# **Exercise**: the five functions of `exercises/alternatives.py`; notebook 05's ablation
# (`python scripts/ablation.py`) then trains the classifier with ALiBi too, and says honestly what it shows.

# %% [markdown] tags=["zh"]
# ## 6. 替代方案：ALiBi、xPos、NoPE
#
# - **ALiBi**（Press et al.，arXiv 2108.12409）不加任何位置嵌入：第 $h$ 个头从自己的分数中减去 $m_h\,(i-j)$。
#   各头的斜率构成等比数列 $2^{-8/H}, 2^{-16/H}, \dots$；头数不是 2 的幂时，ALiBi 的代码先取比它小的那个 2
#   的幂对应的斜率，再从两倍于该幂的斜率序列中隔一个取一个补齐。
# - **xPos**（Sun et al.，arXiv 2212.10554）就是在 RoPE 的基础上让第 $i$ 对再按 $\zeta_i^{(m-n)/512}$ 衰减，
#   $\zeta_i = (2i/d + 0.4)/1.4$：转得快的对在长距离上 RoPE 分数振荡得最厉害，衰减也最多。
# - **NoPE**：没有任何位置编码的因果解码器仍然知道位置，因为位置 $t$（从 0 数起）上的 token
#   恰好是在 $t+1$ 个 token 上做平均。
#
# **练习**：实现 `exercises/alternatives.py` 中的五个函数；之后笔记本 05 的消融实验
# （`python scripts/ablation.py`）也会用 ALiBi 训练分类器，并如实指出结果说明了什么。

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

# %% [markdown] tags=["en"]
# ## 7. Derive RoPE from its requirement
#
# RoFormer (§3.4.1 of arXiv 2104.09864) starts from one requirement: an encoding $f(x, m)$ whose scores
# depend on the offset only, $\langle f(q,m), f(k,n)\rangle = g(q,k,m-n)$, with $f(x,0)=x$. In 2-D a vector
# is a complex number and $\langle a,b\rangle = \mathrm{Re}(a\bar b)$; write
# $f(x,m)=R(x,m)\,e^{i\Theta(x,m)}$.
#
# 1. **The requirement as a test**: shift both positions, the score must not move.
# 2. **Moduli**: at $m=n$, $R(q,m)R(k,m)=|q||k|$ for every $q,k$, so $R(x,m)=|x|$: lengths are kept.
# 3. **Phases**: at $m=n$, $\Theta(q,m)-\arg q = \Theta(k,m)-\arg k =: \varphi(m)$, the same for every
#    vector.
# 4. **Steps**: at $n=m+1$, $\varphi(m+1)-\varphi(m)$ does not depend on $m$: $\varphi(m)=m\theta$.
#
# So $f(x,m)=x\,e^{im\theta}$, the rotation by $m\theta$; RoPE applies it to $d/2$ pairs with
# $\theta_i = 10000^{-2i/d}$.
#
# **Exercise**: the six functions of `exercises/derive_rope.py`; each measures one step on a
# candidate encoding. Below they test the rotation against three encodings that fail a step.

# %% [markdown] tags=["zh"]
# ## 7. 从要求出发推导 RoPE
#
# RoFormer（arXiv 2104.09864 的 §3.4.1）从一个要求出发：编码 $f(x, m)$ 的分数只依赖偏移量，即
# $\langle f(q,m), f(k,n)\rangle = g(q,k,m-n)$，并且 $f(x,0)=x$。在二维情形下，向量就是一个复数，
# $\langle a,b\rangle = \mathrm{Re}(a\bar b)$；记 $f(x,m)=R(x,m)\,e^{i\Theta(x,m)}$。
#
# 1. **把要求变成测试**：同时平移两个位置，分数必须不变。
# 2. **模长**：令 $m=n$，对任意 $q,k$ 都有 $R(q,m)R(k,m)=|q||k|$，所以 $R(x,m)=|x|$：长度保持不变。
# 3. **相位**：令 $m=n$，$\Theta(q,m)-\arg q = \Theta(k,m)-\arg k =: \varphi(m)$，对所有向量都相同。
# 4. **步长**：令 $n=m+1$，$\varphi(m+1)-\varphi(m)$ 与 $m$ 无关：$\varphi(m)=m\theta$。
#
# 因此 $f(x,m)=x\,e^{im\theta}$，也就是旋转 $m\theta$ 角；RoPE 对 $d/2$ 对特征分别施加这种旋转，其中
# $\theta_i = 10000^{-2i/d}$。
#
# **练习**：实现 `exercises/derive_rope.py` 中的六个函数；每个函数在一个候选编码上检验推导中的一步。
# 下面用它们检验旋转，并与三种在某一步不成立的编码对比。

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

# %% [markdown] tags=["en"]
# ## 8. Precision and the base at long context
#
# **Angles in low precision.** The fastest pair's angle is the position itself
# ($\theta_0=1$). float32 keeps 24 significant bits, so near $10^6$ consecutive floats are $2^{-4}=0.0625$
# apart: the angle is off by hundredths of a radian. bfloat16 keeps 8: above 256 not every integer exists,
# and neighbouring positions get the *same* rotation. This is why Hugging Face computes cos and sin in
# float32 with autocast off, even in a bfloat16 model.
#
# **Why the base is raised.** Xiong et al. (arXiv 2309.16039) raised Llama 2's base from
# 10 000 to 500 000 before training at 32 768 tokens (smaller angles, less decay); Llama 3 ships with
# 500 000. Men et al. (arXiv 2405.14591) make it a bound: the expected score gap between a similar key and a
# random one at distance $m$ is proportional to $B(m)=\sum_i \cos(m\theta_i)$, and a model can prefer the
# similar token only while $B(m)\ge 0$. A context of $L$ tokens needs it for every distance below $L$, which
# gives the smallest base for each $L$. The good bases do not form an interval (for 1 024 tokens
# $4.3\cdot10^3$ works while some bases up to $6.0\cdot10^3$ fail), so the bound is a scan over candidates,
# not a bisection.
#
# **Exercise**: the six functions of `exercises/rope_precision.py`.

# %% [markdown] tags=["zh"]
# ## 8. 长上下文中的精度与底数
#
# **低精度下的角度。** 转得最快的那一对的角度就是位置本身（$\theta_0=1$）。float32 保留 24 位有效位，所以在
# $10^6$ 附近相邻两个浮点数相差 $2^{-4}=0.0625$：角度会偏差百分之几弧度。bfloat16 只保留 8 位：256
# 以上并不是每个整数都能表示，相邻的位置会得到*相同*的旋转。这就是为什么即使在 bfloat16 模型中，Hugging Face
# 也要关闭 autocast、用 float32 计算 cos 和 sin。
#
# **为什么要调大底数。** Xiong 等人（arXiv 2309.16039）在以 32 768 个 token 的长度训练之前，把 Llama 2
# 的底数从 10 000 调大到 500 000（角度更小，远程衰减更弱）；Llama 3 发布时的底数就是 500 000。Men 等人（arXiv
# 2405.14591）把它变成了一个下界：在距离 $m$ 处，相似键与随机键的期望分数差正比于
# $B(m)=\sum_i \cos(m\theta_i)$，只有在 $B(m)\ge 0$ 时模型才能偏向相似的 token。长度为 $L$ 的上下文要求小于
# $L$ 的每个距离都满足这一点，由此得到每个 $L$ 所需的最小底数。满足条件的底数并不构成一个区间（对 1 024 个
# token，$4.3\cdot10^3$ 可行，而一些高达 $6.0\cdot10^3$ 的底数却不行），所以求这个下界要逐个扫描候选值，
# 不能用二分法。
#
# **练习**：实现 `exercises/rope_precision.py` 中的六个函数。

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

# %% [markdown] tags=["en"]
# ## 9. Interview questions
#
# **Why is a KV cache of rotated keys enough for decoding?**
# A key's rotation depends only on its own position, which never changes while decoding; the new
# query is rotated at its own position, and the score $\langle R(n)q, R(m)k\rangle$ depends on $n-m$.
#
# **How do you drop tokens from the middle of a RoPE cache?**
# Remove their keys and values and rotate every later key back by the number removed ($R(-\Delta)$):
# $O(P\,d)$ per layer and KV head, no recomputation.
#
# **Why is Dynamic NTK awkward with a KV cache?**
# Its base changes with the length, so keys cached under earlier bases no longer pair with new
# queries by offset; fixing them means re-rotating the whole key cache at every step.
#
# **Where does RoPE go in GQA?** On q and on the $H_{kv}$ key heads before they
# are repeated: each KV head is rotated once and cached once; the repeat is only for the score.
#
# **Why does a left-padded batch need position ids?** Without them a
# row's first real token would sit at the number of pads, and its RoPE angles would differ from the
# same prompt alone; position ids count only real tokens (cumsum of the mask − 1).
#
# **What does packing need besides restarting positions?** A block-diagonal
# causal mask: RoPE only makes scores relative, it does not stop a token from attending to an earlier
# document.
#
# **Why does DeepSeek-V2 decouple RoPE?** Its cache holds a latent that
# every head's key is rebuilt from, and at inference the key up-projection is absorbed into the query.
# RoPE on those keys would put $R(n-m)$ between the two matrices, so every cached key would have to be
# rebuilt at every step. A small separate rotary part (per-head queries, one shared key) carries the
# position instead.
#
# **Why does a bidirectional encoder with ALiBi's symmetric bias fail notebook 05's order task?**
# $-m|i-j|$ gives distance, not direction: a verb two words to the left and one two words to the right
# look the same, and reversing the sentence flips the label. A causal mask gives the direction — and on
# that task the mask alone does as well as mask plus bias.
#
# **Derive RoPE in one minute.** Ask for scores that depend on $m-n$ only and for
# $f(x,0)=x$. At $m=n$ the moduli multiply to $|q||k|$, so each encoding keeps its length, and the phase
# added to every vector is one function $\varphi(m)$ of the position. At $n=m+1$ its step is constant,
# so $\varphi(m)=m\theta$ and $f(x,m)=x e^{im\theta}$: a rotation.
#
# **Why compute RoPE's angles in float32 even in a bfloat16 model?**
# bfloat16 has 8 significant bits: above 256 consecutive positions round to the same number and get the
# same rotation; float32 is exact up to $2^{24}$ but its angle error grows with the position (hundredths of
# a radian near $10^6$).
#
# **Why raise the base before long-context training?** A larger base
# turns every pair more slowly, so the scores decay less with distance (Xiong et al., 10 000 → 500 000 at
# 32K), and Men et al.'s $B(m)=\sum_i\cos(m\theta_i)$ stays non-negative over the whole context: with base
# 10 000 and $d=128$ it turns negative at a distance of 1 707, and even at 500 000 it does at 18 438, short
# of the 32 768 Xiong et al. trained at (Men et al.'s bound for 32K is about $6.3\cdot 10^5$).

# %% [markdown] tags=["zh"]
# ## 9. 面试题
#
# **为什么缓存旋转后的键就足以支持解码？**
# 键的旋转只取决于它自己的位置，而这个位置在解码过程中不会改变；新的查询按它自己的位置旋转，分数
# $\langle R(n)q, R(m)k\rangle$ 只依赖 $n-m$。
#
# **如何从 RoPE 缓存的中间删掉一些 token？**
# 删除它们的键和值，再把之后的每个键按删除的个数往回旋转（$R(-\Delta)$）：每层、每个键值头的开销为 $O(P\,d)$，
# 无需重新计算。
#
# **为什么动态 NTK 与键值缓存难以配合？**
# 它的底数随长度变化，所以在之前的底数下缓存的键与新的查询不再按偏移量配对；要修正它们，
# 就得在每一步都重新旋转整个键缓存。
#
# **GQA 中 RoPE 放在哪里？** 放在 q 上，以及复制之前的 $H_{kv}$ 个键头上：每个键值头只旋转一次、缓存一次；
# 复制只用于计算分数。
#
# **左填充的批次为什么需要位置编号（position ids）？** 没有位置编号时，每行第一个真实 token
# 会落在等于填充个数的位置上，它的 RoPE 角度就与单独运行同一个提示词时不同；位置编号只数真实的 token
# （掩码的累加和减一）。
#
# **打包除了重置位置，还需要什么？** 一个块对角的因果掩码：RoPE 只是让分数变成相对的，并不能阻止一个 token
# 关注前一篇文档中的 token。
#
# **DeepSeek-V2 为什么要解耦 RoPE？** 它的缓存存的是一个潜在向量，每个头的键都由它重建；推理时，
# 键的上投影被吸收进查询。对这些键做 RoPE 会把 $R(n-m)$ 夹在两个矩阵之间，于是每一步都得重建所有缓存的键。
# 因此改由一小段单独的旋转部分（每个头各自的查询、所有头共享的一个键）来携带位置信息。
#
# **为什么带 ALiBi 对称偏置的双向编码器做不了笔记本 05 的词序任务？**
# $-m|i-j|$ 只给出距离，不给出方向：左边隔两个词的动词和右边隔两个词的动词看起来一样，而把句子倒过来，
# 标签就会翻转。因果掩码提供了方向——而在这个任务上，只用因果掩码的效果与因果掩码加偏置一样好。
#
# **一分钟推导 RoPE。** 要求分数只依赖 $m-n$，并且 $f(x,0)=x$。令 $m=n$，两个模长之积等于 $|q||k|$，
# 所以每个编码都保持长度不变，而加到每个向量上的相位是关于位置的同一个函数 $\varphi(m)$。令 $n=m+1$，
# 相位的步长是常数，所以 $\varphi(m)=m\theta$，$f(x,m)=x e^{im\theta}$：这是一个旋转。
#
# **为什么即使在 bfloat16 模型中也要用 float32 计算 RoPE 的角度？**
# bfloat16 只有 8 位有效位：256 以上相邻的位置会被舍入成同一个数，得到相同的旋转；float32 在 $2^{24}$
# 以内能精确表示每个位置，但它的角度误差随位置增大（在 $10^6$ 附近达到百分之几弧度）。
#
# **为什么长上下文训练之前要调大底数？** 底数越大，每一对转得越慢，远程衰减越弱（Xiong 等人在 32K 长度上训练，
# 底数从 10 000 调到 500 000）；而且 Men 等人的 $B(m)=\sum_i\cos(m\theta_i)$ 能在整个上下文范围内保持非负：
# 底数为 10 000、$d=128$ 时，它在距离 1 707 处就变为负数；即使底数为 500 000，它也在 18 438 处变负，达不到
# Xiong 等人训练时的 32 768（Men 等人给出的 32K 下界约为 $6.3\cdot 10^5$）。
