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
# # 02 — Absolute or relative? Measure it
#
# **Interview questions this notebook answers**
#
# - **Q2** Why do traditional (absolute, sinusoidal or learned) positional encodings fall short?
# - **Q3 (preview)** What does RoPE change?
#
# **What you will do**
#
# 1. Write three measurements in `exercises/absolute_vs_relative.py`: the score of two tokens under a
#    common shift, a verdict "depends only on the offset?", and "can this scheme place a token here?".
# 2. Run them on additive sinusoidal, learned and RoPE encodings, and plot the score under shifts.
# 3. Split the additive score into its four terms and see which one carries the absolute position.

# %% [markdown] tags=["zh"]
# # 02 — 绝对还是相对？动手测一测
#
# **本笔记本（notebook）回答的面试题**
#
# - **Q2** 传统的（绝对的，正弦或可学习的）位置编码为什么不够好？
# - **Q3（预告）** 旋转位置编码（RoPE）改变了什么？
#
# **你要做的事**
#
# 1. 在 `exercises/absolute_vs_relative.py` 中写三个测量函数：两个 token 一起平移后的分数；判断
#    “分数是否只依赖偏移量”；以及“这种方案能否把 token 放在这个位置”。
# 2. 在加性正弦位置编码、可学习的位置嵌入和 RoPE 上运行它们，画出分数随平移的变化。
# 3. 把加性编码的分数拆成四项，看哪一项携带了绝对位置。

# %%
import matplotlib.pyplot as plt
import numpy as np

from grader import check, load

rng = np.random.default_rng(0)  # every random draw comes from a seeded generator

# %% [markdown] tags=["en"]
# ## 1. Three ways to give a token its position
#
# We call a positional scheme a function `encode(x, m)`: the vector that enters the attention score
# for a token with content $x \in \mathbb R^d$ at position $m$. The score of a query at $m$ and a key at
# $n$ is $\ \mathrm{encode}(q, m)\cdot \mathrm{encode}(k, n)$.
#
# | scheme | `encode(x, m)` | used by |
# | --- | --- | --- |
# | additive sinusoidal | $x + \mathrm{PE}_m$ | the original Transformer |
# | additive learned | $x + E[m]$, a trained table with one row per position | BERT, GPT-2 |
# | RoPE | $R(m)\,x$: pair $(2i, 2i+1)$ rotated by $m\,\theta_i$ | Llama, Qwen, Mistral, ... |
#
# The encoders below are plain numpy (the learned table is random here, as at initialisation; training
# does not change the argument).

# %% [markdown] tags=["zh"]
# ## 1. 给 token 赋予位置的三种方式
#
# 我们把一种位置方案看作一个函数 `encode(x, m)`：对内容为 $x \in \mathbb R^d$、位于位置 $m$ 的 token，
# 它给出进入注意力分数计算的那个向量。位于 $m$ 的查询与位于 $n$ 的键，分数为
# $\ \mathrm{encode}(q, m)\cdot \mathrm{encode}(k, n)$。
#
# | 方案 | `encode(x, m)` | 代表模型 |
# | --- | --- | --- |
# | 加性正弦编码 | $x + \mathrm{PE}_m$ | 原始 Transformer |
# | 加性可学习嵌入 | $x + E[m]$，训练得到的一张表，每个位置一行 | BERT、GPT-2 |
# | RoPE | $R(m)\,x$：特征对 $(2i, 2i+1)$ 旋转 $m\,\theta_i$ | Llama、Qwen、Mistral 等 |
#
# 下面的编码器都用纯 numpy 实现（这里的可学习位置表是随机的，相当于初始化时的状态；训练并不改变这里的论证）。

# %%
d = 16
theta = 10000.0 ** (-np.arange(0, d, 2) / d)  # (d/2,) frequencies of both sinusoidal PE and RoPE
angles = np.arange(2048)[:, None] * theta  # (2048, d/2): the formula works at any position
PE = np.stack([np.sin(angles), np.cos(angles)], -1).reshape(2048, d)  # sinusoidal table, cached
LEARNED = 0.5 * rng.standard_normal((1024, d))  # (1024, d): a learned table stops at its length


def sinusoidal(x, m):
    return x + PE[m]  # (d,)


