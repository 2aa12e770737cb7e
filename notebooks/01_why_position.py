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
# # 01 — Why a Transformer needs positions
#
# **Interview questions this notebook answers**
#
# - **Q1** What does positional encoding do in a Transformer?
# - **Coding** Write scaled dot-product attention by hand (with a mask).
#
# **What you will do**
#
# 1. Write `scaled_dot_product_attention` in `exercises/attention.py` and grade it here.
# 2. Write `is_permutation_equivariant`, the test that proves Q1's answer, and use it on your attention.
# 3. See the sinusoidal encoding as a picture, and check its key property: PE(p + k) is a fixed linear
#    function (a rotation) of PE(p).

# %% [markdown] tags=["zh"]
# # 01 — 为什么 Transformer 需要位置信息
#
# **本笔记本（notebook）回答的面试题**
#
# - **Q1** Transformer 中位置编码的作用是什么？
# - **编程题** 手写缩放点积注意力（含掩码）。
#
# **你要做的事**
#
# 1. 在 `exercises/attention.py` 中实现 `scaled_dot_product_attention`，并在这里评分。
# 2. 实现 `is_permutation_equivariant`，即能证明 Q1 答案的那个测试，并用它检验你的注意力。
# 3. 把正弦位置编码画成图，并验证它的关键性质：PE(p + k) 是 PE(p) 的一个固定的线性函数（一个旋转）。

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch

from grader import check, load

gen = torch.Generator().manual_seed(0)  # every random draw comes from a seeded generator
rng = np.random.default_rng(0)

# %% [markdown] tags=["en"]
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
# ### Exercise: implement `scaled_dot_product_attention` in `exercises/attention.py`
#
# `scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)` for q `[..., Tq, d]`, k
# `[..., Tk, d]`, v `[..., Tk, dv]`, by hand (the check refuses torch's fused attention). The same file
# has `is_permutation_equivariant` for section 2; the check below grades both.

# %% [markdown] tags=["zh"]
# ## 1. 缩放点积注意力
#
# 每个查询都去问每个键：“你和我有多相关？”，再用这些回答对值加权：
#
# $$
# \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt d}\right) V,
# \qquad Q \in \mathbb R^{T_q\times d},\ K \in \mathbb R^{T_k\times d},\ V \in \mathbb R^{T_k\times d_v}.
# $$
#
# - **为什么要乘 $1/\sqrt d$？** 若各分量的方差为 1，$q\cdot k$ 是 $d$ 项之和，方差为 $d$。
#   不做缩放，softmax 会饱和（一个权重接近 1，其余接近 0），梯度随之消失。
#   而除以 $d$ 又会矫枉过正：分数被压向 0，权重变得过于平均。
# - **softmax 沿键的维度计算**（即最后一维）：每个查询对应的那一行权重之和为 1。
# - **掩码**是布尔张量，True 表示“可以关注”（PyTorch 的约定）。被禁止的分数要在 softmax **之前**置为
#   $-\infty$，这样它们的权重恰好为 0，每行之和仍为 1。
#   因果掩码就是下三角矩阵：token $t$ 只能看到位置 $\le t$ 的 token。
# - 批维度和头维度直接广播即可：`q @ k.transpose(-2, -1)` 对 `[..., T, d]` 同样适用。
#
# ### 练习：在 `exercises/attention.py` 中实现 `scaled_dot_product_attention`
#
# 手写 `scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)`，其中 q 为 `[..., Tq, d]`，
# k 为 `[..., Tk, d]`，v 为 `[..., Tk, dv]`（检查项会拒绝 torch 自带的融合注意力）。
# 同一个文件里还有第 2 节要用的 `is_permutation_equivariant`，下面的检查会同时为这两个函数评分：
# 保存文件后运行下一个单元格即可。

# %%
check("attention")

# %% [markdown] tags=["en"]
# Your attention at work: a causal mask on 6 tokens. Row $t$ is query $t$; the upper triangle is 0 and
# every row sums to 1.

