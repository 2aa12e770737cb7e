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
# # 06 — RoPE for long text and for images
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - **Q4** How is RoPE used for long text? What is long-term decay, and how do PI, NTK-aware scaling,
#   YaRN and Llama 3.1 extend the context? / RoPE 如何用于长文本？什么是远程衰减？PI、NTK-aware、YaRN、
#   Llama 3.1 分别如何扩展上下文？
# - The source documents claim RoPE "works for images and multimodal models" without saying how. How?
#   源文档声称 RoPE 可用于图像和多模态，但没有说明方法。具体怎么做？
#
# **What you will do / 你要做的事**
#
# 1. Compute RoFormer's long-term decay bound and plot it for a few bases.
# 2. See which frequencies leave their trained range past the training length.
# 3. Implement PI, NTK-aware, YaRN and the Llama 3.1 rule in `exercises/long_context.py`, and see what
#    each does to every frequency.
# 4. Implement axial 2-D RoPE (and Qwen2-VL's M-RoPE) in `exercises/rope_2d.py` and look at the scores
#    on an image grid.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw in this notebook comes from a seeded generator

# %% [markdown]
# ## 1. Long-term decay (RoFormer section 3.4.3)
#
# Write the query and key of one head as $d/2$ complex numbers $q_i, k_i$ (pair $i$). With RoPE the
# score of the query at position $m$ and the key at position $n$ is
# $\mathrm{Re}\sum_{i=0}^{d/2-1} h_i\, e^{\mathrm{i} (m-n)\theta_i}$ with $h_i = q_i \bar k_i$
# (RoFormer section 3.4): rotating $q_i$ by $m\theta_i$ and $k_i$ by $n\theta_i$ multiplies
# $q_i \bar k_i$ by $e^{\mathrm{i}(m-n)\theta_i}$. Write $r = m - n$. Abel summation (summation by
# parts) with $S_j = \sum_{k<j} e^{\mathrm{i} r \theta_k}$ gives
#
# $$
# \Big|\sum_i h_i e^{\mathrm{i} r\theta_i}\Big| \le \Big(\max_i |h_{i+1} - h_i|\Big) \sum_{j=1}^{d/2} |S_j| .
# $$
#
# The **relative upper bound** $\frac{1}{d/2}\sum_{j=1}^{d/2} |S_j|$ depends only on $r$, $d$ and the base,
# and only on the distance $|r|$: $S_j(-r) = \overline{S_j(r)}$ has the same modulus, so the sign
# convention of $r$ does not change it.
# At $r = 0$ every term is 1, $|S_j| = j$ and the bound is $(d/2 + 1)/2$; as $r$ grows the phases
# $r\theta_k$ spread around the circle, the partial sums cancel, and the bound decays: far-apart tokens
# can score less. It is a bound on how large a score *can* be, not a promise that every score decays.
#
# 远程衰减：RoFormer 用 Abel 求和给出 $q\cdot k$ 的上界，其相对部分 $\frac{1}{d/2}\sum_j |S_j|$ 随相对距离 $r$
# 增大而衰减（带波动）：距离越远，注意力分数的上界越小。
#
# ## Exercise: implement the five functions of `exercises/long_context.py`
#
# - `interpolate_positions(positions, scale)`: positions / scale (float64).
# - `ntk_scaled_base(base, scale, dim)`: `base * scale ** (dim / (dim - 2))`.
# - `yarn_inv_freq(dim, base, scale, original_max_position, *, beta_fast=32.0, beta_slow=1.0)`:
#   `(inv_freq [dim/2], attention_factor)`; the formulas are in the docstring and in section 3 below.
# - `llama3_inv_freq(dim, base, factor, original_max_position, *, low_freq_factor=1.0, high_freq_factor=4.0)`.
# - `long_term_decay_bound(dim, max_distance, base=10000.0)`: the bound above for r = 0 .. max_distance.
#
# You may read sections 2 and 3 first; the next cell grades the whole file.
#
# 练习：在 `exercises/long_context.py` 中实现这五个函数，保存后运行下一个单元格评分。

