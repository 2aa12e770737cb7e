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
# # 06 — RoPE for long text and for images
#
# **Interview questions this notebook answers**
#
# - **Q4** How is RoPE used for long text? What is long-term decay, and how do PI, NTK-aware scaling,
#   YaRN and Llama 3.1 extend the context?
# - The source documents claim RoPE "works for images and multimodal models" without saying how. How?
#
# **What you will do**
#
# 1. Compute RoFormer's long-term decay bound and plot it for a few bases.
# 2. See which frequencies leave their trained range past the training length.
# 3. Implement PI, NTK-aware, YaRN and the Llama 3.1 rule in `exercises/long_context.py`, and see what
#    each does to every frequency.
# 4. Implement axial 2-D RoPE (and Qwen2-VL's M-RoPE) in `exercises/rope_2d.py` and look at the scores
#    on an image grid.

# %% [markdown] tags=["zh"]
# # 06 — 用于长文本和图像的 RoPE
#
# **本笔记本（notebook）回答的面试题**
#
# - **Q4** RoPE 如何用于长文本？什么是远程衰减？PI、NTK-aware 缩放、YaRN 和 Llama 3.1 分别是
#   如何扩展上下文的？
# - 源文档声称 RoPE “适用于图像和多模态模型”，却没有说明怎么做。具体怎么做？
#
# **你要做的事**
#
# 1. 计算 RoFormer 的远程衰减上界，并画出几种底数（base）下的曲线。
# 2. 看看超出训练长度之后，哪些频率会离开训练时覆盖的范围。
# 3. 在 `exercises/long_context.py` 中实现 PI、NTK-aware、YaRN 和 Llama 3.1 的规则，并观察每种方法
#    对各个频率的影响。
# 4. 在 `exercises/rope_2d.py` 中实现轴向 2-D RoPE（以及 Qwen2-VL 的 M-RoPE），并观察图像网格上的
#    注意力分数。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw in this notebook comes from a seeded generator

# %% [markdown] tags=["en"]
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
# $r\theta_k$ spread around the circle, the partial sums cancel, and the bound decays (with ripples):
# far-apart tokens can score less. It is a bound on how large a score *can* be, not a promise that every
# score decays.
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

# %% [markdown] tags=["zh"]
# ## 1. 远程衰减（RoFormer 第 3.4.3 节）
#
# 把一个注意力头的查询（q）和键（k）写成 $d/2$ 个复数 $q_i, k_i$（第 $i$ 对）。使用 RoPE 时，位置 $m$
# 上的查询与位置 $n$ 上的键之间的分数为 $\mathrm{Re}\sum_{i=0}^{d/2-1} h_i\, e^{\mathrm{i} (m-n)\theta_i}$，
# 其中 $h_i = q_i \bar k_i$（RoFormer 第 3.4 节）：把 $q_i$ 旋转 $m\theta_i$、把 $k_i$ 旋转 $n\theta_i$，
# 相当于把 $q_i \bar k_i$ 乘以 $e^{\mathrm{i}(m-n)\theta_i}$。记 $r = m - n$。令
# $S_j = \sum_{k<j} e^{\mathrm{i} r \theta_k}$，由 Abel 求和（分部求和）可得
#
# $$
# \Big|\sum_i h_i e^{\mathrm{i} r\theta_i}\Big| \le \Big(\max_i |h_{i+1} - h_i|\Big) \sum_{j=1}^{d/2} |S_j| .
# $$
#
# **相对上界** $\frac{1}{d/2}\sum_{j=1}^{d/2} |S_j|$ 只取决于 $r$、$d$ 和底数，而且只取决于距离 $|r|$：
# $S_j(-r) = \overline{S_j(r)}$ 的模与 $S_j(r)$ 相同，所以 $r$ 的符号约定不影响它。
# 当 $r = 0$ 时每一项都是 1，$|S_j| = j$，上界为 $(d/2 + 1)/2$；随着 $r$ 增大，相位 $r\theta_k$ 在圆周上
# 散开，部分和相互抵消，上界随之衰减（带波动）：相距较远的 token 之间分数可能更低。这是对分数*最大可能*有多大
# 的一个上界，并不保证每个分数都会衰减。
#
# ## 练习：实现 `exercises/long_context.py` 中的五个函数
#
# - `interpolate_positions(positions, scale)`：positions / scale（float64）。
# - `ntk_scaled_base(base, scale, dim)`：`base * scale ** (dim / (dim - 2))`。
# - `yarn_inv_freq(dim, base, scale, original_max_position, *, beta_fast=32.0, beta_slow=1.0)`：
#   返回 `(inv_freq [dim/2], attention_factor)`；公式见 docstring 以及下面的第 3 节。
# - `llama3_inv_freq(dim, base, factor, original_max_position, *, low_freq_factor=1.0, high_freq_factor=4.0)`
# - `long_term_decay_bound(dim, max_distance, base=10000.0)`：上面的上界，r = 0 .. max_distance。
#
# 你可以先读第 2 节和第 3 节；下一个单元格会对整个文件评分。

