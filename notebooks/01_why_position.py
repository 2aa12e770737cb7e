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
# # 01 — Why a Transformer needs positions
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - **Q1** What does positional encoding do in a Transformer?
#   Transformer 中位置编码的作用是什么？
# - **Coding** Write scaled dot-product attention by hand (with a mask).
#   手写缩放点积注意力（含掩码）。
#
# **What you will do / 你要做的事**
#
# 1. Write `scaled_dot_product_attention` in `exercises/attention.py` and grade it here.
# 2. Write `is_permutation_equivariant`, the test that proves Q1's answer, and use it on your attention.
# 3. See the sinusoidal encoding as a picture, and check its key property: PE(p + k) is a fixed linear
#    function (a rotation) of PE(p).

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw comes from a seeded generator
rng = np.random.default_rng(0)

# %% [markdown]
# ## 1. Scaled dot-product attention
#
# Each query asks every key "how relevant are you?", and the answers weight the values:
#
# $$
# \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt d}\right) V,
# \qquad Q \in \mathbb R^{T_q\times d},\ K \in \mathbb R^{T_k\times d},\ V \in \mathbb R^{T_k\times d_v}.
# $$
#
# - **Why $1/\sqrt d$?** With unit-variance entries, $q\cdot k$ is a sum of $d$ terms and has variance
#   $d$. Without the scale the softmax saturates (one weight near 1, the rest near 0) and its gradient
#   vanishes. Dividing by $d$ would overcorrect: the scores shrink toward 0 and the weights flatten.
# - **The softmax runs over the keys** (the last axis): each query's row of weights sums to 1.
# - **The mask** is boolean, True = "may attend" (PyTorch's convention). Forbidden scores become
#   $-\infty$ *before* the softmax, so their weight is exactly 0 and the row still sums to 1.
#   A causal mask is the lower triangle: token $t$ sees tokens $\le t$.
# - Batch and head axes just broadcast: `q @ k.transpose(-2, -1)` works for `[..., T, d]`.
#
# 缩放：$q\cdot k$ 的方差是 $d$，除以 $\sqrt d$ 使 softmax 不饱和；softmax 在 key 维度上归一化；
# 掩码（True 表示可以关注）要在 softmax **之前**把分数置为 $-\infty$。
#
# ### Exercise: implement `scaled_dot_product_attention` in `exercises/attention.py`
#
# `scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)` for q `[..., Tq, d]`, k
# `[..., Tk, d]`, v `[..., Tk, dv]`, by hand (the check refuses torch's fused attention). The same file
# has `is_permutation_equivariant` for section 2; the check below grades both.
#
# 练习：在 `exercises/attention.py` 中实现这两个函数，保存后运行下一个单元格评分。

# %%
check("attention")

# %% [markdown]
# Your attention at work: a causal mask on 6 tokens. Row $t$ is query $t$; the upper triangle is 0 and
# every row sums to 1.

# %%
attention = load("attention")
T, d = 6, 16
q, k, v = torch.randn(3, T, d, generator=gen)
causal = torch.ones(T, T, dtype=torch.bool).tril()  # True = may attend
out, weights = attention.scaled_dot_product_attention(q, k, v, causal)
print("row sums:", weights.sum(-1).numpy().round(6))

fig, axs = plt.subplots(1, 2, figsize=(8, 3.2))
axs[0].imshow(causal, cmap="Greys")
axs[0].set(title="mask (True = may attend)", xlabel="key", ylabel="query")
im = axs[1].imshow(weights, cmap="viridis")
axs[1].set(title="your attention weights", xlabel="key", ylabel="query")
fig.colorbar(im, ax=axs[1])
plt.show()

# %% [markdown]
# ## 2. Without positions, attention cannot tell the order (Q1)
#
# Self-attention computes $q, k, v$ from each token's vector alone. Permute the tokens with a
# permutation $P$: every score moves with its tokens, so
#
# $$\mathrm{SelfAttn}(P X) = P\,\mathrm{SelfAttn}(X).$$
#
# That is **permutation equivariance**: the layer sees a *bag* of tokens. "dog bites man" and
# "man bites dog" produce the same set of outputs, just reordered. Positional information (added to $X$,
# or rotating $q$ and $k$ as RoPE does) or a causal mask breaks the symmetry.
#
# 没有位置信息时，自注意力对输入的置换是等变的：打乱词序，输出只是同样地被打乱，模型无法区分词序。
#
# `is_permutation_equivariant(layer, x, perm)` (the second function of `exercises/attention.py`) checks
# $\mathrm{layer}(x[\ldots, \pi, :]) = \mathrm{layer}(x)[\ldots, \pi, :]$ on the **token** axis. Here it
# is applied to one head of self-attention built on *your* `scaled_dot_product_attention`:

# %%
d = 16
W_q, W_k, W_v = torch.randn(3, d, d, generator=gen, dtype=torch.float64) / d**0.5
x = torch.randn(2, 7, d, generator=gen, dtype=torch.float64)  # (B, T, d)
perm = torch.randperm(7, generator=gen)


def pe_table(length, d, base=10000.0):
    """Sinusoidal table (Vaswani et al. 2017) in numpy, (length, d); section 3 draws it."""
    omega = base ** (-np.arange(0, d, 2) / d)  # (d/2,)
    angles = np.arange(length)[:, None] * omega  # (length, d/2)
    return np.stack([np.sin(angles), np.cos(angles)], -1).reshape(length, d)  # sin, cos interleaved


pe = torch.from_numpy(pe_table(7, d))  # (T, d)


def self_attention(x, mask=None):
    return attention.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, mask)[0]  # (B, T, d)


layers = {
    "self-attention, no positions": self_attention,
    "self-attention, sinusoidal PE added": lambda x: self_attention(x + pe),
    "causal self-attention": lambda x: self_attention(x, torch.ones(7, 7, dtype=torch.bool).tril()),
}
print("perm =", perm.tolist())
for name, layer in layers.items():
    print(f"{name:38s} equivariant: {attention.is_permutation_equivariant(layer, x, perm)}")

# %% [markdown]
# The same fact as a picture: the weights for the shuffled input are the original weights with rows
# **and** columns shuffled. Nothing in them says which token came first.

# %%
_, w = attention.scaled_dot_product_attention(x[0] @ W_q, x[0] @ W_k, x[0] @ W_v)
_, w_perm = attention.scaled_dot_product_attention(x[0, perm] @ W_q, x[0, perm] @ W_k, x[0, perm] @ W_v)
fig, axs = plt.subplots(1, 3, figsize=(10, 3))
titles = ("weights(x)", "weights(x[perm])", "weights(x)[perm][:, perm]")
for ax, m, title in zip(axs, (w, w_perm, w[perm][:, perm]), titles, strict=True):
    ax.imshow(m, cmap="viridis", vmin=0, vmax=float(w.max()))
    ax.set(title=title, xticks=[], yticks=[])
plt.show()
print("weights(x[perm]) == weights(x)[perm][:, perm]:", torch.allclose(w_perm, w[perm][:, perm]))

# %% [markdown]
# ## 3. The sinusoidal encoding (Vaswani et al. 2017)
#
# The original Transformer adds a fixed table to the embeddings. Pair $(2i, 2i+1)$ turns at the
# frequency $\omega_i = 10000^{-2i/d}$:
# $\ \mathrm{PE}[p, 2i] = \sin(p\,\omega_i),\ \mathrm{PE}[p, 2i+1] = \cos(p\,\omega_i)$.
# The first columns oscillate fast, the last barely move (wavelengths $2\pi$ to $2\pi\cdot 10^4$).
# (You implement it in notebook 03; here `pe_table` from section 2 draws it with numpy.)

# %%
table = pe_table(100, 64)
fig, ax = plt.subplots(figsize=(6, 4))
im = ax.imshow(table, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
ax.set(xlabel="feature (even: sin, odd: cos)", ylabel="position p", title="Sinusoidal PE, 100 x 64")
fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown]
# ### PE(p + k) is a linear function of PE(p)
#
# The paper chose sinusoids because "for any fixed offset $k$, $\mathrm{PE}_{p+k}$ can be represented as
# a linear function of $\mathrm{PE}_p$". By the angle-addition formulas, pair $i$ obeys
#
# $$
# \begin{pmatrix}\sin((p+k)\omega_i)\\ \cos((p+k)\omega_i)\end{pmatrix}
# = \begin{pmatrix}\cos k\omega_i & \sin k\omega_i\\ -\sin k\omega_i & \cos k\omega_i\end{pmatrix}
# \begin{pmatrix}\sin p\omega_i\\ \cos p\omega_i\end{pmatrix},
# $$
#
# a 2×2 **rotation** that depends on $k$ only, not on $p$. Let us not trust the algebra: fit the best
# matrix $M$ with $\mathrm{PE}_{p+k} \approx M\,\mathrm{PE}_p$ by least squares over all $p$, for $k = 5$,
# and look at it. (This is the seed of RoPE: position shifts act as rotations of feature pairs.)

