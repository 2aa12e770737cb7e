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
# # 03 — From sinusoidal encodings to RoPE
#
# **Interview questions this notebook answers**
#
# - **Q1** What does positional encoding do in a Transformer?
#   *(Self-attention on its own is permutation-equivariant: shuffle the tokens and the outputs are
#   shuffled the same way. Without positions, "dog bites man" and "man bites dog" look alike.)*
# - **Q2** Why do absolute encodings (sinusoidal or learned) fall short?
# - **Q3** What is the core idea of RoPE, and what are its advantages?
# - **Coding** Implement RoPE.
#
# **What you will do**
#
# 1. See why attention needs positions, and look at the sinusoidal table (formula and heat map).
# 2. Implement `sinusoidal_encoding` in `exercises/sinusoidal.py` and grade it here.
# 3. Measure why absolute encodings are not enough: the q·k score moves when both tokens shift.
# 4. Derive RoPE, look at its frequencies, and clear up the source documents' myths.
# 5. Compare the two pair layouts (half-split and interleaved).
# 6. Implement `rope_cos_sin`, `apply_rope` and `apply_rope_complex` in `exercises/rope.py`.
# 7. Use *your* implementation to verify the relative property, see long-term decay, and see why
#    angles must not be computed in bf16.

# %% [markdown] tags=["zh"]
# # 03 — 从正弦位置编码到旋转位置编码（RoPE）
#
# **本笔记本（notebook）回答的面试题**
#
# - **Q1** Transformer 中位置编码的作用是什么？
#   *（自注意力本身是置换等变的：打乱 token 的顺序，输出也只是按同样的方式被打乱。没有位置信息，
#   “狗咬人”和“人咬狗”在模型看来毫无区别。）*
# - **Q2** 为什么绝对位置编码（正弦或可学习的）不够好？
# - **Q3** RoPE 的核心思想是什么？有哪些优势？
# - **编程题** 手写 RoPE。
#
# **你要做的事**
#
# 1. 弄清注意力为什么需要位置信息，并看看正弦位置编码表（公式和热力图）。
# 2. 在 `exercises/sinusoidal.py` 中实现 `sinusoidal_encoding`，并在这里评分。
# 3. 用数值说明绝对位置编码为什么不够：两个 token 一起平移时，q·k 分数会跟着变。
# 4. 推导 RoPE，观察它的频率，并澄清源文档中的错误说法。
# 5. 比较特征对的两种布局：前后半分（half-split）和相邻交错（interleaved）。
# 6. 在 `exercises/rope.py` 中实现 `rope_cos_sin`、`apply_rope` 和 `apply_rope_complex`。
# 7. 用*你自己*的实现验证相对位置性质，观察远程衰减，并弄清为什么角度不能用 bf16 计算。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

rng = np.random.default_rng(0)  # every random draw in this notebook comes from a seeded generator
gen = torch.Generator().manual_seed(0)

# %% [markdown] tags=["en"]
# ## 1. Why a Transformer needs positions (Q1)
#
# Attention mixes tokens with weights $\mathrm{softmax}(q_m \cdot k_n / \sqrt d)$ that depend only on the
# *contents* of the tokens. Permute the input rows and every output row moves with its token: the
# layer is **permutation-equivariant**. One cell proves it (plain numpy, one head):

# %% [markdown] tags=["zh"]
# ## 1. Transformer 为什么需要位置信息（Q1）
#
# 注意力用权重 $\mathrm{softmax}(q_m \cdot k_n / \sqrt d)$ 来混合各个 token，而这些权重只取决于
# token 的*内容*。把输入的行打乱，每一行输出都会跟着自己的 token 移动：这一层是**置换等变**的。
# 用下面一个单元格就能验证这一点（纯 numpy，单个头）：


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

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ## 2. 正弦位置编码（Vaswani et al. 2017）
#
# 原始的 Transformer 把一张固定的表*加*到词向量上。特征对 $(2i, 2i+1)$ 以角频率
# $\omega_i = \text{base}^{-2i/d}$ 振荡（底数 base = 10 000）：
#
# $$
# \mathrm{PE}[p, 2i] = \sin\!\left(\frac{p}{\text{base}^{2i/d}}\right), \qquad
# \mathrm{PE}[p, 2i+1] = \cos\!\left(\frac{p}{\text{base}^{2i/d}}\right).
# $$
#
# 波长 $2\pi/\omega_i$ 从 $2\pi$ 按几何级数增长到 $2\pi\cdot\text{base}$：前面几列翻转得很快，
# 最后几列几乎不动。
# 下面这张表用 numpy 计算，只是为了画图。


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

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# **找错（源文档 000）。** 第一份源文档里的正弦位置编码代码有两处错误，另有一处与论文不一致；
# 面试官很喜欢问“这段代码哪里有问题？”：
#
# - 它用 `torch.arange(0, d_model // 2, 2)` 作为指数，所以只得到 d/4 个频率，表也只有 **d/2 列**
#   （注释声称形状是 `[1, 512, 1024]`，代码实际给出的是 `[1, 512, 256]`）；
# - 它把位置**乘以** $2i/d$，而不是除以 $\text{base}^{2i/d}$，于是频率从 0 开始线性增长，
#   而不是从 1 开始按几何级数递减（它的第一个“频率”是 0：一整列常数）；
# - 它把 `[sin | cos]` 拼接起来，而不是交错排列。这不算错：这只是特征的一个固定置换，
#   第一层的权重会把它吸收掉（tensor2tensor 的 `get_timing_signal_1d` 也是拼接的）；
#   只不过这不是论文的布局，而本练习要求的正是论文的布局。
#
# 正确的结果应该和上面的热力图一样：形状为 `[length, d_model]`，第 0 列（= $\sin p$）和第 1 列
# （= $\cos p$）每一行都在变，越往右的列变化越慢。
#
# ### 练习：在 `exercises/sinusoidal.py` 中实现 `sinusoidal_encoding`
#
# `sinusoidal_encoding(length, d_model, base=10000.0)` 按上面的公式返回形状为 `[length, d_model]` 的
# float32 张量（偶数列为 sin，奇数列为 cos）；`d_model` 为奇数或 `length < 1` 时抛出 `ValueError`。
# 保存文件后运行下一个单元格，它会用隐藏检查为你的文件评分。