# %%
check("long_context")

# %% [markdown]
# The cells below import **your** `exercises/long_context.py` (re-run them after editing it).

# %%
lc = load("long_context")
d = 128
fig, ax = plt.subplots(figsize=(7, 3.5))
for base in (100.0, 10000.0, 500000.0):
    bound = lc.long_term_decay_bound(d, 4000, base=base)
    ax.plot(np.arange(4001), bound.numpy(), lw=1, label=f"base = {base:g}")
ax.set(
    xscale="symlog",
    xlabel="relative distance r",
    ylabel="relative upper bound",
    title=f"RoFormer's long-term decay bound, d = {d}",
)
ax.legend()
plt.show()

# %% [markdown]
# A small base decays fast (every pair turns quickly, so phases scatter after a few tokens); base 500 000
# (Llama 3) keeps the bound high over thousands of tokens: **a larger base means slower decay and more
# distinguishable far positions**, which is why long-context models raise it.
#
# ## 2. What goes wrong past the trained length
#
# Pair $i$ turns $L\theta_i / 2\pi$ times over a training length $L$. Fast pairs turn hundreds of times:
# every angle on their circle was seen in training. Slow pairs turn **less than once**: training only
# covered the arc $[0, (L-1)\theta_i]$, and at positions past $L$ they reach angles the model never saw.
# Those are the pairs that break extrapolation.

