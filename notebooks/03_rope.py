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
# # 03 — From sinusoidal encodings to RoPE
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - **Q1** What does positional encoding do in a Transformer?
#   Transformer 中位置编码的作用是什么？
#   *(Self-attention on its own is permutation-equivariant: shuffle the tokens and the outputs are
#   shuffled the same way. Without positions, "dog bites man" and "man bites dog" look alike.)*
#   *（自注意力本身是置换等变的：打乱输入顺序，输出只是以同样的方式被打乱。没有位置信息，模型分不清词序。）*
# - **Q2** Why do absolute encodings (sinusoidal or learned) fall short?
#   为什么传统的绝对位置编码（正弦或可学习）效果不够好？
# - **Q3** What is the core idea of RoPE, and what are its advantages?
#   RoPE 的核心思想是什么？有哪些优势？
# - **Coding** Implement RoPE. / 手写 RoPE。
#
# **What you will do / 你要做的事**
#
# 1. See why attention needs positions, and look at the sinusoidal table (formula and heat map).
# 2. Implement `sinusoidal_encoding` in `exercises/sinusoidal.py` and grade it here.
# 3. Measure why absolute encodings are not enough: the q·k score moves when both tokens shift.
# 4. Derive RoPE, look at its frequencies, and clear up the source documents' myths.
# 5. Compare the two pair layouts (half-split and interleaved).
# 6. Implement `rope_cos_sin`, `apply_rope` and `apply_rope_complex` in `exercises/rope.py`.
# 7. Use *your* implementation to verify the relative property, see long-term decay, and see why
#    angles must not be computed in bf16.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

rng = np.random.default_rng(0)  # every random draw in this notebook comes from a seeded generator
gen = torch.Generator().manual_seed(0)

# %% [markdown]
# ## 1. Why a Transformer needs positions (Q1)
#
# Attention mixes tokens with weights $\mathrm{softmax}(q_m \cdot k_n / \sqrt d)$ that depend only on the
# *contents* of the tokens. Permute the input rows and every output row moves with its token: the
# layer is **permutation-equivariant**. One cell proves it (plain numpy, one head):


# %%
def attention(x, W_q, W_k, W_v):
    q, k, v = x @ W_q, x @ W_k, x @ W_v  # (T, d) each
    s = q @ k.T / np.sqrt(x.shape[1])  # (T, T)
    w = np.exp(s - s.max(1, keepdims=True))
    return (w / w.sum(1, keepdims=True)) @ v  # (T, d)


x = rng.standard_normal((5, 8))  # 5 tokens, d = 8
W_q, W_k, W_v = rng.standard_normal((3, 8, 8))
perm = np.array([3, 0, 4, 1, 2])
print(
    "attention(x[perm]) == attention(x)[perm]:",
    np.allclose(attention(x[perm], W_q, W_k, W_v), attention(x, W_q, W_k, W_v)[perm]),
)

# %% [markdown]
# ## 2. The sinusoidal encoding (Vaswani et al. 2017)
#
# The original Transformer *adds* a fixed table to the token embeddings. Feature pair $(2i, 2i+1)$
# oscillates at the angular frequency $\omega_i = \text{base}^{-2i/d}$ (base = 10 000):
#
# $$
# \mathrm{PE}[p, 2i] = \sin\!\left(\frac{p}{\text{base}^{2i/d}}\right), \qquad
# \mathrm{PE}[p, 2i+1] = \cos\!\left(\frac{p}{\text{base}^{2i/d}}\right).
# $$
#
# The wavelengths $2\pi/\omega_i$ grow geometrically from $2\pi$ to $2\pi\cdot\text{base}$: the first
# columns flip quickly, the last ones barely move. The table below is computed with numpy only to draw it.


# %%
def pe_table(length, d, base=10000.0):
    """Sinusoidal table in numpy (for pictures and demos), shape (length, d)."""
    angles = np.arange(length)[:, None] * base ** (-np.arange(0, d, 2) / d)  # (length, d/2)
    return np.stack([np.sin(angles), np.cos(angles)], axis=-1).reshape(length, d)  # sin, cos interleaved