# %%
check("sinusoidal")

# %% [markdown] tags=["en"]
# ## 3. Why absolute encodings fall short (Q2)
#
# With an additive encoding, the query of token a at position m is $W_q(x_a + \mathrm{PE}_m)$ and the key
# of token b at position n is $W_k(x_b + \mathrm{PE}_n)$. Expanding their dot product leaves cross terms
# such as $x_a^\top W_q^\top W_k \mathrm{PE}_n$ that depend on the **absolute** position n, not on $n - m$.
# So the same two words at the same distance get a different score at the start and in the middle of a
# text. Demo: keep the distance fixed at 7, shift both tokens by s, and watch the score move.

# %% [markdown] tags=["zh"]
# ## 3. 绝对位置编码为什么不够（Q2）
#
# 使用加性位置编码时，位置 m 上 token a 的查询是 $W_q(x_a + \mathrm{PE}_m)$，位置 n 上 token b 的键是
# $W_k(x_b + \mathrm{PE}_n)$。把两者的点积展开，会留下 $x_a^\top W_q^\top W_k \mathrm{PE}_n$ 这样的交叉项，
# 它依赖的是**绝对**位置 n，而不是 $n - m$。所以同样两个词、同样的距离，出现在文本开头和中间时分数并不相同。
# 演示：把距离固定为 7，两个 token 一起平移 s，看分数如何变化。

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

# %% [markdown] tags=["en"]
# The second weakness of absolute schemes: a **learned** table (BERT, GPT-2) has one row per position
# up to its training length (512, 1024) and simply has no row for position 1025. The sinusoidal
# formula does produce values there, but the model never saw them and the score above shows they
# are not "the same" to the model as nearby positions.

# %% [markdown] tags=["zh"]
# 绝对位置方案的第二个弱点：**可学习的**位置表（BERT、GPT-2）每个位置占一行，只到训练长度（512、1024）为止，
# 位置 1025 根本没有对应的行。正弦公式在那里倒是能算出值，但模型从没见过这些值；上面的分数也表明，
# 对模型来说它们和邻近的位置并不“一样”。

# %% [markdown] tags=["en"]
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
# Each pair is a clock hand turning at its own speed. The first pairs turn fast (wavelength $2\pi$
# tokens), the last ones slowly (wavelength close to $2\pi\cdot\text{base}$):

# %% [markdown] tags=["zh"]
# ## 4. RoPE：旋转，而不是相加（Q3）
#
# RoPE（旋转位置编码，出自 RoFormer，Su et al. 2021，arXiv 2104.09864）把**特征维度** $d$（而不是序列）
# 分成 $d/2$ 个二维的对。在位置 $m$ 上，查询（以及键）的第 $i$ 对旋转角度 $m\,\theta_i$，其中
#
# $$\theta_i = \text{base}^{-2i/d}, \qquad i = 0, \dots, d/2 - 1,$$
#
# $$
# \begin{pmatrix} q'_{(i,1)} \\ q'_{(i,2)} \end{pmatrix} =
# \begin{pmatrix} \cos m\theta_i & -\sin m\theta_i \\ \sin m\theta_i & \cos m\theta_i \end{pmatrix}
# \begin{pmatrix} q_{(i,1)} \\ q_{(i,2)} \end{pmatrix}.
# $$
#
# 记 $R_m$ 为由这 $d/2$ 个旋转组成的分块对角矩阵。旋转可以复合，而且转置就是逆，
# 即 $R(a)^\top R(b) = R(b - a)$，因此
#
# $$
# \langle R_m q, R_n k \rangle = q^\top R_m^\top R_n\, k = q^\top R_{n-m}\, k = \langle q, R_{n-m} k\rangle .
# $$
#
# 分数对位置的依赖**只通过 $n - m$**：这就是相对位置，既不需要可学习的表，也没有额外参数。
# 范数保持不变（$\|R_m q\| = \|q\|$），而且代码从来不构造 $R_m$：每一对只需两次逐元素的乘加。
#
# 每一对就像一根以自己的速度转动的表针。前面的对转得快（波长 $2\pi$ 个 token），
# 后面的对转得慢（波长接近 $2\pi\cdot\text{base}$）：

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

# %% [markdown] tags=["en"]
# ### Myths in the source documents, corrected
#
# - *"RoPE reduces computational complexity."* No. It **adds** $O(T\cdot d)$ element-wise work;
#   attention stays $O(T^2 \cdot d)$. Its advantages are a relative-position score, long-term decay, no
#   learned table, and compatibility with linear attention.
# - *"RoPE is added to the embeddings"* (document 000's classifier does `src = src + pos_encoding`). No:
#   RoPE **rotates q and k inside every attention layer**, after the projections; it is never added to
#   anything and **never applied to v**.
# - *"RoPE splits the sequence into groups."* No: the **feature dimension** is split into pairs.
# - Document 001's "rotation matrix" $\mathrm{softmax}(\theta\cdot \mathrm{pos}_i)$ is not a rotation:
#   softmax outputs are positive and sum to 1, so it is not orthogonal, does not preserve norms, and is
#   not a function of relative position.
# - Its worked example uses dimension 3. RoPE rotates pairs, so the rotated dimension must be **even**.
# - The paper is **RoFormer: Enhanced Transformer with Rotary Position Embedding**, Su, Lu, Pan,
#   Murtadha, Wen, Liu (2021), arXiv 2104.09864, not "Zhou et al., 2020".