# %%
d, k_shift = 8, 5
P = pe_table(1000, d)
A, B = P[:-k_shift], P[k_shift:]  # rows PE_p and PE_{p+k}
M = np.linalg.lstsq(A, B, rcond=None)[0].T  # B ≈ A @ M.T, i.e. PE_{p+k} ≈ M PE_p
print("largest residual |PE_{p+k} - M PE_p|:", np.abs(A @ M.T - B).max().round(12))
print("M is orthogonal (M^T M = I):", np.allclose(M.T @ M, np.eye(d), atol=1e-8))
omega = 1e4 ** (-np.arange(0, d, 2) / d)
c, s = np.cos(k_shift * omega), np.sin(k_shift * omega)  # (d/2,)
expected = np.zeros((d, d))
for i in range(d // 2):  # block i: [[cos, sin], [-sin, cos]] of the angle k * omega_i
    expected[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[c[i], s[i]], [-s[i], c[i]]]
print("M equals the block-diagonal formula:", np.allclose(M, expected, atol=1e-6))

fig, ax = plt.subplots(figsize=(4, 4))
ax.imshow(M, cmap="RdBu", vmin=-1, vmax=1)
ax.set(title=f"fitted M for k = {k_shift}: block-diagonal rotations", xticks=[], yticks=[])
plt.show()

# %% [markdown]
# So *between two positional vectors*, the sinusoidal table already "knows" offsets. Why then is it
# called absolute, and why did RoPE replace it? Because the table is **added** to the content: the
# q·k score also contains cross terms between content and position that depend on $p$ itself. Notebook
# 02 measures exactly that.

# %% [markdown]
# ## 4. Interview answer / 面试回答
#
# **Q1. What does positional encoding do? / 位置编码的作用是什么？**
#
# *English (say it in ~30 s):* Self-attention compares every token with every other token using only
# their contents, so it is permutation-equivariant: shuffle the input tokens and the outputs are
# shuffled the same way. On its own it treats a sentence as a bag of words and cannot tell "dog bites
# man" from "man bites dog". Positional encoding injects order: either absolute (a sinusoidal or
# learned vector added to each embedding) or relative (RoPE rotates q and k by position-dependent
# angles, so the score depends on the distance between tokens). A causal mask also breaks the symmetry,
# and more than it seems: the t-th token (counting from 1) attends to exactly t tokens, so a decoder can
# recover absolute positions with no encoding at all (NoPE: Haviv et al. 2022, Kazemnejad et al. 2023).
# A bidirectional encoder has no such signal and needs an encoding.
#
# *中文：* 自注意力只根据词的内容计算相似度，因此对输入是置换等变的：打乱输入顺序，输出只会以同样方式
# 打乱，模型把句子当成词袋，分不清“狗咬人”和“人咬狗”。位置编码把顺序信息注入模型：绝对位置编码
# （正弦或可学习向量加到词向量上），或相对位置编码（RoPE 按位置旋转 q 和 k，使注意力分数只依赖
# 相对距离）。因果掩码也会打破对称性，而且作用不小：第 t 个词（从 1 数起）恰好关注 t 个词，因此
# decoder 即使完全不加位置编码也能恢复绝对位置（NoPE：Haviv et al. 2022，Kazemnejad et al. 2023）。
# 双向的编码器没有这种信号，必须使用位置编码。
#
# **Why divide by $\sqrt d$? / 为什么除以 $\sqrt d$？** The dot product of two random unit-variance
# vectors has variance $d$; scaling by $1/\sqrt d$ keeps the scores at unit variance so the softmax does
# not saturate and gradients keep flowing.
# 两个方差为 1 的随机向量点积方差为 $d$，除以 $\sqrt d$ 让分数方差回到 1，softmax 不饱和、梯度不消失。
#
# Stuck? `ropekit hint attention` in a terminal shows the next hint; `ropekit solution attention` the
# reference. 卡住了用 `ropekit hint attention` 查看提示。