def learned(x, m):
    return x + LEARNED[m]  # IndexError past row 1023


def rope(x, m):
    a = m * theta  # (d/2,) angles of the pairs
    x1, x2 = x[0::2], x[1::2]
    out = np.empty(d)
    out[0::2] = x1 * np.cos(a) - x2 * np.sin(a)
    out[1::2] = x1 * np.sin(a) + x2 * np.cos(a)
    return out


schemes = {"additive sinusoidal": sinusoidal, "additive learned": learned, "RoPE": rope}

# %% [markdown] tags=["en"]
# ## 2. What "relative" means, and why additive encodings are not
#
# A scheme is **relative** when the score depends on the positions only through $n - m$: move both
# tokens by the same $s$ and nothing changes. For additive encodings, expand the product:
#
# $$
# (q + p_m)\cdot(k + p_n) = \underbrace{q\cdot k}_{\text{content}}
# + \underbrace{q\cdot p_n + p_m\cdot k}_{\text{content} \times \text{absolute position}}
# + \underbrace{p_m \cdot p_n}_{\text{position} \times \text{position}} .
# $$
#
# The cross terms involve $p_n$ and $p_m$ on their own: they move when both tokens shift. For RoPE,
# $R(m)^\top R(n) = R(n - m)$, so $(R(m)q)\cdot(R(n)k) = q\cdot R(n-m)k$: only the offset is left.
# A learned table has a second problem: it has no row past its training length.
#
# ### Exercise: implement the measurements in `exercises/absolute_vs_relative.py`
#
# - `shift_scores(encode, q, k, m, n, shifts)`: the scores with **both** tokens moved by each shift.
# - `depends_only_on_offset(encode, dim, *, seed=0, rtol=1e-9)`: True only if every such curve is flat
#   (random q, k; several position pairs; shifts up to several hundred; a tolerance for rounding).
# - `can_score(encode, position, dim)`: False if the scheme cannot place a token at that position.
#
# The hidden checks run your measurements on encoders whose answer is known, including absolute ones:
# a measurement that always says "same" fails. Save, then run the next cell to grade them.

# %% [markdown] tags=["zh"]
# ## 2. 什么是“相对”，加性编码为什么不是相对的
#
# 如果分数只通过 $n - m$ 依赖位置，这种方案就是**相对的**：把两个 token 平移同样的 $s$，分数不变。对加性编码，
# 把内积展开：
#
# $$
# (q + p_m)\cdot(k + p_n) = \underbrace{q\cdot k}_{\text{content}}
# + \underbrace{q\cdot p_n + p_m\cdot k}_{\text{content} \times \text{absolute position}}
# + \underbrace{p_m \cdot p_n}_{\text{position} \times \text{position}} .
# $$
#
# （上式中 content 为内容项，content × absolute position 为内容 × 绝对位置的交叉项，
# position × position 为位置 × 位置项。）
#
# 交叉项中单独出现了 $p_n$ 和 $p_m$：两个 token 一起平移时，它们会跟着变。对 RoPE 而言，
# $R(m)^\top R(n) = R(n - m)$，所以 $(R(m)q)\cdot(R(n)k) = q\cdot R(n-m)k$：只剩下偏移量。
# 可学习的位置表还有第二个问题：超过训练长度就没有对应的行。
#
# ### 练习：在 `exercises/absolute_vs_relative.py` 中实现这些测量函数
#
# - `shift_scores(encode, q, k, m, n, shifts)`：把**两个** token 都按每个平移量移动后的分数。
# - `depends_only_on_offset(encode, dim, *, seed=0, rtol=1e-9)`：只有当每条这样的曲线都是平的时才返回 True
#   （随机的 q、k；多组位置对；平移量最多到几百；留有舍入容差）。
# - `can_score(encode, position, dim)`：如果该方案无法把 token 放在这个位置，返回 False。
#
# 隐藏检查会在答案已知的编码器上运行你的测量函数，其中也包括绝对位置编码：总是回答“不变”的测量函数无法通过。
# 保存后运行下一个单元格评分。

# %%
check("absolute_vs_relative")

# %% [markdown] tags=["en"]
# ## 3. Your measurements on the three schemes