# %% [markdown] tags=["zh"]
# ### 源文档中的错误说法及更正
#
# - *“RoPE 降低了计算复杂度。”* 错。它反而**增加**了 $O(T\cdot d)$ 的逐元素计算；
#   注意力仍然是 $O(T^2 \cdot d)$。它的优势在于：分数只依赖相对位置、远程衰减、不需要可学习的表，
#   以及能与线性注意力兼容。
# - *“RoPE 是加到词向量上的”*（文档 000 的分类器写的是 `src = src + pos_encoding`）。错：RoPE 在
#   **每一个注意力层内部、投影之后旋转 q 和 k**；它从不加到任何东西上，也**从不作用于 v**。
# - *“RoPE 把序列分成若干组。”* 错：被分成对的是**特征维度**。
# - 文档 001 的“旋转矩阵” $\mathrm{softmax}(\theta\cdot \mathrm{pos}_i)$ 根本不是旋转：
#   softmax 的输出全为正且和为 1，所以它不是正交矩阵，不保持范数，也不是相对位置的函数。
# - 它的算例用的是 3 维。RoPE 旋转的是特征对，所以被旋转的维度必须是**偶数**。
# - 论文是 **RoFormer: Enhanced Transformer with Rotary Position Embedding**（Su, Lu, Pan, Murtadha,
#   Wen, Liu，2021，arXiv 2104.09864），而不是“Zhou et al., 2020”。

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ## 5. 特征对的两种布局：前后半分与相邻交错
#
# 第 $i$ 对由哪两个特征组成？不同代码库的做法并不一致：
#
# | 布局 | 第 $i$ 对 | 使用者 |
# | --- | --- | --- |
# | 相邻交错（interleaved） | 特征 $(2i,\ 2i+1)$ | 原论文、Meta 的 Llama（复数形式）、GPT-J |
# | 前后半分（half-split） | 特征 $(i,\ i + d/2)$ | Hugging Face Llama、GPT-NeoX（`rotate_half`） |
#
# 以 $d = 8$ 为例（颜色表示所属的对，同一颜色的所有特征一起以 $\theta_i$ 转动）：

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

# %% [markdown] tags=["en"]
# They are **the same map up to a fixed permutation** of features. Let $P$ reorder a vector as
# $[x_0, x_2, x_4, \dots, x_1, x_3, x_5, \dots]$ (evens first, then odds). Then pair $(2i, 2i+1)$ of $x$
# lands on positions $(i, i + d/2)$ of $Px$, so
# $\ \mathrm{halfsplit}(Px) = P\,\mathrm{interleaved}(x)$. Since $P$ is orthogonal and applied to both q
# and k, $\langle Pa, Pb\rangle = \langle a, b\rangle$: attention scores are identical. What does change is
# the checkpoint: weights trained with one layout need the rows of $W_q$ and $W_k$ permuted to run
# with the other (converting Meta's Llama weights to Hugging Face does exactly this). Mixing the two
# silently gives a model that runs and produces garbage.

# %% [markdown] tags=["zh"]
# 两者**只差一个固定的特征置换，是同一个映射**。令 $P$ 把向量重排为
# $[x_0, x_2, x_4, \dots, x_1, x_3, x_5, \dots]$（先偶数下标，再奇数下标）。于是 $x$ 的特征对 $(2i, 2i+1)$
# 落到 $Px$ 的下标 $(i, i + d/2)$ 上，所以
# $\ \mathrm{halfsplit}(Px) = P\,\mathrm{interleaved}(x)$。由于 $P$ 是正交矩阵，并且同时作用于 q 和 k，
# $\langle Pa, Pb\rangle = \langle a, b\rangle$：注意力分数完全相同。真正会变的是检查点（checkpoint）：
# 用一种布局训练出的权重，要换成另一种布局运行，就得置换 $W_q$ 和 $W_k$ 的行
# （把 Meta 的 Llama 权重转换成 Hugging Face 格式时做的正是这件事）。两种布局混用，
# 模型照样能跑，却会悄无声息地输出一堆垃圾。

# %% [markdown] tags=["en"]
# ## 5a. RoPE on the whiteboard (numpy)
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
# matrix) in `exercises/rope_numpy.py`, numpy only.

# %% [markdown] tags=["zh"]
# ## 5a. 白板版 RoPE（numpy）
#
# 面试官常常先让你写出矩阵形式。$R(m)$ 是分块对角矩阵，第 $i$ 块作用在特征 $(2i, 2i+1)$ 上：
#
# $$R(m) = \mathrm{diag}\big(R_0(m), \dots, R_{d/2-1}(m)\big),\qquad
#   R_i(m) = \begin{pmatrix}\cos m\theta_i & -\sin m\theta_i\\ \sin m\theta_i & \cos m\theta_i\end{pmatrix},
#   \qquad \theta_i = \text{base}^{-2i/d}.$$
#
# 在白板上构造 $d\times d$ 的矩阵没问题，放进模型里却毫无用处：用它做乘法每个 token 要 $O(d^2)$，
# 而对各个对做逐元素旋转只要 $O(d)$。
#
# **练习：** 在 `exercises/rope_numpy.py` 中只用 numpy 实现 `rope_frequencies`、`rotation_matrix` 和
# `apply_rope`（`apply_rope` 不构造矩阵）。

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

# %% [markdown] tags=["en"]
# ## 5b. Spot the bug: document 001's "rotation matrix"
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