pe = pe_table(64, 64)
fig, ax = plt.subplots(figsize=(6, 4.5))
im = ax.imshow(pe, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
ax.set(
    xlabel="feature (even: sin, odd: cos)",
    ylabel="position p",
    title="Sinusoidal PE, 64 positions x 64 features",
)
fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown]
# **Spot the bug (source document 000).** The sinusoidal code in the first source document is wrong in
# two ways and differs from the paper in a third, and interviewers like to ask "what is wrong with this
# code?":
#
# - it takes `torch.arange(0, d_model // 2, 2)` as the exponents, so it gets only d/4 frequencies and
#   its table has **d/2 columns** (the comment claims `[1, 512, 1024]`; the code gives `[1, 512, 256]`);
# - it **multiplies** the position by $2i/d$ instead of dividing by $\text{base}^{2i/d}$, so the
#   frequencies grow linearly from 0 instead of falling geometrically from 1 (its first "frequency" is 0:
#   a constant column);
# - it concatenates `[sin | cos]` instead of interleaving them. That is not a bug: it is a fixed
#   permutation of the features, which the first layer's weights absorb (tensor2tensor's
#   `get_timing_signal_1d` concatenates too); it is just not the paper's layout, which this exercise asks
#   for.
#
# Correct looks like the heat map: shape `[length, d_model]`, column 0 (= $\sin p$) and column 1
# (= $\cos p$) change at every row, and columns further right vary more and more slowly.
#
# ### Exercise: implement `sinusoidal_encoding` in `exercises/sinusoidal.py`
#
# `sinusoidal_encoding(length, d_model, base=10000.0)` returns a float32 tensor `[length, d_model]` with
# the formula above (sin in even columns, cos in odd ones), and raises `ValueError` for an odd `d_model`
# or `length < 1`. Save the file and run the next cell; it grades your file with hidden checks.
#
# 练习：在 `exercises/sinusoidal.py` 中实现 `sinusoidal_encoding`，保存后运行下一个单元格评分。

# %%
check("sinusoidal")

# %% [markdown]
# ## 3. Why absolute encodings fall short (Q2)
#
# With an additive encoding, the query of token a at position m is $W_q(x_a + \mathrm{PE}_m)$ and the key
# of token b at position n is $W_k(x_b + \mathrm{PE}_n)$. Expanding their dot product leaves cross terms
# such as $x_a^\top W_q^\top W_k \mathrm{PE}_n$ that depend on the **absolute** position n, not on $n - m$.
# So the same two words at the same distance get a different score at the start and in the middle of a
# text. Demo: keep the distance fixed at 7, shift both tokens by s, and watch the score move.

# %%
d = 64
pe = pe_table(1024, d)
x_a, x_b = rng.standard_normal((2, d))  # two fixed token embeddings
W_q, W_k = rng.standard_normal((2, d, d)) / np.sqrt(d)  # fixed projections


def score_additive(m, n):
    q, k = W_q @ (x_a + pe[m]), W_k @ (x_b + pe[n])
    return q @ k / np.sqrt(d)