# %% [markdown] tags=["zh"]
# 看看你实现的注意力：对 6 个 token 加因果掩码。第 $t$ 行对应查询 $t$；上三角全为 0，每行之和为 1。

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

# %% [markdown] tags=["en"]
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
# `is_permutation_equivariant(layer, x, perm)` (the second function of `exercises/attention.py`) checks
# $\mathrm{layer}(x[\ldots, \pi, :]) = \mathrm{layer}(x)[\ldots, \pi, :]$ on the **token** axis. Here it
# is applied to one head of self-attention built on *your* `scaled_dot_product_attention`:

# %% [markdown] tags=["zh"]
# ## 2. 没有位置信息，注意力分不清顺序（Q1）
#
# 自注意力只由每个 token 自身的向量算出 $q, k, v$。用置换 $P$ 打乱 token 的顺序，
# 每个分数都会跟着对应的 token 一起移动，因此
#
# $$\mathrm{SelfAttn}(P X) = P\,\mathrm{SelfAttn}(X).$$
#
# 这就是**置换等变**：这一层看到的只是一“袋” token。“狗咬人”和“人咬狗”得到的是同一组输出，
# 只是顺序不同。位置信息（加到 $X$ 上，或像 RoPE 那样旋转 $q$ 和 $k$）或因果掩码可以打破这种对称性。
#
# `is_permutation_equivariant(layer, x, perm)`（`exercises/attention.py` 中的第二个函数）在 **token**
# 维度上检查 $\mathrm{layer}(x[\ldots, \pi, :]) = \mathrm{layer}(x)[\ldots, \pi, :]$ 是否成立。
# 这里把它用在基于*你的* `scaled_dot_product_attention` 搭建的单头自注意力上：

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

# %% [markdown] tags=["en"]
# The same fact as a picture: the weights for the shuffled input are the original weights with rows
# **and** columns shuffled. Nothing in them says which token came first.

# %% [markdown] tags=["zh"]
# 换成图来看也是一样：打乱后的输入得到的权重，正是把原来的权重按行**和**按列同时打乱的结果。
# 权重里没有任何信息能说明哪个 token 在前。

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

# %% [markdown] tags=["en"]
# ## 3. The sinusoidal encoding (Vaswani et al. 2017)
#
# The original Transformer adds a fixed table to the embeddings. Pair $(2i, 2i+1)$ turns at the
# frequency $\omega_i = 10000^{-2i/d}$:
# $\ \mathrm{PE}[p, 2i] = \sin(p\,\omega_i),\ \mathrm{PE}[p, 2i+1] = \cos(p\,\omega_i)$.
# The first columns oscillate fast, the last barely move (wavelengths $2\pi$ to $2\pi\cdot 10^4$).
# (You implement it in notebook 03; here `pe_table` from section 2 draws it with numpy.)

# %% [markdown] tags=["zh"]
# ## 3. 正弦位置编码（Vaswani et al. 2017）
#
# 原始的 Transformer 把一张固定的表加到词向量上。第 $(2i, 2i+1)$ 对特征以频率 $\omega_i = 10000^{-2i/d}$
# 旋转：
# $\ \mathrm{PE}[p, 2i] = \sin(p\,\omega_i),\ \mathrm{PE}[p, 2i+1] = \cos(p\,\omega_i)$。
# 前几列振荡得很快，最后几列几乎不动（波长从 $2\pi$ 到 $2\pi\cdot 10^4$）。
# （你会在笔记本 03 中实现它；这里先用第 2 节里基于 numpy 的 `pe_table` 把它画出来。）