# %% [markdown] tags=["zh"]
# ## 5b. 找错：文档 001 的“旋转矩阵”
#
# 源文档 001 把旋转矩阵定义为 $\mathrm{softmax}(\theta\cdot pos_i)$，其中 $pos_i = [i, i^2, \dots, i^d]$，
# 还用 $d = 3$ 演算了一个例子。面试官很喜欢问“这有什么问题？”。旋转矩阵必须是方阵、正交，且行列式为 $+1$
# （因此保持长度），而 RoPE 的旋转矩阵还必须让 $R(m)^\top R(n)$ 只依赖 $n - m$。softmax 矩阵的元素全为正、
# 每行之和为 1：它做的是加权平均，不是旋转。而且 $d = 3$ 根本没法分成二维的对。
#
# **练习：** 在 `exercises/rotation_bug.py` 中写出 `is_rotation`、`preserves_norms`、`is_relative`，
# 以及修正版 `fixed_matrix_at`（遇到奇数维度时必须抛出信息清楚的 `ValueError`）。

# %%
check("rotation_bug")

# %%
bug = load("rotation_bug")
M = bug.document_matrix(4)
print("document's matrix is a rotation:", bug.is_rotation(M), "| keeps norms:", bug.preserves_norms(M))
print("document's matrix is relative:", bug.is_relative(lambda m: bug.document_matrix_at(m, 4)))
print("fixed matrix is relative:     ", bug.is_relative(lambda m: bug.fixed_matrix_at(m, 4)))

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ## 6. 练习：在 `exercises/rope.py` 中实现 `rope_cos_sin`、`apply_rope` 和 `apply_rope_complex`
#
# - `rope_cos_sin(positions, dim, base=10000.0, *, dtype=torch.float32) -> (cos, sin)`：两者的形状都是
#   `[*positions.shape, dim]`，采用前后半分布局（第 $j$ 列和第 $j + d/2$ 列是同一个角度，
#   表就是 `cat(freqs, freqs)`）。无论要求的 `dtype` 是什么，角度都要用 float32 或更高精度计算，
#   只把 cos 和 sin 转换成目标类型（第 7 节会说明原因）。
# - `apply_rope(x, positions, *, base=10000.0, interleaved=False, rotary_dim=None)`：
#   x 的形状为 `[..., T, dim]`，位置为整数，可广播到 `[..., T]`。
#   `interleaved=False` 时第 $i$ 对为 $(i, i + d/2)$，`interleaved=True` 时为 $(2i, 2i+1)$；
#   `rotary_dim=r` 表示只旋转前 r 个特征（部分旋转）。返回值与 x 的形状、dtype 和设备都相同；
#   不要修改 x；不要构造 `[T, dim, dim]` 的矩阵；dim 或 rotary_dim 为奇数，
#   或 rotary_dim > dim 时抛出 `ValueError`。可选参数 `cos_sin=rope_cos_sin(positions, r, base,
#   dtype=x.dtype)`：一张只算一次、由 q、k 和所有层共享的表（见第 7.4 节）。
# - `apply_rope_complex(x, positions, *, base=10000.0)`：把相邻的两个特征看作一个复数，
#   乘以 $e^{\mathrm{i}\,m\theta_i}$；结果与 `apply_rope(..., interleaved=True)` 相同。
#
# 对于一对 $(x_1, x_2)$ 和角度 $a$：$x_1' = x_1\cos a - x_2 \sin a$，$\ x_2' = x_2 \cos a + x_1 \sin a$。

# %%
check("rope")

# %% [markdown] tags=["en"]
# ## 7. Your RoPE at work
#
# The cells below import **your** `exercises/rope.py` (re-run them after editing the file).
#
# ### 7.1 The relative property, numerically
#
# Take the same two tokens as in section 3 (now without any additive encoding), rotate q at m and k at n,
# and compare the score for $(m, n)$ with the score for $(m + s, n + s)$.

# %% [markdown] tags=["zh"]
# ## 7. 你的 RoPE 实战
#
# 下面的单元格导入的是**你自己的** `exercises/rope.py`（修改文件后要重新运行它们）。
#
# ### 7.1 用数值验证相对位置性质
#
# 取第 3 节中同样的两个 token（这次不加任何加性位置编码），把 q 旋转到位置 m、k 旋转到位置 n，
# 比较 $(m, n)$ 和 $(m + s, n + s)$ 两种情况下的分数。

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

# %% [markdown] tags=["en"]
# The three forms you wrote agree: half-split on permuted features equals permuted interleaved, and
# the complex form equals interleaved.

# %% [markdown] tags=["zh"]
# 你写的三种形式结果一致：对置换后的特征做前后半分旋转，等于对相邻交错旋转的结果做同样的置换；
# 复数形式与相邻交错形式相同。

# %%
x = torch.randn(2, 5, 16, generator=gen, dtype=torch.float64)  # (B, T, d)
pos = torch.tensor([0, 1, 7, 100, 4096])
P = torch.cat([torch.arange(0, 16, 2), torch.arange(1, 16, 2)])  # evens first, then odds
half = rope.apply_rope(x[..., P], pos, interleaved=False)
inter = rope.apply_rope(x, pos, interleaved=True)
print("halfsplit(Px) == P interleaved(x):", torch.allclose(half, inter[..., P]))
print("complex == interleaved:          ", torch.allclose(rope.apply_rope_complex(x, pos), inter))

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ### 7.2 远程衰减
#
# 对随机的 q，取 k = q，位置 0 上的 q 与距离 r 处同一向量的分数为
# $\sum_i (q_{i,1}^2 + q_{i,2}^2)\cos(r\theta_i)$，其平均值正比于
# $\frac{2}{d}\sum_i \cos(r\theta_i)$：从 1 开始，随着 r 增大而衰减（带着波动），
# 因为各对的角度逐渐错开了相位。
# 所以*当键与查询相同时*，距离越近的 token 分数往往越高。（RoFormer 第 3.4.3 节证明了这类上界；
# 你会在长上下文笔记本中计算它。）灰色区域表明，*单次*采样的噪声比平均值大得多。
#
# 要注意这个结论的适用范围：对于相互独立的随机 q 和 k，在*任何*距离上分数的期望都是 0
# （每一对旋转后的点积平均为零），所以衰减说的是与查询相似的键，并不是对任意输入都白送的局部性先验。
# Barbero et al. 2024 ("Round and Round We Go! What makes Rotary Positional Encodings useful?",
# arXiv 2410.06205) 认为这种衰减并不是 RoPE 有效的原因：训练好的模型把低频当作语义通道，
# 用高频来构造基于位置的注意力模式。

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