# %%
d, base, L = 128, 10000.0, 2048
i = np.arange(d // 2)
theta = base ** (-2 * i / d)  # (d/2,)
turns = L * theta / (2 * np.pi)  # full turns of each pair over the training length
critical = int(np.argmax(turns < 1))  # first pair that never completes a turn in L tokens
print(f"d = {d}, base = {base:g}, L = {L}: pairs i >= {critical} turn less than once in L tokens")

fig, ax = plt.subplots(figsize=(7, 3))
ax.semilogy(i, turns)
ax.axhline(1, color="0.5", ls=":")
ax.axvspan(
    critical, d // 2 - 1, color="tab:red", alpha=0.15, label="less than one turn: unseen angles past L"
)
ax.set(xlabel="pair index i", ylabel="turns in L tokens", title="How far each pair turns during training")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## 3. Four ways to extend the context
#
# Extend from $L$ to $L' = sL$ (scale $s$). Each method changes the positions or the frequencies:
#
# | method | what changes | fast pairs | slow pairs |
# | --- | --- | --- | --- |
# | PI (Chen et al. 2023) | positions $m \to m/s$ | slowed by $s$ | slowed by $s$ |
# | NTK-aware (bloc97 2023) | base $\to$ base $\cdot s^{d/(d-2)}$ | $\theta_0$ kept | slowest: $\theta/s$ |
# | YaRN (Peng et al. 2023) | ramp by turns, temperature | kept (> $\beta_{fast}$ turns) | $\theta/s$ |
# | Llama 3.1 (Meta 2024) | ramp by wavelength | kept ($\lambda < L/4$) | $\theta$/factor ($\lambda > L$) |
#
# YaRN's ramp: the pair index that turns $R$ times in $L$ tokens is
# $\mathrm{cd}(R) = \frac{d\,\ln(L / 2\pi R)}{2\ln \text{base}}$; pairs below
# $\lfloor \mathrm{cd}(\beta_{fast})\rfloor$ are kept, pairs above
# $\lceil \mathrm{cd}(\beta_{slow})\rceil$ are interpolated, linearly in between. It also multiplies
# q and k by $0.1\ln s + 1$: stretching the context flattens attention (more tokens, lower-contrast
# scores), and this **temperature** sharpens it back.
#
# One plot per method, all from **your** functions: how much each pair's frequency is divided
# ($\theta_i / \theta'_i$; PI divides positions, which is the same as dividing every frequency by $s$).

# %%
s = 4.0
ntk_theta = lc.ntk_scaled_base(base, s, d) ** (-2 * i / d)
yarn_theta, yarn_factor = lc.yarn_inv_freq(d, base, s, L)
methods = {
    "PI: positions / s": theta / (lc.interpolate_positions(torch.tensor([1]), s).item() * theta),
    "NTK-aware: larger base": theta / ntk_theta,
    f"YaRN (attention factor {yarn_factor:.3f})": theta / yarn_theta.numpy(),
    "Llama 3.1 rule (its constants)": theta / lc.llama3_inv_freq(d, base, s, L).numpy(),
}
fig, axs = plt.subplots(2, 2, figsize=(10, 6), sharex=True, sharey=True)
for ax, (name, divided) in zip(axs.flat, methods.items(), strict=True):
    ax.plot(i, divided)
    ax.axvspan(critical, d // 2 - 1, color="tab:red", alpha=0.12)
    ax.set(title=name, ylim=(0.8, s * 1.15))
for ax in axs[1]:
    ax.set_xlabel("pair index i")
for ax in axs[:, 0]:
    ax.set_ylabel(r"$\theta_i / \theta'_i$")
fig.suptitle(f"Extending L = {L} by s = {s:g} (red: pairs with less than one turn in L)")
plt.tight_layout()
plt.show()

# %% [markdown]
# ### An experiment: how many angles are unseen at $4L$?
#
# For each method, count the (position, pair) angles in the extended context $[0, 4L)$ that fall on
# an arc the model never saw in training (slow pairs only: the fast ones have seen the whole circle).
# The count is what a method must fix; how much the *fast* pairs are slowed is what it costs
# (neighbouring positions become harder to tell apart, so the model needs fine-tuning to cope).

# %%
positions = torch.arange(int(s * L), dtype=torch.float64)  # (4L,)
seen = L * theta  # each pair saw the angles [0, L * theta_i) in training (positions [0, L)), (d/2,)
full_circle = seen >= 2 * np.pi  # pairs that saw every angle


def unseen_fraction(pos, inv_freq):
    angles = pos[:, None].numpy() * inv_freq  # (4L, d/2)
    outside = (angles >= seen) & ~full_circle  # beyond the trained arc of a slow pair
    return outside.mean()


rows = {  # (positions, frequencies) of each method, from your functions
    "plain RoPE": (positions, theta),
    "PI": (lc.interpolate_positions(positions, s), theta),
    "NTK-aware": (positions, lc.ntk_scaled_base(base, s, d) ** (-2 * i / d)),
    "YaRN": (positions, lc.yarn_inv_freq(d, base, s, L)[0].numpy()),
    "Llama 3.1": (positions, lc.llama3_inv_freq(d, base, s, L).numpy()),
}
print(f"{'method':12s} unseen angles at 4L   theta_0 slowed by")
for name, (pos, inv) in rows.items():
    slowed = (pos[1] - pos[0]).item() * inv[0]
    print(f"{name:12s} {100 * unseen_fraction(pos, inv):8.2f} %          x{1 / slowed:.2f}")

# %% [markdown]
# Plain RoPE sends a large share of the slow pairs' angles off their trained arc. PI leaves none
# but slows *every* pair by 4, so neighbouring tokens look 4 times closer (why it needs fine-tuning).
# NTK-aware keeps $\theta_0$ but stretches the middle pairs by less than $s$: only the very last pair
# is divided by the full $s$, so most slow pairs still overshoot (the weakness YaRN's paper points
# out). YaRN and Llama 3.1 keep the fast pairs exact and interpolate the slow ones fully: no unseen
# angle, no blur where it matters.
#
# 原始 RoPE 有大量未见过的角度；PI 没有，但所有频率都变慢 4 倍（相邻位置难以区分，需要微调）；
# NTK-aware 保持最高频不变，但中间频率拉伸不足 $s$ 倍，多数低频仍会超出训练范围；
# YaRN 和 Llama 3.1 保持高频不变，只对低频做完全插值。

# %% [markdown]
# ## 4. RoPE for images: axial 2-D RoPE (Heo et al. 2024)
#
# A ViT cuts an image into an $H\times W$ grid of patches, in raster order: patch $t$ sits at row
# $t // W$ and column $t \% W$. Axial 2-D RoPE ("RoPE-Axial" in *Rotary Position Embedding for Vision
# Transformer*, Heo et al. 2024, arXiv 2403.13298) gives half of the feature pairs the column and the
# other half the row:
#
# - features $[0, d/2)$, adjacent pairs $(2j, 2j+1)$: angle $\mathrm{col}\cdot\theta_j$ (x axis);
# - features $[d/2, d)$: angle $\mathrm{row}\cdot\theta_j$ (y axis);
# - $\theta_j = \text{base}^{-4j/d}$, $j = 0..d/4-1$, base 100 (the paper's choice for patch grids).
#
# Each half is a 1-D RoPE, so $\langle R_{r_1,c_1} q, R_{r_2,c_2} k\rangle$ depends only on
# $(r_2 - r_1, c_2 - c_1)$. With a single row, the second half never moves and the map **is** 1-D RoPE
# of the column with `rotary_dim = d/2` and adjacent pairs (this is why the column half comes first).
#
# M-RoPE (Qwen2-VL, arXiv 2409.12191) does the same for text + images + video: every token gets three
# positions (temporal, height, width) and the $d/2$ ordinary frequencies are split in three sections
# (Qwen2-VL, $d = 128$: 16, 24, 24 pairs). Text tokens get $t = h = w$ = their index, and M-RoPE is then
# exactly 1-D RoPE, so the language model is unchanged on text.
#
# ### Exercise: implement `grid_positions`, `apply_rope_2d` and `apply_mrope` in `exercises/rope_2d.py`
#
# 练习：在 `exercises/rope_2d.py` 中实现 `grid_positions`、`apply_rope_2d` 和 `apply_mrope`。

# %%
check("rope_2d")

# %% [markdown]
# The score of the centre patch against every patch of a 14 × 14 grid (random q, k = q, averaged over
# 200 draws, your `apply_rope_2d`): it depends on the offset in both directions and falls off with it.

# %%
r2 = load("rope_2d")
H = W = 14
rows_, cols_ = r2.grid_positions(H, W)  # (H*W,) each, raster order
d2, draws = 64, 200
q = torch.randn(draws, 1, d2, generator=gen, dtype=torch.float64)  # (N, 1, d)
centre = (H // 2) * W + W // 2
k_all = r2.apply_rope_2d(q.expand(draws, H * W, d2), rows_, cols_)  # (N, H*W, d)
q_centre = k_all[:, centre : centre + 1]  # (N, 1, d): the same vector placed at the centre
scores = (q_centre * k_all).sum(-1).mean(0) / d2  # (H*W,)

fig, ax = plt.subplots(figsize=(4.5, 4))
im = ax.imshow(scores.reshape(H, W).numpy(), cmap="viridis")
ax.plot(W // 2, H // 2, "r+", ms=12)
ax.set(title="2-D RoPE: mean q·k / d vs the centre", xlabel="column", ylabel="row")
fig.colorbar(im, ax=ax)
plt.show()

rope = load("rope")  # your rope.py of notebook 03
cols = torch.tensor([0, 5, 9])
one_row = r2.apply_rope_2d(q[:3, 0], torch.zeros(3, dtype=torch.long), cols)
columns_1d = rope.apply_rope(q[:3, 0], cols, base=100.0, interleaved=True, rotary_dim=d2 // 2)
print("one row == 1-D RoPE of the column on the first half:", torch.allclose(one_row, columns_1d))

# %% [markdown]
# ## 5. Interview questions / 面试题
#
# **Why base 10 000? / 为什么 base 取 10000？**
# It is the sinusoidal encoding's choice, kept by RoFormer: wavelengths $2\pi\,\text{base}^{2i/d}$ run
# geometrically from $2\pi$ (one token resolves) to about $2\pi\cdot 10^4 \approx 63\,000$ tokens, far
# beyond the 512–2048 contexts of the time, so every position in training has a distinct set of angles.
# Nothing is special about it; it is a range choice, and long-context models raise it.
# 沿用正弦编码的选择：波长从 $2\pi$ 几何增长到约 $2\pi\cdot 10^4$，远超当时的训练长度，
# 使每个位置的角度组合都不同。这只是一个范围选择，长上下文模型会把它调大。
#
# **What does a larger base do? / 增大 base 有什么效果？**
# Every frequency except $\theta_0$ gets smaller: the long-term decay is slower (section 1), slow pairs
# cover less of their circle per token, and fewer pairs reach unseen angles at a given length. Raising
# the base at inference only (NTK-aware) is a cheap context extension; raising it before training
# (Llama 3: 500 000) prepares for long contexts.
# 除 $\theta_0$ 外所有频率变小：衰减更慢，低频在给定长度内转过的角度更少，超出训练范围的角度更少。
# 推理时增大 base（NTK-aware）是廉价的扩展方式；训练前增大（Llama 3 用 500 000）则为长上下文做准备。
#
# **Why does PI need fine-tuning? / 为什么位置插值需要微调？**
# PI keeps every angle inside the trained range, but divides *all* frequencies by $s$: two neighbouring
# tokens now differ by $\theta_i / s$, a spacing the model never saw, so the fast pairs that encode local
# order lose resolution. A short fine-tune (Chen et al.: about 1000 steps) teaches the model the denser
# positions; without it perplexity suffers. NTK-aware, YaRN and Llama 3.1 leave the fast pairs alone.
# PI 把所有角度都压回训练范围，但所有频率都除以 $s$：相邻 token 的角度差变成训练中没见过的 $\theta_i/s$，
# 负责局部顺序的高频失去分辨率，因此需要少量微调。NTK-aware、YaRN、Llama 3.1 都保持高频不变。
#
# **What does YaRN's temperature do? / YaRN 的温度系数有什么作用？**
# Interpolating the slow pairs makes distant keys look closer and spreads attention over more tokens:
# the softmax gets flatter (higher entropy). YaRN multiplies q and k by $\sqrt{1/t} = 0.1\ln s + 1$
# (1.139 at $s = 4$), i.e. the logits by its square, to restore the sharpness measured at the original
# length. It costs nothing at inference: fold it into cos and sin.
# 插值使远处的 key 看起来更近，注意力更分散（熵变大）。YaRN 将 q、k 乘以 $0.1\ln s + 1$（$s=4$ 时为 1.139），
# 即 logits 乘以其平方，恢复原长度下的注意力锐度；推理时可直接并入 cos/sin，无额外开销。
#
# **How does RoPE handle images? / RoPE 如何用于图像？**
# Give each patch two positions and rotate half of the pairs with each (axial 2-D RoPE); scores then
# depend on the 2-D offset. Qwen2-VL's M-RoPE adds a temporal axis and splits the frequencies in three
# sections; text tokens get equal positions on all three axes and see ordinary 1-D RoPE.
# 每个图像块有行、列两个位置，一半特征对随列旋转、另一半随行旋转（轴向 2-D RoPE），分数只依赖二维偏移。
# Qwen2-VL 的 M-RoPE 再加一个时间轴，把频率分成三段；文本 token 三个位置相同，退化为普通 1-D RoPE。

# %% [markdown]
# ## 6. Stuck, done, or curious? / 下一步
#
# - `ropekit hint long_context`, `ropekit hint rope_2d` show the next hint level;
# - `ropekit solution long_context` shows the reference solution (try the hints first);
# - `ropekit` lists every exercise with its status and your progress.