shifts = np.arange(0, 500)
scores_abs = np.array([score_additive(3 + s, 10 + s) for s in shifts])  # distance n - m = 7 throughout
print(f"same tokens, same distance 7: score ranges from {scores_abs.min():.3f} to {scores_abs.max():.3f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(shifts, scores_abs)
ax.set(
    xlabel="shift s (positions m = 3 + s, n = 10 + s)",
    ylabel="q·k / sqrt(d)",
    title="Additive sinusoidal PE: the score depends on absolute position",
)
plt.show()

# %% [markdown]
# The second weakness of absolute schemes: a **learned** table (BERT, GPT-2) has one row per position
# up to its training length (512, 1024) and simply has no row for position 1025. The sinusoidal
# formula does produce values there, but the model never saw them and the score above shows they
# are not "the same" to the model as nearby positions.
#
# 第二个缺点：可学习的位置表（BERT、GPT-2）只有训练长度那么多行，超出长度就没有可用的向量；
# 正弦编码虽然可以算出更远的位置，但模型并没有见过，分数也不只依赖相对距离。

# %% [markdown]
# ## 4. RoPE: rotate, don't add (Q3)
#
# RoPE (RoFormer, Su et al. 2021, arXiv 2104.09864) splits the **feature dimension** $d$ (not the
# sequence) into $d/2$ two-dimensional pairs. At position $m$, pair $i$ of the query (and of the key) is
# rotated by the angle $m\,\theta_i$ with
#
# $$\theta_i = \text{base}^{-2i/d}, \qquad i = 0, \dots, d/2 - 1,$$
#
# $$
# \begin{pmatrix} q'_{(i,1)} \\ q'_{(i,2)} \end{pmatrix} =
# \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix}
# \begin{pmatrix} q_{(i,1)} \\ q_{(i,2)} \end{pmatrix}.
# $$
#
# Call $R_m$ the block-diagonal matrix of these $d/2$ rotations. Rotations compose and their transpose
# is their inverse, $R(a)^\top R(b) = R(b - a)$, hence
#
# $$
# \langle R_m q, R_n k \rangle = q^\top R_m^\top R_n\, k = q^\top R_{n-m}\, k = \langle q, R_{n-m} k\rangle .
# $$
#
# The score depends on the positions **only through $n - m$**: relative position, with no learned
# table and no extra parameters. Norms are preserved ($\|R_m q\| = \|q\|$), and the code never builds
# $R_m$: it is two element-wise multiply-adds per pair.
#
# 核心思想：把特征维度两两分组，第 $i$ 组在位置 $m$ 旋转角度 $m\theta_i$；旋转的可组合性让
# $q\cdot k$ 只依赖相对位置 $n-m$。
#
# Each pair is a clock hand turning at its own speed. The first pairs turn fast (wavelength $2\pi$
# tokens), the last ones slowly (wavelength close to $2\pi\cdot\text{base}$):

# %%
d, base = 128, 10000.0
i = np.arange(d // 2)
theta = base ** (-2 * i / d)  # (d/2,)
fig, axs = plt.subplots(1, 2, figsize=(11, 3.5))
axs[0].semilogy(i, theta, label=r"$\theta_i$ (rad / token)")
axs[0].semilogy(i, 2 * np.pi / theta, label=r"wavelength $2\pi/\theta_i$ (tokens)")
axs[0].set(xlabel="pair index i", title=f"d = {d}, base = {base:g}")
axs[0].legend()
m = np.arange(400)
pairs = (0, 8, 16, 32, 48)
for row, j in enumerate(pairs):  # one row per pair, stacked
    axs[1].plot(m, np.cos(m * theta[j]) + 2.5 * row, lw=1)
axs[1].set(xlabel="position m", title=r"$\cos(m\,\theta_i)$ for a few pairs (stacked)")
axs[1].set(yticks=2.5 * np.arange(len(pairs)), yticklabels=[f"pair {j}" for j in pairs])
plt.show()

# %% [markdown]
# ### Myths in the source documents, corrected / 源文档中的错误说法
#
# - *"RoPE reduces computational complexity."* No. It **adds** $O(T\cdot d)$ element-wise work;
#   attention stays $O(T^2 \cdot d)$. Its advantages are a relative-position score, long-term decay, no
#   learned table, and compatibility with linear attention. / RoPE 并不降低复杂度。
# - *"RoPE is added to the embeddings"* (document 000's classifier does `src = src + pos_encoding`). No:
#   RoPE **rotates q and k inside every attention layer**, after the projections; it is never added to
#   anything and **never applied to v**. / RoPE 不加到词向量上，只旋转 q 和 k，不作用于 v。
# - *"RoPE splits the sequence into groups."* No: the **feature dimension** is split into pairs.
# - Document 001's "rotation matrix" $\mathrm{softmax}(\theta\cdot \mathrm{pos}_i)$ is not a rotation:
#   softmax outputs are positive and sum to 1, so it is not orthogonal, does not preserve norms, and is
#   not a function of relative position.
# - Its worked example uses dimension 3. RoPE rotates pairs, so the rotated dimension must be **even**.
# - The paper is **RoFormer: Enhanced Transformer with Rotary Position Embedding**, Su, Lu, Pan,
#   Murtadha, Wen, Liu (2021), arXiv 2104.09864, not "Zhou et al., 2020".

# %% [markdown]
# ## 5. Two layouts of the pairs: half-split and interleaved
#
# Which two features form pair $i$? Codebases disagree:
#
# | layout | pair $i$ | used by |
# | --- | --- | --- |
# | interleaved | features $(2i,\ 2i+1)$ | the paper, Meta's Llama (complex form), GPT-J |
# | half-split | features $(i,\ i + d/2)$ | Hugging Face Llama, GPT-NeoX (`rotate_half`) |
#
# For $d = 8$ (colour = pair, all features of one colour turn together at $\theta_i$):

# %%
d8 = 8
interleaved_pair = np.arange(d8) // 2  # feature f belongs to pair f // 2
half_split_pair = np.arange(d8) % (d8 // 2)  # feature f belongs to pair f mod d/2
fig, ax = plt.subplots(figsize=(7, 1.8))
ax.imshow(np.stack([interleaved_pair, half_split_pair]), cmap="tab10", vmin=0, vmax=9)
for row, pairs in enumerate((interleaved_pair, half_split_pair)):
    for f, p in enumerate(pairs):
        ax.text(f, row, f"f{f}\npair {p}", ha="center", va="center", fontsize=8, color="white")
ax.set(xticks=[], yticks=[0, 1], yticklabels=["interleaved", "half-split"])
plt.show()

# %% [markdown]
# They are **the same map up to a fixed permutation** of features. Let $P$ reorder a vector as
# $[x_0, x_2, x_4, \dots, x_1, x_3, x_5, \dots]$ (evens first, then odds). Then pair $(2i, 2i+1)$ of $x$
# lands on positions $(i, i + d/2)$ of $Px$, so
# $\ \mathrm{halfsplit}(Px) = P\,\mathrm{interleaved}(x)$. Since $P$ is orthogonal and applied to both q
# and k, $\langle Pa, Pb\rangle = \langle a, b\rangle$: attention scores are identical. What does change is
# the checkpoint: weights trained with one layout need the rows of $W_q$ and $W_k$ permuted to run
# with the other (converting Meta's Llama weights to Hugging Face does exactly this). Mixing the two
# silently gives a model that runs and produces garbage.

# %% [markdown]
# ## 5a. RoPE on the whiteboard (numpy) / 白板版 RoPE
#
# Interviewers often ask for the matrix form first. $R(m)$ is block diagonal; block $i$ acts on features
# $(2i, 2i+1)$:
#
# $$R(m) = \mathrm{diag}\big(R_0(m), \dots, R_{d/2-1}(m)\big),\qquad
#   R_i(m) = \begin{pmatrix}\cos m\theta_i & -\sin m\theta_i\\ \sin m\theta_i & \cos m\theta_i\end{pmatrix},
#   \qquad \theta_i = \text{base}^{-2i/d}.$$
#
# Building the $d\times d$ matrix is fine on a whiteboard and useless in a model: applying it costs
# $O(d^2)$ per token, while rotating the pairs element-wise costs $O(d)$.
#
# **Exercise:** implement `rope_frequencies`, `rotation_matrix` and `apply_rope` (without building the
# matrix) in `exercises/rope_numpy.py`, numpy only. 练习：在 `exercises/rope_numpy.py` 中用 numpy 实现。

# %%
check("rope_numpy")

# %%
rope_np = load("rope_numpy")
R = rope_np.rotation_matrix(5, 8)  # (8, 8) at position 5
fig, axes = plt.subplots(1, 2, figsize=(7, 3))
axes[0].imshow(R, cmap="RdBu", vmin=-1, vmax=1)
axes[0].set_title("R(5), d = 8: 2x2 blocks on the diagonal")
axes[1].imshow(R.T @ R, cmap="RdBu", vmin=-1, vmax=1)
axes[1].set_title("R(5)^T R(5) = I (orthogonal)")
plt.show()

# %% [markdown]
# ## 5b. Spot the bug: document 001's "rotation matrix" / 找错：文档 001 的“旋转矩阵”
#
# Source document 001 defines the rotation matrix as $\mathrm{softmax}(\theta\cdot pos_i)$ with
# $pos_i = [i, i^2, \dots, i^d]$, and works an example with $d = 3$. Interviewers like "what is wrong
# with this?" questions. A rotation must be square and orthogonal with determinant $+1$ (so it keeps
# lengths), and RoPE's must make $R(m)^\top R(n)$ depend only on $n - m$. A softmax matrix has
# positive entries whose rows sum to 1: it averages, it does not rotate. And $d = 3$ cannot be split
# into 2-D pairs at all.
#
# **Exercise:** in `exercises/rotation_bug.py` write `is_rotation`, `preserves_norms`, `is_relative`
# and the fix `fixed_matrix_at` (which must refuse an odd dimension with a clear `ValueError`).
# 练习：在 `exercises/rotation_bug.py` 中写出这些检验函数，并给出正确的矩阵。

# %%
check("rotation_bug")

# %%
bug = load("rotation_bug")
M = bug.document_matrix(4)
print("document's matrix is a rotation:", bug.is_rotation(M), "| keeps norms:", bug.preserves_norms(M))
print("document's matrix is relative:", bug.is_relative(lambda m: bug.document_matrix_at(m, 4)))
print("fixed matrix is relative:     ", bug.is_relative(lambda m: bug.fixed_matrix_at(m, 4)))

# %% [markdown]
# ## 6. Exercise: implement `rope_cos_sin`, `apply_rope` and `apply_rope_complex` in `exercises/rope.py`
#
# - `rope_cos_sin(positions, dim, base=10000.0, *, dtype=torch.float32) -> (cos, sin)`: each of shape
#   `[*positions.shape, dim]` in the half-split layout (column $j$ and $j + d/2$ hold the same angle,
#   the table is `cat(freqs, freqs)`). Compute the angles in float32 or better, whatever `dtype` is
#   asked, and cast only cos and sin (section 7 shows why).
# - `apply_rope(x, positions, *, base=10000.0, interleaved=False, rotary_dim=None)`: x `[..., T, dim]`,
#   integer positions broadcastable to `[..., T]`. `interleaved=False` pairs $(i, i + d/2)$,
#   `interleaved=True` pairs $(2i, 2i+1)$; `rotary_dim=r` rotates the first r features only. Same shape,
#   dtype and device as x; do not modify x; never build a `[T, dim, dim]` matrix; `ValueError` for an
#   odd dim or rotary_dim, or rotary_dim > dim. Optional `cos_sin=rope_cos_sin(positions, r, base,
#   dtype=x.dtype)`: a table computed once and shared by q, k and every layer (section 7.4).
# - `apply_rope_complex(x, positions, *, base=10000.0)`: view adjacent features as complex numbers and
#   multiply by $e^{\mathrm{i}\,m\theta_i}$; equals `apply_rope(..., interleaved=True)`.
#
# For a pair $(x_1, x_2)$ and angle $a$: $x_1' = x_1\cos a - x_2 \sin a$, $\ x_2' = x_2 \cos a + x_1 \sin a$.
#
# 练习：在 `exercises/rope.py` 中实现这三个函数，保存后运行下一个单元格评分。

# %%
check("rope")

# %% [markdown]
# ## 7. Your RoPE at work
#
# The cells below import **your** `exercises/rope.py` (re-run them after editing the file).
#
# ### 7.1 The relative property, numerically
#
# Take the same two tokens as in section 3 (now without any additive encoding), rotate q at m and k at n,
# and compare the score for $(m, n)$ with the score for $(m + s, n + s)$.

# %%
rope = load("rope")
d = 64
q = torch.from_numpy(W_q @ x_a)  # (d,) float64, the two tokens of section 3
k = torch.from_numpy(W_k @ x_b)


def rope_score(m, n):
    qm = rope.apply_rope(q[None], torch.tensor([m]))  # (1, d): one token at position m
    kn = rope.apply_rope(k[None], torch.tensor([n]))
    return (qm @ kn.T).item() / d**0.5


for m, n in [(3, 10), (103, 110), (5003, 5010), (10, 3), (510, 503)]:
    print(f"(m, n) = ({m:5d}, {n:5d})  n - m = {n - m:3d}  score = {rope_score(m, n):+.10f}")

# %%
T = len(shifts)
Q = rope.apply_rope(q.expand(T, d), torch.from_numpy(3 + shifts))  # (T, d): q at 3 + s
K = rope.apply_rope(k.expand(T, d), torch.from_numpy(10 + shifts))  # (T, d): k at 10 + s
scores_rope = (Q * K).sum(-1).numpy() / d**0.5  # (T,)
print(f"RoPE, distance 7 at every shift: max - min = {scores_rope.max() - scores_rope.min():.2e}")

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(shifts, scores_abs, label="additive sinusoidal (section 3)")
ax.plot(shifts, scores_rope, label="RoPE (your apply_rope)")
ax.set(xlabel="shift s (positions 3 + s, 10 + s)", ylabel="q·k / sqrt(d)")
ax.legend()
plt.show()

# %% [markdown]
# The three forms you wrote agree: half-split on permuted features equals permuted interleaved, and
# the complex form equals interleaved.

# %%
x = torch.randn(2, 5, 16, generator=gen, dtype=torch.float64)  # (B, T, d)
pos = torch.tensor([0, 1, 7, 100, 4096])
P = torch.cat([torch.arange(0, 16, 2), torch.arange(1, 16, 2)])  # evens first, then odds
half = rope.apply_rope(x[..., P], pos, interleaved=False)
inter = rope.apply_rope(x, pos, interleaved=True)
print("halfsplit(Px) == P interleaved(x):", torch.allclose(half, inter[..., P]))
print("complex == interleaved:          ", torch.allclose(rope.apply_rope_complex(x, pos), inter))

# %% [markdown]
# ### 7.2 Long-term decay
#
# For random q and k = q, the score of q at position 0 against the same vector at distance r is
# $\sum_i (q_{i,1}^2 + q_{i,2}^2)\cos(r\theta_i)$, whose average is proportional to
# $\frac{2}{d}\sum_i \cos(r\theta_i)$: it starts at 1 and decays (with ripples) as r grows, because the
# pairs' angles drift out of phase. So *for a key equal to the query*, closer tokens tend to score
# higher. (RoFormer section 3.4.3 proves an upper bound of this kind; you will compute it in the
# long-context notebook.) The grey band shows that a *single* draw is much noisier than the average.
#
# Be careful how far this goes: for independent random q and k the expected score is 0 at *every*
# distance (each pair's rotated dot product averages to zero), so the decay is a statement about keys
# that resemble the query, not a locality prior for free on any input. Barbero et al. 2024 ("Round and
# Round We Go! What makes Rotary Positional Encodings useful?", arXiv 2410.06205) argue that this decay
# is not why RoPE works: trained models use the low frequencies as semantic channels and the high ones
# to build positional attention patterns.

# %%
d, n_draws = 128, 400
r = np.unique(np.round(np.logspace(0, 4.5, 160)).astype(int))  # distances 1 .. ~31 600
r = np.concatenate([[0], r])
qs = torch.randn(n_draws, 1, d, generator=gen)  # (N, 1, d) random q, k = q
rotated = rope.apply_rope(qs.expand(n_draws, len(r), d), torch.from_numpy(r))  # (N, R, d)
decay = (qs * rotated).sum(-1) / d  # (N, R): <q at 0, q at r> / d
theory = np.cos(r[:, None] * (10000.0 ** (-np.arange(0, d, 2) / d))).mean(1)  # (R,)

fig, ax = plt.subplots(figsize=(7, 3.5))
lo, hi = np.percentile(decay.numpy(), [10, 90], axis=0)
ax.fill_between(r, lo, hi, color="0.85", label="10–90 % of single draws")
ax.plot(r, decay.mean(0).numpy(), label=f"mean over {n_draws} draws (your apply_rope)")
ax.plot(r, theory, "--", label=r"expected: mean$_i \cos(r\theta_i)$")
ax.set(xscale="symlog", xlabel="relative distance r", ylabel="q·k / d", title="RoPE long-term decay, d = 128")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ### 7.3 Precision: never compute the angles in bf16
#
# Models run in bf16, but bf16 has only 8 significant bits: the position 60 000 itself is not
# representable, and an angle of 60 000 rad carries an error of dozens of radians. The demo below (plain
# torch, not your code) computes $\cos(m\theta_i)$ at m = 60 000 three ways and compares each with a
# float64 reference.

# %%
m, d = 60000, 128
theta64 = 10000.0 ** (-torch.arange(0, d, 2, dtype=torch.float64) / d)  # (d/2,)
truth = torch.cos(m * theta64)  # float64 reference
print("60000 stored in bf16 becomes", torch.tensor(float(m)).to(torch.bfloat16).item())

angles_bf16 = torch.tensor(float(m), dtype=torch.bfloat16) * theta64.to(torch.bfloat16)  # WRONG
cos_bad = torch.cos(angles_bf16.double())
cos_fp32 = torch.cos(m * theta64.float()).to(torch.bfloat16).double()  # fp32 angles, cast cos
cos_yours = rope.rope_cos_sin(torch.tensor([m]), d, dtype=torch.bfloat16)[0][0, : d // 2].double()
for name, c in [
    ("angles in bf16", cos_bad),
    ("angles in fp32, cos cast to bf16", cos_fp32),
    ("your rope_cos_sin(dtype=bf16)", cos_yours),
]:
    print(f"{name:34s} max |cos error| = {(c - truth).abs().max().item():.4f}")

# %%
fig, ax = plt.subplots(figsize=(7, 3))
ax.semilogy((cos_bad - truth).abs().clamp_min(1e-6), ".", label="angles in bf16")
ax.semilogy((cos_fp32 - truth).abs().clamp_min(1e-6), ".", label="angles in fp32, cos cast to bf16")
ax.axhline(2**-9, color="0.5", ls=":", label="bf16 rounding of a value near 1")
ax.set(xlabel="pair index i", ylabel="|cos error|", title=r"$\cos(m\,\theta_i)$ at m = 60 000")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# With bf16 angles the fast pairs' cosines are pure noise (errors up to 2), so the model sees the wrong
# position. The fix is what your `rope_cos_sin` does: compute the angles in float32 (the reference uses
# float64) and cast only cos and sin.
#
# 精度要点：角度 $m\theta_i$ 必须用 float32 或更高精度计算，只把 cos/sin 转成 bf16；
# 否则在大位置上位置信息完全错误。

# %% [markdown]
# ### 7.4 Speed: memory passes for prefill, operations for decode / 速度：预填充看内存遍数，解码看算子数
#
# RoPE does almost no arithmetic per byte, so for a prompt (prefill, many tokens) its speed is a count
# of passes over `[B, H, T, d]`, and of fresh full-size buffers (a new buffer costs page faults the
# first time it is written). The Hugging Face form `x * cos + rotate_half(x) * sin` makes about five
# passes and four full-size temporaries: `rotate_half` negates one half and concatenates, then
# `x * cos`, `rotate_half(x) * sin` and the sum. The reference writes the same identity as
# $x' = x \odot \cos + \mathrm{swap}(x) \odot (-\sin, +\sin)$, where swap exchanges the two features of
# each pair (`x.roll(d/2, -1)` for half-split pairs, a flip of each adjacent pair when interleaved),
# and folds the pair's sign into the angle: the first feature of pair $i$ gets the angle $-m\theta_i$,
# so one table gives $\cos$ (cos is even) and $(-\sin, +\sin)$ (sin is odd) at once. Then one copy
# (the swap, the only new buffer), one multiply by sin and one fused multiply-add of $x \cos$, both in
# place on that copy: three passes, all over contiguous full-width tensors. Autograd follows in-place
# operations on a fresh tensor, so training and inference run the same lines. (The previous reference
# updated the two halves through strided views, `out[..., :d/2]`: as fast in fp32, but in bf16 each
# strided half-pass cost as much as a full contiguous pass.)
# The table matters as much: the plain call computes float64 angles and their cos and sin on every
# call (only the signed frequencies are cached, per configuration, as a model keeps `inv_freq` in a
# buffer). A model computes the table once per forward pass and passes it to every layer:
# `apply_rope(q, pos, cos_sin=table)`, `table = rope_cos_sin(pos, d, dtype=q.dtype)`.
#
# For one new token (decode, `[1, 32, 1, 128]`) nothing is memory-bound: 4096 numbers, and each
# PyTorch operation costs a few µs of dispatch on this CPU whatever its size. Speed is then the number
# of operations: HF's form is 7 (a multiply, two slices, a negation, a concatenation, a multiply, an
# add); the reference with a table 4 (the signs, the swap, the two in-place updates); the plain call
# adds the table, 3 more, computed in float64: one fused multiply-add gives each feature's angle twice,
# as is and shifted by $-\pi/2$ (a `[..., T, 2, r]` tensor), so that one `cos` gives both cos and sin
# ($\sin a = \cos(a - \pi/2)$), and one cast. (Separate `cos` and `sin` calls, each with its own cast,
# were 6.)
#
# Why eager bf16 on a CPU stays far from the memory limit: each eager operation converts bf16 to
# float32, computes, and rounds back, separately; the conversions are the work, not the bytes. Even
# three passes are three rounds of conversions plus the rounding of the intermediate `x * cos`.
# `torch.compile` fuses the whole formula into one loop (read bf16 once, compute in float32, write
# bf16 once), which is why it leads in bf16 and why the fused Triton kernel (optional `rope_triton`)
# is the GPU answer.
#
# `ropekit bench` on this project's 2-core x86-64 machine (AMD EPYC, torch 2.13 CPU, 2 threads; one
# run, medians of interleaved calls; a shared machine, so read the ratios, not the times):
#
# | case | `apply_rope` | HF eager | `torch.compile` | `x.clone()` | vs HF eager | of clone | vs compile |
# | --- | --- | --- | --- | --- | --- | --- | --- |
# | prefill [1, 32, 2048, 128] fp32 | 8.4 ms | 52.3 ms | 26.3 ms | 12.5 ms | 6.20x | 148 % | 3.12x |
# | prefill [1, 32, 2048, 128] bf16 | 3.8 ms | 4.8 ms | 2.4 ms | 0.8 ms | 1.24x | 22 % | 0.61x |
# | prefill [8, 32, 512, 64] bf16 | 4.2 ms | 12.3 ms | 2.9 ms | 0.9 ms | 2.93x | 22 % | 0.68x |
# | decode [1, 32, 1, 128] fp32, plain call | 15.9 µs | 10.9 µs | 19.4 µs | 1.3 µs | 0.68x | 8 % | 1.22x |
# | decode, `cos_sin=` precomputed table | 7.3 µs | 10.9 µs | 19.4 µs | 1.3 µs | 1.50x | 18 % | 2.68x |
#
# Prefill: the times depend on where a new tensor's memory comes from. A 32 MiB fp32 tensor always gets
# fresh pages (page faults on first write): HF's form pays for four new tensors, the reference for one,
# hence 6x, and even `x.clone()` is slower than the reference, whose arithmetic hides part of the
# faults. A 16 MiB bf16 tensor is sometimes served from the memory the previous call freed: then nobody
# pays faults and what is left is the arithmetic, 3 passes against 5, about 1.1-1.5x (the 1.24x above;
# 2-2.9x in runs where the faults were paid). `torch.compile` leads in bf16: it converts once.
# Decode: with a shared table the reference's 4 operations beat HF's 7 (1.5x); the plain call builds
# its float64 table each time (3 more operations) and costs about 1.5x HF's time (0.68x; it was 0.49x
# with separate `cos` and `sin` calls, and 0.23x with the strided-halves version): build the table once
# per step and share it.
#
# RoPE 几乎没有计算量：预填充时速度取决于对 `[B, H, T, d]` 的内存遍数和新分配的整块缓冲区个数（HF 写法约
# 5 遍、4 个临时张量；参考实现 3 遍：先复制出交换了每对两个特征的 `swap(x)`，再在它上面原地乘 sin、原地加
# x·cos，全是连续的整行运算；每对第一个特征的角度取负号，一张表同时给出 cos 和 (−sin, +sin)）。
# cos/sin 表只需每次前向计算一次、各层共享（`cos_sin=` 参数）；角度与 cos/sin 都在 float64 中计算，精度不降。
# 解码时只有一个 token，耗时取决于算子个数（HF 7 个；参考实现带表 4 个，不带表再加 3 个：一次乘加同时算出角度 a 和 a − π/2，一次 cos 同时得到 cos 和 sin，因为 sin a = cos(a − π/2)，再一次类型转换），因此表要在每步
# 只算一次、各层共享。
# CPU 上 eager 的 bf16 每个算子都要单独做 bf16↔fp32 转换，所以离内存带宽上限很远；`torch.compile`
# 把整个公式融合成一个循环，只转换一次。

# %% [markdown]
# ## 8. Interview questions / 面试题
#
# **Why rotate only q and k, never v? / 为什么只旋转 q 和 k，不旋转 v？**
# Position should decide *how much* token m attends to token n, which is the score $q_m\cdot k_n$;
# rotating both makes it depend on $n - m$. Nothing cancels a rotation of v, so rotating v would write
# each key's absolute angle into the output and break the relative property. RoPE is applied per head,
# after the q/k projections and before the dot product (with a KV cache, keys are cached already rotated).
# 位置信息应当决定注意力分数 $q_m\cdot k_n$；对 q、k 同时旋转使分数只依赖 $n-m$。旋转 v 不会被抵消，
# 反而把绝对位置混进输出。RoPE 在每个头的投影之后、点积之前作用（使用 KV cache 时缓存旋转后的 k）。
#
# **What does a larger base do? / 增大 base 有什么效果？**
# $\theta_i = \text{base}^{-2i/d}$ becomes smaller for every pair except $i=0$: the slow pairs turn even
# more slowly, the longest wavelength $2\pi\cdot\text{base}$ grows, long-term decay is slower, and far
# positions stay distinguishable before the angles wrap around. That is why long-context models raise it
# (Llama 3 uses 500 000) and why "NTK-aware" scaling changes the base when extending the context.
# 除 $i=0$ 外所有频率变小，低频对转得更慢，最长波长 $2\pi\cdot\text{base}$ 变长，远程衰减更慢，
# 远距离位置仍可区分。因此长上下文模型会增大 base（如 Llama 3 用 500 000），NTK-aware 缩放也是调整 base。
#
# **What happens past the trained length? / 超过训练长度会怎样？**
# The slow pairs reach angles the model never saw during training (their period is longer than the
# training context), so attention patterns break and perplexity rises sharply: plain RoPE does not
# extrapolate well. The fixes (Position Interpolation, NTK-aware base scaling, YaRN, the Llama 3.1
# rule) are the subject of the long-context notebook later in the kit.
# 低频对会出现训练中从未见过的角度，注意力失常、困惑度急剧上升：原始 RoPE 外推能力有限。
# 解决方法（位置插值 PI、NTK-aware、YaRN、Llama 3.1 规则）见后面的长上下文 notebook。
#
# **Does RoPE make attention cheaper? / RoPE 会降低计算复杂度吗？**
# No: it adds $O(T\cdot d)$ element-wise work; attention stays $O(T^2\cdot d)$.
# 不会：它额外增加 $O(T\cdot d)$ 的逐元素计算，注意力仍是 $O(T^2\cdot d)$。
#
# **Half-split or interleaved: is it a different model? / 两种排列方式是不同的模型吗？**
# Same map up to a permutation of features; scores are identical, but a checkpoint trained with one
# layout needs its $W_q$, $W_k$ rows permuted for the other.
# 两者只差一个特征置换，分数相同；但换一种实现加载权重时需要置换 $W_q$、$W_k$ 的行。

# %% [markdown]
# ## 9. Stuck, done, or curious? / 下一步
#
# In a terminal at the root of the kit:
#
# - `ropekit hint rope` shows the next hint level (also `ropekit hint sinusoidal`);
# - `ropekit solution rope` shows the reference solution (try the hints first);
# - `ropekit` lists every exercise with its status and your progress.
#
# 卡住了用 `ropekit hint rope` 看提示，`ropekit solution rope` 看参考答案，`ropekit` 查看整体进度。