# %% [markdown] tags=["en"]
# ### 7.3 Precision: never compute the angles in bf16
#
# Models run in bf16, but bf16 has only 8 significant bits: the position 60 000 itself is not
# representable, and an angle of 60 000 rad carries an error of dozens of radians. The demo below (plain
# torch, not your code) computes $\cos(m\theta_i)$ at m = 60 000 three ways and compares each with a
# float64 reference.

# %% [markdown] tags=["zh"]
# ### 7.3 精度：绝不要用 bf16 计算角度
#
# 模型用 bf16 运行，但 bf16 只有 8 个有效二进制位：位置 60 000 本身就无法精确表示，
# 60 000 rad 的角度会带上几十弧度的误差。下面的演示（纯 torch，不是你的代码）用三种方式计算
# m = 60 000 时的 $\cos(m\theta_i)$，并分别与 float64 的参考值比较。

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

# %% [markdown] tags=["en"]
# With bf16 angles the fast pairs' cosines are pure noise (errors up to 2), so the model sees the wrong
# position. The fix is what your `rope_cos_sin` does: compute the angles in float32 (the reference uses
# float64) and cast only cos and sin.

# %% [markdown] tags=["zh"]
# 用 bf16 计算角度时，转得快的那些对的余弦完全是噪声（误差可达 2），模型看到的是错误的位置。
# 解决办法就是你的 `rope_cos_sin` 所做的：用 float32 计算角度（参考实现用 float64），
# 只把 cos 和 sin 转换成 bf16。