# %%
check("long_context")

# %% [markdown] tags=["en"]
# The cells below import **your** `exercises/long_context.py` (re-run them after editing it).

# %% [markdown] tags=["zh"]
# 下面的单元格导入的是**你的** `exercises/long_context.py`（修改它之后请重新运行这些单元格）。

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

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# 底数小时衰减很快（每一对都转得很快，几个 token 之后相位就散开了）；底数 500 000（Llama 3）能在数千个
# token 的范围内让上界保持在高位：**底数越大，衰减越慢，远处的位置越容易区分**，这正是长上下文模型要调大
# 底数的原因。
#
# ## 2. 超出训练长度之后，问题出在哪里
#
# 在训练长度 $L$ 内，第 $i$ 对转过 $L\theta_i / 2\pi$ 圈。高频对要转上百圈：它们圆周上的每个角度在训练中
# 都出现过。低频对转**不到一圈**：训练只覆盖了弧段 $[0, (L-1)\theta_i]$，到了 $L$ 之后的位置，它们会转到
# 模型从未见过的角度。破坏外推的正是这些对。

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

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ## 3. 扩展上下文的四种方法
#
# 从 $L$ 扩展到 $L' = sL$（缩放倍数为 $s$）。每种方法改变的要么是位置，要么是频率：
#
# | 方法 | 改变了什么 | 高频对 | 低频对 |
# | --- | --- | --- | --- |
# | PI (Chen et al. 2023) | 位置 $m \to m/s$ | 变慢 $s$ 倍 | 变慢 $s$ 倍 |
# | NTK-aware (bloc97 2023) | 底数 $\to$ base $\cdot s^{d/(d-2)}$ | $\theta_0$ 不变 | 最低频：$\theta/s$ |
# | YaRN (Peng et al. 2023) | 按圈数做斜坡过渡，加温度系数 | 不变（> $\beta_{fast}$ 圈） | $\theta/s$ |
# | Llama 3.1 (Meta 2024) | 按波长做斜坡过渡 | 不变（$\lambda < L/4$） | $\theta$/factor（$\lambda > L$） |
#
# YaRN 的斜坡过渡：在 $L$ 个 token 内转 $R$ 圈的那一对，其下标为
# $\mathrm{cd}(R) = \frac{d\,\ln(L / 2\pi R)}{2\ln \text{base}}$；下标低于
# $\lfloor \mathrm{cd}(\beta_{fast})\rfloor$ 的对保持不变，高于
# $\lceil \mathrm{cd}(\beta_{slow})\rceil$ 的对做内插，两者之间线性过渡。YaRN 还把
# q 和 k 乘以 $0.1\ln s + 1$：拉长上下文会让注意力变平（token 更多，分数之间的对比度更低），这个
# **温度系数**让它重新变得尖锐。
#
# 每种方法一张图，全部由**你的**函数算出：每一对的频率被除以了多少
# （$\theta_i / \theta'_i$；PI 除的是位置，等价于把每个频率都除以 $s$）。

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

# %% [markdown] tags=["en"]
# ### An experiment: how many angles are unseen at $4L$?
#
# For each method, count the (position, pair) angles in the extended context $[0, 4L)$ that fall on
# an arc the model never saw in training (slow pairs only: the fast ones have seen the whole circle).
# The count is what a method must fix; how much the *fast* pairs are slowed is what it costs
# (neighbouring positions become harder to tell apart, so the model needs fine-tuning to cope).

# %% [markdown] tags=["zh"]
# ### 一个实验：在 $4L$ 时有多少角度是没见过的？
#
# 对每种方法，统计扩展后的上下文 $[0, 4L)$ 中，有多少（位置，对）组合的角度落在模型训练时从未见过的弧段上
# （只看低频对：高频对已经见过整个圆周）。这个数量是一种方法必须解决的问题；而*高频*对被放慢了多少，则是
# 它付出的代价（相邻位置变得更难区分，模型需要微调才能适应）。

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