# %%
table = pe_table(100, 64)
fig, ax = plt.subplots(figsize=(6, 4))
im = ax.imshow(table, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
ax.set(xlabel="feature (even: sin, odd: cos)", ylabel="position p", title="Sinusoidal PE, 100 x 64")
fig.colorbar(im, ax=ax)
plt.show()

# %% [markdown] tags=["en"]
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

# %% [markdown] tags=["zh"]
# ### PE(p + k) 是 PE(p) 的线性函数
#
# 论文之所以选择正弦函数，是因为“对任意固定的偏移 $k$，$\mathrm{PE}_{p+k}$ 都可以表示为 $\mathrm{PE}_p$
# 的线性函数”。由三角函数的和角公式，第 $i$ 对满足
#
# $$
# \begin{pmatrix}\sin((p+k)\omega_i)\\ \cos((p+k)\omega_i)\end{pmatrix}
# = \begin{pmatrix}\cos k\omega_i & \sin k\omega_i\\ -\sin k\omega_i & \cos k\omega_i\end{pmatrix}
# \begin{pmatrix}\sin p\omega_i\\ \cos p\omega_i\end{pmatrix},
# $$
#
# 这是一个只依赖 $k$、与 $p$ 无关的 2×2 **旋转**。光看推导还不够，我们直接验证：取 $k = 5$，
# 在所有 $p$ 上用最小二乘拟合出满足 $\mathrm{PE}_{p+k} \approx M\,\mathrm{PE}_p$ 的最优矩阵 $M$，
# 看看它长什么样。
# （这正是 RoPE 的雏形：位置的平移表现为特征对的旋转。）

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

# %% [markdown] tags=["en"]
# So *between two positional vectors*, the sinusoidal table already "knows" offsets. Why then is it
# called absolute, and why did RoPE replace it? Because the table is **added** to the content: the
# q·k score also contains cross terms between content and position that depend on $p$ itself. Notebook
# 02 measures exactly that.

# %% [markdown] tags=["zh"]
# 可见，*在两个位置向量之间*，正弦位置编码表已经“知道”偏移量了。那它为什么还叫绝对位置编码？
# RoPE 又为什么取代了它？因为这张表是**加**到内容上的：q·k 分数里还包含内容与位置之间的交叉项，
# 而这些项依赖 $p$ 本身。笔记本 02 会专门测量这一点。

# %% [markdown] tags=["en"]
# ## 4. Interview answer
#
# **Q1. What does positional encoding do?**
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
# **Why divide by $\sqrt d$?** The dot product of two random unit-variance
# vectors has variance $d$; scaling by $1/\sqrt d$ keeps the scores at unit variance so the softmax does
# not saturate and gradients keep flowing.
#
# Stuck? `ropekit hint attention` in a terminal shows the next hint; `ropekit solution attention` the
# reference.

# %% [markdown] tags=["zh"]
# ## 4. 面试回答
#
# **Q1. 位置编码的作用是什么？**
#
# *中文（约 30 秒说完）：* 自注意力只根据内容把每个 token 与其他所有 token 做比较，因此它是置换等变的：
# 打乱输入 token 的顺序，输出也会以同样的方式被打乱。单靠自注意力，模型会把句子当成词袋，
# 分不清“狗咬人”和“人咬狗”。位置编码负责注入顺序信息：要么是绝对位置编码（把正弦或可学习的向量
# 加到每个词向量上），要么是相对位置编码（RoPE 按与位置相关的角度旋转 q 和 k，使注意力分数取决于
# token 之间的距离）。因果掩码同样会打破这种对称性，而且作用比看上去更大：第 t 个 token（从 1 数起）
# 恰好关注 t 个 token，因此解码器即使完全不用位置编码，也能恢复出绝对位置
# （NoPE：Haviv et al. 2022，Kazemnejad et al. 2023）。双向编码器没有这种信号，必须使用位置编码。
#
# **为什么除以 $\sqrt d$？** 两个各分量方差为 1 的随机向量，点积的方差为 $d$；
# 乘以 $1/\sqrt d$ 让分数的方差保持为 1，softmax 就不会饱和，梯度也能正常传播。
#
# 卡住了？在终端运行 `ropekit hint attention` 查看下一条提示，运行 `ropekit solution attention` 查看参考答案。