# %% [markdown] tags=["en"]
# ### 7.4 Speed: memory passes for prefill, operations for decode
#
# RoPE does almost no arithmetic per byte, so for a prompt (prefill, many tokens) its speed is a count
# of passes over `[B, H, T, d]`, and of fresh full-size buffers (a new buffer costs page faults the
# first time it is written, unless the allocator hands back memory freed earlier). The Hugging Face
# form `x * cos + rotate_half(x) * sin` makes about five passes and four full-size temporaries:
# `rotate_half` negates one half and concatenates, then `x * cos`, `rotate_half(x) * sin` and the sum.
# The reference writes the same identity as
# $x' = x \odot \cos + \mathrm{swap}(x) \odot (-\sin, +\sin)$, where swap exchanges the two features of
# each pair: one copy (the swap, the only new buffer), then one multiply by the signed sin and one fused
# multiply-add of $x \cos$, both in place on that copy: three passes, all over contiguous full-width
# tensors. Autograd follows in-place operations on a fresh tensor, so training and inference run the
# same lines. Two details make the passes and the table cheap:
#
# - **The swap is a gather of whole rows.** Seen as rows of d/2 features, row 2j of x holds one
#   vector's $x_1$ and row 2j + 1 its $x_2$ (half-split pairs), so `index_select` of the rows
#   $[1, 0, 3, 2, \dots]$ copies contiguous blocks and runs near copy speed, where `roll` and `cat`
#   go element by element (2-3x slower for a bf16 `[1, 32, 2048, 128]` here). Below 65 536 numbers (a
#   decode step) `roll` stays: one operation instead of four. Adjacent pairs (interleaved) flip each
#   pair.
# - **The table is computed per pair, not per feature.** The angles $m\theta_i$ are `[..., T, d/2]`;
#   their cos and sin in float64 are half the work of a per-feature table (about 0.45 ms against
#   0.85 ms at T = 2048, d = 128), then each value is put on both features of its pair (`cat(c, c)`,
#   and `cat(s, s)` times the signs $(-1, +1)$). Only the frequencies and the signs are cached, per
#   configuration, as a model keeps `inv_freq` in a buffer. A model computes the table once per
#   forward pass and passes it to every layer: `apply_rope(q, pos, cos_sin=table)`,
#   `table = rope_cos_sin(pos, d, dtype=q.dtype)`.
#
# Earlier references measured worse: the two halves updated through strided views `out[..., :d/2]`
# (as fast in fp32, but every bf16 kernel that reads a strided half ran 3-9x slower), then `roll` with
# a float64 table per feature: with memory reused, bf16 `[1, 32, 2048, 128]` measured 0.95-1.2x HF in
# side-by-side runs of the two, against 1.15-1.5x for the reference now.
#
# For one new token (decode, `[1, 32, 1, 128]`) nothing is memory-bound: 4096 numbers, and each
# PyTorch operation costs one to a few µs of dispatch on this CPU whatever its size. Speed is then
# the number of operations: HF's form is 7 (a multiply, two slices, a negation, a concatenation, a
# multiply, an add); the reference with a table 4 (the signs, the swap, the two in-place updates); the
# plain call adds its table, 7 more (the angles, cos and sin, two casts, two concatenations: two more
# than a table per feature, paid back many times at prefill). Fewer ways were tried and not kept: one
# `cos` of the angles and of the angles shifted by $-\pi/2$ ($\sin a = \cos(a - \pi/2)$) rounds
# $a - \pi/2$ once more, which doubles the error at position $10^6$ and makes position 0 only nearly
# the identity; one complex `exp` is exact but about 15x slower than `cos` and `sin` for a prefill
# table on this CPU; cos and sin in float32 after reducing the float64 angles modulo $2\pi$ saved
# nothing measurable.
#
# **Where a new tensor's memory comes from decides the prefill ratios**, so `ropekit bench` measures
# each case twice, in one fresh process per setting of glibc's `malloc`: with memory *reused* (freed
# blocks stay in the heap and serve the next tensor, as a caching allocator does) and with *fresh*
# memory (every block of 1 MiB or more newly mapped, so its first write pays page faults; glibc does
# this by default for blocks of 32 MiB and more, and for smaller ones depending on the heap's history:
# left to the default, the bf16 ratios swung between 1.2x and 6x from run to run). With fresh memory
# every new tensor costs faults: HF's form pays for four, the reference for one. With memory reused
# nobody pays faults and what is left is the arithmetic. There an eager form cannot do better than
# three passes (the swap needs a copy, the rotation two multiplies): counting each full-size read or
# write as one, the reference moves 7 against HF's 10, a bound near 1.4x before the table is counted.
#
# Why eager bf16 on a CPU stays far from the memory limit: each eager operation converts bf16 to
# float32, computes, and rounds back, separately; with memory reused, each such pass costs here one and
# a half to two `x.clone()` (a plain copy), so three passes and the table reach about 20 % of the clone
# limit. `torch.compile` fuses the whole formula into one loop (read bf16 once, compute in float32,
# write bf16 once), which is why it leads in bf16 with memory reused and why the fused Triton kernel
# (optional `rope_triton`) is the GPU answer; with fresh memory its output pays the faults too.
#
# `ropekit bench` on this project's 2-core x86-64 machine (AMD EPYC, torch 2.13 CPU, 2 threads; one
# run, medians of interleaved calls; a shared machine, so read the ratios, not the times):
#
# | case | memory | `apply_rope` | HF eager | `torch.compile` | `x.clone()` | vs HF | of clone | vs compile |
# | --- | --- | --- | --- | --- | --- | --- | --- | --- |
# | prefill [1, 32, 2048, 128] fp32 | fresh | 16.8 ms | 45.8 ms | 24.1 ms | 10.0 ms | 2.74x | 60 % | 1.44x |
# | | reused | 5.0 ms | 8.4 ms | 4.0 ms | 1.4 ms | 1.66x | 29 % | 0.79x |
# | prefill [1, 32, 2048, 128] bf16 | fresh | 10.4 ms | 25.8 ms | 11.6 ms | 5.1 ms | 2.49x | 49 % | 1.11x |
# | | reused | 3.1 ms | 3.6 ms | 2.0 ms | 0.6 ms | 1.17x | 20 % | 0.66x |
# | prefill [8, 32, 512, 64] bf16 | fresh | 9.5 ms | 26.5 ms | 11.6 ms | 5.2 ms | 2.77x | 55 % | 1.22x |
# | | reused | 2.8 ms | 3.7 ms | 1.7 ms | 0.7 ms | 1.30x | 23 % | 0.60x |
# | decode [1, 32, 1, 128] fp32, plain | reused | 19.4 µs | 11.5 µs | 19.2 µs | 1.4 µs | 0.59x | 7 % | 0.99x |
# | decode, `cos_sin=` table | reused | 7.6 µs | 11.5 µs | 19.2 µs | 1.4 µs | 1.51x | 18 % | 2.52x |
#
# With fresh memory the reference is 2.5-2.8x HF (its one new tensor against HF's four); with memory
# reused 1.2-1.7x here (1.1-1.4x in bf16 over this stop's runs), short of the 1.5x bf16 and 2x fp32
# targets for the reason above. Decode is the same in both (0.59x and 1.48x with fresh memory): a
# model builds the table once per step and shares it across the layers.