# %% [markdown] tags=["en"]
# Plain RoPE sends a large share of the slow pairs' angles off their trained arc. PI leaves none
# but slows *every* pair by 4, so neighbouring tokens look 4 times closer (why it needs fine-tuning).
# NTK-aware keeps $\theta_0$ but stretches the middle pairs by less than $s$: only the very last pair
# is divided by the full $s$, so most slow pairs still overshoot (the weakness YaRN's paper points
# out). YaRN and Llama 3.1 keep the fast pairs exact and interpolate the slow ones fully: no unseen
# angle, no blur where it matters.

# %% [markdown] tags=["zh"]
# 原始 RoPE 让低频对的很大一部分角度跑出了训练时的弧段。PI 没有任何角度越界，但把*每一*对都放慢了 4 倍，
# 相邻 token 看起来近了 4 倍（这就是它需要微调的原因）。NTK-aware 保持 $\theta_0$ 不变，但中间各对被拉伸的
# 倍数小于 $s$：只有最后一对被除以完整的 $s$，所以大多数低频对仍然会越界（这正是 YaRN 论文指出的弱点）。
# YaRN 和 Llama 3.1 让高频对保持精确不变，对低频对做完全内插：既没有未见过的角度，在关键的地方也不会变
# 模糊。

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ## 4. 用于图像的 RoPE：轴向 2-D RoPE（Heo et al. 2024）
#
# ViT 把一张图像切成 $H\times W$ 的图像块（patch）网格，按光栅顺序（逐行）排列：第 $t$ 个图像块位于第
# $t // W$ 行、第 $t \% W$ 列。轴向 2-D RoPE（即 *Rotary Position Embedding for Vision Transformer* 中的
# “RoPE-Axial”，Heo et al. 2024，arXiv 2403.13298）让一半特征对使用列位置，另一半使用行位置：
#
# - 特征 $[0, d/2)$，相邻交错（interleaved）的特征对 $(2j, 2j+1)$：
#   角度为 $\mathrm{col}\cdot\theta_j$（x 轴）；
# - 特征 $[d/2, d)$：角度为 $\mathrm{row}\cdot\theta_j$（y 轴）；
# - $\theta_j = \text{base}^{-4j/d}$，$j = 0..d/4-1$，底数取 100（论文针对图像块网格选用的值）。
#
# 每一半都是一个 1-D RoPE，所以 $\langle R_{r_1,c_1} q, R_{r_2,c_2} k\rangle$ 只取决于
# $(r_2 - r_1, c_2 - c_1)$。只有一行时，后一半永远不旋转，这时的映射**就是**对列位置做的 1-D RoPE，
# 其中 `rotary_dim = d/2`，采用相邻交错布局（这就是列的那一半放在前面的原因）。
#
# M-RoPE（Qwen2-VL，arXiv 2409.12191）对文本 + 图像 + 视频做同样的事：每个 token 有三个位置（时间、高度、
# 宽度），$d/2$ 个普通频率被分成三段（Qwen2-VL，$d = 128$：16、24、24 对）。文本 token 取
# $t = h = w$ = 它的下标，此时 M-RoPE 与 1-D RoPE 完全相同，因此语言模型在文本上的行为保持不变。
#
# ### 练习：在 `exercises/rope_2d.py` 中实现 `grid_positions`、`apply_rope_2d` 和 `apply_mrope`

# %%
check("rope_2d")

# %% [markdown] tags=["en"]
# The score of the centre patch against every patch of a 14 × 14 grid (random q, k = q, averaged over
# 200 draws, your `apply_rope_2d`): it depends on the offset in both directions and falls off with it.

# %% [markdown] tags=["zh"]
# 14 × 14 网格中，中心图像块与每个图像块之间的分数（随机 q，k = q，对 200 次采样取平均，使用你的
# `apply_rope_2d`）：它取决于两个方向上的偏移，并随偏移增大而减小。

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