# %% [markdown] tags=["zh"]
# ## 3. 用你的测量函数检验三种方案

# %%
avr = load("absolute_vs_relative")
for name, encode in schemes.items():
    relative = avr.depends_only_on_offset(encode, d)
    print(
        f"{name:20s} depends only on the offset: {str(relative):5s}   "
        f"position 1023: {avr.can_score(encode, 1023, d)}   position 1024: {avr.can_score(encode, 1024, d)}"
    )

# %% [markdown] tags=["en"]
# The picture: one query–key pair at distance 7, both moved by $s$ (the learned table stops at 1023).

# %% [markdown] tags=["zh"]
# 画成图：一对相距 7 的查询和键，一起平移 $s$（可学习的位置表到 1023 为止）。

# %%
q, k = rng.standard_normal((2, d))
shifts = np.arange(0, 1200)
fig, ax = plt.subplots(figsize=(8, 3.2))
for name, encode in schemes.items():
    usable = [s for s in shifts if avr.can_score(encode, 10 + s, d)]  # the learned table ends at 1023
    ax.plot(usable, avr.shift_scores(encode, q, k, 3, 10, usable) / np.sqrt(d), label=name, lw=1)
ax.axvline(1023 - 10, color="0.6", ls=":", lw=1)
ax.text(1023 - 10, ax.get_ylim()[1], " learned table ends", va="top", fontsize=8, color="0.4")
ax.set(
    xlabel="shift s (query at 3 + s, key at 10 + s)",
    ylabel="score / sqrt(d)",
    title="Same tokens, same distance",
)
ax.legend(fontsize=8)
plt.show()

# %% [markdown] tags=["en"]
# ## 4. Which term carries the absolute position?
#
# Split the additive sinusoidal score of section 2 into its terms and watch them under the shift. In
# that score, with no projections, the position × position term
# $p_m\cdot p_n = \sum_i \cos((n-m)\,\omega_i)$ is flat: two raw table rows are relative to each other
# (notebook 01 showed $\mathrm{PE}_{p+k}$ is a rotation of $\mathrm{PE}_p$), and the damage comes from
# the **content × position** cross terms. RoPE removes them by multiplying instead of adding: there is
# no separate position vector to meet the content.

# %% [markdown] tags=["zh"]
# ## 4. 哪一项携带了绝对位置？
#
# 把第 2 节中加性正弦编码的分数拆成几项，观察它们在平移下的变化。在这个没有投影的分数里，位置 × 位置项
# $p_m\cdot p_n = \sum_i \cos((n-m)\,\omega_i)$ 是平的：位置表的两行原始向量彼此之间是相对的（笔记本 01
# 已经说明 $\mathrm{PE}_{p+k}$ 是 $\mathrm{PE}_p$ 的一个旋转），问题出在**内容 × 位置**的交叉项上。RoPE
# 用乘法代替加法，消除了这些交叉项：不再有单独的位置向量去和内容形成交叉项。

# %%
m, n = 3, 10
terms = {
    "q·k (content)": np.full(len(shifts), q @ k),
    "q·p_n + p_m·k (cross)": np.array([q @ PE[n + s] + PE[m + s] @ k for s in shifts]),
    "p_m·p_n (position)": np.array([PE[m + s] @ PE[n + s] for s in shifts]),
}
fig, ax = plt.subplots(figsize=(8, 3))
for name, values in terms.items():
    ax.plot(shifts, values / np.sqrt(d), label=name, lw=1)
ax.set(xlabel="shift s", ylabel="term / sqrt(d)", title="Additive sinusoidal score, term by term")
ax.legend(fontsize=8)
plt.show()
for name, values in terms.items():
    print(f"{name:24s} max - min over shifts: {np.ptp(values):.2e}")

# %% [markdown] tags=["en"]
# A real layer scores $W_q(x_m + p_m)\cdot W_k(x_n + p_n)$, and its position × position term is
# $p_m^\top A\, p_n$ with $A = W_q^\top W_k$. A generic $A$ couples pair $i$ at $m$ with pair $j$ at $n$,
# giving terms in $m\omega_i \pm n\omega_j$; only the parts of $A$ that commute with every pair's
# rotation (a scaled 2×2 rotation inside each pair) leave a function of $n - m$. So once projected,
# even this term depends on the absolute positions (notebook 03 section 3 measures it on the whole
# score). With a random $A$ standing in for $W_q^\top W_k$:

# %% [markdown] tags=["zh"]
# 上面的分解没有考虑投影。真实的注意力层计算的是 $W_q(x_m + p_m)\cdot W_k(x_n + p_n)$，其位置 × 位置项为
# $p_m^\top A\, p_n$，其中 $A = W_q^\top W_k$。一般的 $A$ 会把位置 $m$ 处的第 $i$ 对与位置 $n$ 处的第 $j$
# 对耦合起来，产生含 $m\omega_i \pm n\omega_j$ 的项；只有 $A$ 中与每一对的旋转都可交换的部分
# （每对内部一个带缩放的 2×2 旋转）才会留下只依赖 $n - m$ 的函数。
# 所以一旦加上投影，连这一项也依赖绝对位置（笔记本 03 第 3 节会在完整的分数上测量这一点）。下面用一个随机的
# $A$ 代替 $W_q^\top W_k$：

# %%
A = rng.standard_normal((d, d)) / np.sqrt(d)  # (d, d), a stand-in for W_q^T W_k
projected = np.array([PE[m + s] @ A @ PE[n + s] for s in shifts])
print(f"{'p_m·p_n':24s} max - min over shifts: {np.ptp(terms['p_m·p_n (position)']):.2e}")
print(f"{'p_m^T A p_n':24s} max - min over shifts: {np.ptp(projected):.2e}")

# %% [markdown] tags=["en"]
# ## 5. Interview answer
#
# **Q2. Why do absolute encodings fall short?**
#
# *Answer (~30 s):* Absolute encodings add a vector for position $m$ to the token embedding. The
# attention score then contains cross terms between one token's content and the other token's absolute
# position, so the same two words at the same distance score differently at the start and in the
# middle of a text: the model must learn relative patterns again for every absolute offset, which
# generalises poorly. A learned table also has a hard limit: no row past its training length (512 for
# BERT), so it cannot even represent longer inputs; sinusoids can be evaluated there but the model never
# saw those values. RoPE instead rotates q and k by position-dependent angles: the score depends only on
# $n - m$, with no table and no extra parameters.
#
# **Is the sinusoidal encoding "relative" then?** Only between raw table rows:
# $p_m\cdot p_n$ depends only on $n - m$. In a layer the projections turn it into $p_m^\top A\, p_n$
# ($A = W_q^\top W_k$), which depends on the absolute positions for a generic $A$, and the
# content × position cross terms do too (section 4).
#
# Stuck? `ropekit hint absolute_vs_relative`; the reference: `ropekit solution absolute_vs_relative`.

# %% [markdown] tags=["zh"]
# ## 5. 面试回答
#
# **Q2. 绝对位置编码为什么不够好？**
#
# *回答（约 30 秒）：* 绝对位置编码把位置 $m$ 对应的向量加到 token 的词向量上。这样注意力分数里就出现了一个
# token 的内容与另一个 token 的绝对位置之间的交叉项：同样的两个词、同样的距离，
# 在文本开头和文本中间的分数不一样，模型必须针对每个绝对位置重新学习相对关系，泛化能力差。
# 可学习的位置表还有一个硬上限：超过训练长度（BERT 是 512）就没有对应的行，连更长的输入都表示不了；
# 正弦编码在那些位置上虽然也能算，但模型从没见过这些值。RoPE 则按与位置相关的角度旋转 q 和 k：分数只依赖
# $n - m$，不需要位置表，也没有额外参数。
#
# **那正弦编码算“相对”的吗？** 只在位置表的原始行之间成立：$p_m\cdot p_n$ 只依赖 $n - m$。在注意力层中，
# 投影会把它变成 $p_m^\top A\, p_n$（$A = W_q^\top W_k$），对一般的 $A$ 它依赖绝对位置；
# 内容 × 位置的交叉项也是如此（第 4 节）。
#
# 卡住了？运行 `ropekit hint absolute_vs_relative` 查看提示；参考答案：
# `ropekit solution absolute_vs_relative`。