# %% [markdown] tags=["zh"]
# ### 7.4 速度：预填充看内存遍数，解码看算子数
#
# RoPE 每个字节几乎不做什么计算，所以对提示词（预填充，token 很多）来说，它的速度取决于对 `[B, H, T, d]`
# 遍历内存的遍数，以及新分配的整块缓冲区个数（新缓冲区第一次写入时要付出缺页中断的代价，
# 除非分配器把先前释放的内存交还回来）。Hugging Face 的写法 `x * cos + rotate_half(x) * sin`
# 大约要遍历 5 遍，产生 4 个整块大小的临时张量：`rotate_half` 先对一半取负再拼接，然后是 `x * cos`、
# `rotate_half(x) * sin` 和求和。参考实现把同一个恒等式写成
# $x' = x \odot \cos + \mathrm{swap}(x) \odot (-\sin, +\sin)$，其中 swap 交换每一对中的两个特征：
# 一次复制（即 swap，唯一的新缓冲区），然后乘一次带符号的 sin、做一次融合乘加 $x \cos$，
# 后两步都在这份副本上原地完成：一共 3 遍，全部作用于连续的整行张量。autograd 能跟踪对新建张量的
# 原地操作，所以训练和推理走的是同一段代码。有两个细节让这几遍和建表都很省：
#
# - **swap 是整行的收集（gather）。** 把 x 看成每行 d/2 个特征的行，在前后半分布局下，
#   第 2j 行是某个向量的 $x_1$，第 2j + 1 行是它的 $x_2$，所以按行号 $[1, 0, 3, 2, \dots]$ 做
#   `index_select` 复制的是连续的内存块，速度接近纯复制；而 `roll` 和 `cat` 是逐元素搬运
#   （在这里对 bf16 的 `[1, 32, 2048, 128]` 慢 2-3 倍）。少于 65 536 个数时（一次解码）仍用 `roll`：
#   一个算子而不是四个。相邻交错布局下则把每一对相邻特征对调。
# - **表按“对”计算，而不是按特征计算。** 角度 $m\theta_i$ 的形状是 `[..., T, d/2]`；
#   用 float64 计算它们的 cos 和 sin，工作量是按特征建表的一半（T = 2048、d = 128 时约 0.45 ms 对
#   0.85 ms），然后把每个值放到它那一对的两个特征上（`cat(c, c)`，以及 `cat(s, s)` 乘以正负号
#   $(-1, +1)$）。只有频率和正负号按配置缓存，就像模型把 `inv_freq` 存在 buffer 里一样。
#   模型在每次前向传播中只计算一次表，再传给每一层：`apply_rope(q, pos, cos_sin=table)`，
#   其中 `table = rope_cos_sin(pos, d, dtype=q.dtype)`。
#
# 早先的参考实现测得更慢：先是通过带步长的视图 `out[..., :d/2]` 分别更新两半（在 fp32 下一样快，
# 但在 bf16 下，每个读取带步长半块的算子都慢 3-9 倍），后来是 `roll` 加按特征计算的 float64 表：
# 在内存复用的情况下，两者并排运行时，bf16 `[1, 32, 2048, 128]` 测得 HF 的 0.95-1.2 倍，
# 而现在的参考实现是 1.15-1.5 倍。
#
# 对单个新 token（解码，`[1, 32, 1, 128]`）来说，根本谈不上受内存带宽限制：总共只有 4096 个数，
# 而在这台 CPU 上每个 PyTorch 算子不论大小都要花一到几 µs 的调度开销。这时速度取决于算子个数：
# HF 的写法是 7 个（一次乘法、两次切片、一次取负、一次拼接、一次乘法、一次加法）；参考实现在有表时是
# 4 个（正负号、swap、两次原地更新）；直接调用还要加上建表的 7 个（角度、cos 和 sin、两次类型转换、
# 两次拼接：比按特征建表多 2 个，但在预填充时能成倍赚回）。更少算子的写法试过但没有采用：
# 对角度和平移 $-\pi/2$ 后的角度只调用一次 `cos`（$\sin a = \cos(a - \pi/2)$）会对 $a - \pi/2$
# 多舍入一次，位置 $10^6$ 处误差翻倍，位置 0 也只是近似恒等变换；用一次复数 `exp` 是精确的，
# 但在这台 CPU 上为预填充建表比 `cos` 加 `sin` 慢约 15 倍；先用 float64 把角度对 $2\pi$ 取模、
# 再用 float32 算 cos 和 sin，几乎没有省下时间。
#
# **新张量的内存从哪里来，决定了预填充的比值**，所以 `ropekit bench` 把每个场景测两次，
# 每次在一个新进程里使用一种 glibc `malloc` 设置：内存*复用*（释放的内存块留在堆里，供下一个张量使用，
# 就像缓存分配器那样），以及*全新*内存（每个 1 MiB 及以上的内存块都重新映射，
# 第一次写入时要付出缺页中断的代价）；glibc 默认对 32 MiB 及以上的块就是这样做的，
# 对更小的块则取决于堆的历史状态：交给默认设置时，bf16 的比值在不同运行之间从 1.2 倍到 6 倍不等。
# 使用全新内存时，每个新张量都要付出缺页的代价：
# HF 的写法要付 4 次，参考实现只付 1 次。内存复用时谁都不付缺页的代价，剩下的只有计算。
# 这时 eager 写法最少也要 3 遍（swap 需要一次复制，旋转需要两次乘法）：把每次整块读或写记作 1，
# 参考实现共搬运 7 次，HF 是 10 次，在还没算上建表之前，上限就在 1.4 倍左右。
#
# 为什么 CPU 上 eager 模式的 bf16 离内存带宽上限很远：每个 eager 算子都要各自把 bf16 转成 float32、
# 计算、再舍入回 bf16；在内存复用时，这里每一遍的耗时约相当于 1.5 到 2 次 `x.clone()`（纯复制），
# 所以 3 遍加上建表只达到 clone 上限的 20 % 左右。`torch.compile` 把整个公式融合成一个循环
# （读一次 bf16，用 float32 计算，写一次 bf16），这就是内存复用时它在 bf16 下领先的原因，
# 也是为什么 GPU 上的答案是融合的 Triton 内核（可选的 `rope_triton`）；使用全新内存时，
# 它的输出同样要付缺页的代价。
#
# `ropekit bench` 在本项目的 2 核 x86-64 机器上的结果（AMD EPYC，torch 2.13 CPU 版，2 个线程；只运行一次，
# 取交替调用的中位数；机器是共享的，所以请看比值，不要看绝对时间）：
#
# | 场景 | 内存 | `apply_rope` | HF eager | `torch.compile` | `x.clone()` | 比 HF | 占 clone | 比 compile |
# | --- | --- | --- | --- | --- | --- | --- | --- | --- |
# | 预填充 [1, 32, 2048, 128] fp32 | 全新 | 16.8 ms | 45.8 ms | 24.1 ms | 10.0 ms | 2.74x | 60 % | 1.44x |
# | | 复用 | 5.0 ms | 8.4 ms | 4.0 ms | 1.4 ms | 1.66x | 29 % | 0.79x |
# | 预填充 [1, 32, 2048, 128] bf16 | 全新 | 10.4 ms | 25.8 ms | 11.6 ms | 5.1 ms | 2.49x | 49 % | 1.11x |
# | | 复用 | 3.1 ms | 3.6 ms | 2.0 ms | 0.6 ms | 1.17x | 20 % | 0.66x |
# | 预填充 [8, 32, 512, 64] bf16 | 全新 | 9.5 ms | 26.5 ms | 11.6 ms | 5.2 ms | 2.77x | 55 % | 1.22x |
# | | 复用 | 2.8 ms | 3.7 ms | 1.7 ms | 0.7 ms | 1.30x | 23 % | 0.60x |
# | 解码 [1, 32, 1, 128] fp32，直接调用 | 复用 | 19.4 µs | 11.5 µs | 19.2 µs | 1.4 µs | 0.59x | 7 % | 0.99x |
# | 解码，`cos_sin=` 传入预计算的表 | 复用 | 7.6 µs | 11.5 µs | 19.2 µs | 1.4 µs | 1.51x | 18 % | 2.52x |
#
# 使用全新内存时，参考实现是 HF 的 2.5-2.8 倍（它只有 1 个新张量，HF 有 4 个）；内存复用时，
# 这里是 1.2-1.7 倍（本轮多次运行中 bf16 为 1.1-1.4 倍），由于上面说的原因，没有达到 bf16 1.5 倍和
# fp32 2 倍的目标。解码在两种情况下都一样（使用全新内存时为 0.59x 和 1.48x）：
# 模型每一步只建一次表，各层共享。