# %% [markdown] tags=["en"]
# ## 5. Interview questions
#
# **Why base 10 000?**
# It is the sinusoidal encoding's choice, kept by RoFormer: wavelengths $2\pi\,\text{base}^{2i/d}$ run
# geometrically from $2\pi$ (one token resolves) to about $2\pi\cdot 10^4 \approx 63\,000$ tokens, far
# beyond the 512–2048 contexts of the time, so every position in training has a distinct set of angles.
# Nothing is special about it; it is a range choice, and long-context models raise it.
#
# **What does a larger base do?**
# Every frequency except $\theta_0$ gets smaller: the long-term decay is slower (section 1), slow pairs
# cover less of their circle per token, and fewer pairs reach unseen angles at a given length. Raising
# the base at inference only (NTK-aware) is a cheap context extension; raising it before training
# (Llama 3: 500 000) prepares for long contexts.
#
# **Why does PI need fine-tuning?**
# PI keeps every angle inside the trained range, but divides *all* frequencies by $s$: two neighbouring
# tokens now differ by $\theta_i / s$, a spacing the model never saw, so the fast pairs that encode local
# order lose resolution. A short fine-tune (Chen et al.: about 1000 steps) teaches the model the denser
# positions; without it perplexity suffers. NTK-aware, YaRN and Llama 3.1 leave the fast pairs alone.
#
# **What does YaRN's temperature do?**
# Interpolating the slow pairs makes distant keys look closer and spreads attention over more tokens:
# the softmax gets flatter (higher entropy). YaRN multiplies q and k by $\sqrt{1/t} = 0.1\ln s + 1$
# (1.139 at $s = 4$), i.e. the logits by its square, to restore the sharpness measured at the original
# length. It costs nothing at inference: fold it into cos and sin.
#
# **How does RoPE handle images?**
# Give each patch two positions and rotate half of the pairs with each (axial 2-D RoPE); scores then
# depend on the 2-D offset. Qwen2-VL's M-RoPE adds a temporal axis and splits the frequencies in three
# sections; text tokens get equal positions on all three axes and see ordinary 1-D RoPE.

# %% [markdown] tags=["zh"]
# ## 5. 面试题
#
# **为什么底数（base）取 10 000？**
# 这是正弦位置编码的选择，RoFormer 沿用了它：波长 $2\pi\,\text{base}^{2i/d}$ 从 $2\pi$（可分辨单个
# token）按几何级数增长到约 $2\pi\cdot 10^4 \approx 63\,000$ 个 token，远超当时 512–2048 的上下文长度，
# 因此训练中的每个位置都对应一组互不相同的角度。这个值本身没什么特别，只是对范围的一种选择，长上下文模型
# 会把它调大。
#
# **增大底数有什么效果？**
# 除 $\theta_0$ 外的所有频率都变小：远程衰减更慢（第 1 节），低频对每个 token 转过的圆周比例更小，在给定
# 长度下转到未见角度的对也更少。只在推理时增大底数（NTK-aware）是一种低成本的上下文扩展方法；在训练之前
# 就增大底数（Llama 3：500 000）则是在为长上下文做准备。
#
# **为什么位置内插（PI）需要微调？**
# PI 让每个角度都留在训练范围之内，但把*所有*频率都除以 $s$：相邻两个 token 的角度差变成了
# $\theta_i / s$，这是模型从未见过的间距，于是负责编码局部顺序的高频对失去了分辨率。短暂的微调
# （Chen et al.：约 1000 步）就能让模型学会更密的位置；不微调的话，困惑度会变差。NTK-aware、YaRN 和
# Llama 3.1 都不改动高频对。
#
# **YaRN 的温度系数有什么作用？**
# 对低频对做内插会让远处的键看起来更近，注意力被分散到更多 token 上：softmax 变得更平（熵更高）。YaRN 把
# q 和 k 乘以 $\sqrt{1/t} = 0.1\ln s + 1$（$s = 4$ 时为 1.139），也就是把 logits 乘以它的平方，以恢复在
# 原始长度下测得的锐度。它在推理时没有任何额外开销：直接并入 cos 和 sin 即可。
#
# **RoPE 如何用于图像？**
# 给每个图像块两个位置，一半特征对按其中一个位置旋转，另一半按另一个位置旋转（轴向 2-D RoPE）；这样分数就
# 只取决于二维偏移。Qwen2-VL 的 M-RoPE 再加一个时间轴，并把频率分成三段；文本 token 在三个轴上的位置相同，
# 看到的就是普通的 1-D RoPE。

# %% [markdown] tags=["en"]
# ## 6. Stuck, done, or curious?
#
# - `ropekit hint long_context`, `ropekit hint rope_2d` show the next hint level;
# - `ropekit solution long_context` shows the reference solution (try the hints first);
# - `ropekit` lists every exercise with its status and your progress.

# %% [markdown] tags=["zh"]
# ## 6. 卡住了、做完了，还是想继续深入？
#
# - `ropekit hint long_context`、`ropekit hint rope_2d` 显示下一级提示；
# - `ropekit solution long_context` 显示参考答案（请先试试提示）；
# - `ropekit` 列出所有练习及其状态，以及你的进度。