# %% [markdown] tags=["en"]
# ## 8. Interview questions
#
# **Why rotate only q and k, never v?**
# Position should decide *how much* token m attends to token n, which is the score $q_m\cdot k_n$;
# rotating both makes it depend on $n - m$. Nothing cancels a rotation of v, so rotating v would write
# each key's absolute angle into the output and break the relative property. RoPE is applied per head,
# after the q/k projections and before the dot product (with a KV cache, keys are cached already rotated).
#
# **What does a larger base do?**
# $\theta_i = \text{base}^{-2i/d}$ becomes smaller for every pair except $i=0$: the slow pairs turn even
# more slowly, the longest wavelength $2\pi\cdot\text{base}$ grows, long-term decay is slower, and far
# positions stay distinguishable before the angles wrap around. That is why long-context models raise it
# (Llama 3 uses 500 000) and why "NTK-aware" scaling changes the base when extending the context.
#
# **What happens past the trained length?**
# The slow pairs reach angles the model never saw during training (their period is longer than the
# training context), so attention patterns break and perplexity rises sharply: plain RoPE does not
# extrapolate well. The fixes (Position Interpolation, NTK-aware base scaling, YaRN, the Llama 3.1
# rule) are the subject of the long-context notebook later in the kit.
#
# **Does RoPE make attention cheaper?**
# No: it adds $O(T\cdot d)$ element-wise work; attention stays $O(T^2\cdot d)$.
#
# **Half-split or interleaved: is it a different model?**
# Same map up to a permutation of features; scores are identical, but a checkpoint trained with one
# layout needs its $W_q$, $W_k$ rows permuted for the other.

# %% [markdown] tags=["zh"]
# ## 8. 面试题
#
# **为什么只旋转 q 和 k，从不旋转 v？**
# 位置应当决定 token m 对 token n 关注*多少*，也就是分数 $q_m\cdot k_n$；
# 同时旋转 q 和 k，分数就只依赖 $n - m$。
# 而对 v 的旋转没有任何东西能抵消，所以旋转 v 会把每个键的绝对角度写进输出，破坏相对位置性质。
# RoPE 按头作用，位于 q/k 投影之后、点积之前（使用键值缓存（KV cache）时，缓存的是已经旋转过的键）。
#
# **增大底数（base）有什么效果？**
# 除 $i=0$ 外，每一对的 $\theta_i = \text{base}^{-2i/d}$ 都会变小：低频对转得更慢，
# 最长波长 $2\pi\cdot\text{base}$ 变长，远程衰减更慢，远处的位置在角度绕回一圈之前仍能区分开。
# 所以长上下文模型会调大底数（Llama 3 用 500 000），“NTK-aware”缩放在扩展上下文时改的也是底数。
#
# **超过训练长度会怎样？**
# 低频对会转到训练中从未见过的角度（它们的周期比训练时的上下文还长），于是注意力模式失常，困惑度急剧上升：
# 原始 RoPE 的外推能力很差。解决方法（位置内插、NTK-aware 底数缩放、YaRN、Llama 3.1 的规则）
# 是本教程后面长上下文笔记本的主题。
#
# **RoPE 会让注意力更省计算吗？**
# 不会：它额外增加了 $O(T\cdot d)$ 的逐元素计算；注意力仍是 $O(T^2\cdot d)$。
#
# **前后半分还是相邻交错：是不同的模型吗？**
# 两者只差一个特征置换，是同一个映射；分数完全相同，但用一种布局训练出的检查点，要换成另一种布局使用时，
# 需要置换 $W_q$、$W_k$ 的行。

# %% [markdown] tags=["en"]
# ## 9. Stuck, done, or curious?
#
# In a terminal at the root of the kit:
#
# - `ropekit hint rope` shows the next hint level (also `ropekit hint sinusoidal`);
# - `ropekit solution rope` shows the reference solution (try the hints first);
# - `ropekit` lists every exercise with its status and your progress.

# %% [markdown] tags=["zh"]
# ## 9. 卡住了、做完了，还是想继续深入？
#
# 在本教程根目录下打开终端：
#
# - `ropekit hint rope` 显示下一级提示（也可以用 `ropekit hint sinusoidal`）；
# - `ropekit solution rope` 显示参考答案（先试试提示）；
# - `ropekit` 列出所有练习及其状态，以及你的整体进度。
