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
# # 02 — Absolute or relative? Measure it
#
# **Interview questions this notebook answers / 本节回答的面试题**
#
# - **Q2** Why do traditional (absolute, sinusoidal or learned) positional encodings fall short?
#   为什么传统的绝对位置编码（正弦或可学习）效果不够好？
# - **Q3 (preview)** What does RoPE change? / RoPE 改变了什么？
#
# **What you will do / 你要做的事**
#
# 1. Write three measurements in `exercises/absolute_vs_relative.py`: the score of two tokens under a
#    common shift, a verdict "depends only on the offset?", and "can this scheme place a token here?".
# 2. Run them on additive sinusoidal, learned and RoPE encodings, and plot the score under shifts.
# 3. Split the additive score into its four terms and see which one carries the absolute position.

# %%
import matplotlib.pyplot as plt
import numpy as np

from grader import check, load

rng = np.random.default_rng(0)  # every random draw comes from a seeded generator

# %% [markdown]
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

# %% [markdown]
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
# 加性编码的分数展开后有“内容 × 绝对位置”的交叉项，整体平移时会变化；RoPE 的分数只依赖 $n-m$。
# 可学习位置表在训练长度之外根本没有向量。
#
# ### Exercise: implement the measurements in `exercises/absolute_vs_relative.py`
#
# - `shift_scores(encode, q, k, m, n, shifts)`: the scores with **both** tokens moved by each shift.
# - `depends_only_on_offset(encode, dim, *, seed=0, rtol=1e-9)`: True only if every such curve is flat
#   (random q, k; several position pairs; shifts up to several hundred; a tolerance for rounding).
# - `can_score(encode, position, dim)`: False if the scheme cannot place a token at that position.
#
# The hidden checks run your measurements on encoders whose answer is known, including absolute ones:
# a measurement that always says "same" fails.
#
# 练习：实现这三个测量函数，保存后运行下一个单元格评分。

# %%
check("absolute_vs_relative")

# %% [markdown]
# ## 3. Your measurements on the three schemes

# %%
avr = load("absolute_vs_relative")
for name, encode in schemes.items():
    relative = avr.depends_only_on_offset(encode, d)
    print(
        f"{name:20s} depends only on the offset: {str(relative):5s}   "
        f"position 1023: {avr.can_score(encode, 1023, d)}   position 1024: {avr.can_score(encode, 1024, d)}"
    )

# %% [markdown]
# The picture: one query–key pair at distance 7, both moved by $s$ (the learned table stops at 1023).

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

# %% [markdown]
# ## 4. Which term carries the absolute position?
#
# Split the additive sinusoidal score of section 2 into its terms and watch them under the shift. In
# that score, with no projections, the position × position term
# $p_m\cdot p_n = \sum_i \cos((n-m)\,\omega_i)$ is flat: two raw table rows are relative to each other
# (notebook 01 showed $\mathrm{PE}_{p+k}$ is a rotation of $\mathrm{PE}_p$), and the damage comes from
# the **content × position** cross terms. RoPE removes them by multiplying instead of adding: there is
# no separate position vector to meet the content.

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

# %% [markdown]
# A real layer scores $W_q(x_m + p_m)\cdot W_k(x_n + p_n)$, and its position × position term is
# $p_m^\top A\, p_n$ with $A = W_q^\top W_k$. A generic $A$ couples pair $i$ at $m$ with pair $j$ at $n$,
# giving terms in $m\omega_i \pm n\omega_j$; only the parts of $A$ that commute with every pair's
# rotation (a scaled 2×2 rotation inside each pair) leave a function of $n - m$. So once projected,
# even this term depends on the absolute positions (notebook 03 section 3 measures it on the whole
# score). With a random $A$ standing in for $W_q^\top W_k$:
#
# 上面的分解没有投影。真实的注意力层计算 $W_q(x_m + p_m)\cdot W_k(x_n + p_n)$，位置 × 位置项变为
# $p_m^\top A\, p_n$（$A = W_q^\top W_k$）。一般的 $A$ 会把 $m$ 处的第 $i$ 对与 $n$ 处的第 $j$ 对耦合，
# 产生 $m\omega_i \pm n\omega_j$ 的项；只有与每一对的旋转可交换的部分（每对内部的缩放旋转）才只依赖
# $n - m$。因此加了投影之后，连这一项也依赖绝对位置。

# %%
A = rng.standard_normal((d, d)) / np.sqrt(d)  # (d, d), a stand-in for W_q^T W_k
projected = np.array([PE[m + s] @ A @ PE[n + s] for s in shifts])
print(f"{'p_m·p_n':24s} max - min over shifts: {np.ptp(terms['p_m·p_n (position)']):.2e}")
print(f"{'p_m^T A p_n':24s} max - min over shifts: {np.ptp(projected):.2e}")

# %% [markdown]
# ## 5. Interview answer / 面试回答
#
# **Q2. Why do absolute encodings fall short? / 为什么绝对位置编码不够好？**
#
# *English (~30 s):* Absolute encodings add a vector for position $m$ to the token embedding. The
# attention score then contains cross terms between one token's content and the other token's absolute
# position, so the same two words at the same distance score differently at the start and in the
# middle of a text: the model must learn relative patterns again for every absolute offset, which
# generalises poorly. A learned table also has a hard limit: no row past its training length (512 for
# BERT), so it cannot even represent longer inputs; sinusoids can be evaluated there but the model never
# saw those values. RoPE instead rotates q and k by position-dependent angles: the score depends only on
# $n - m$, with no table and no extra parameters.
#
# *中文：* 绝对位置编码把位置向量加到词向量上，注意力分数中就出现了“一个词的内容 × 另一个词的绝对
# 位置”的交叉项：同样的两个词、同样的距离，在文本开头和中间的分数不同，模型必须为每个绝对位置重新
# 学习相对关系，泛化差。可学习位置表还有硬上限：超过训练长度（如 BERT 的 512）就没有向量；正弦编码
# 虽能计算，但模型从未见过这些值。RoPE 按位置旋转 q 和 k，分数只依赖相对距离 $n-m$，不需要位置表，
# 也没有额外参数。
#
# **Is the sinusoidal encoding "relative" then? / 正弦编码算相对编码吗？** Only between raw table rows:
# $p_m\cdot p_n$ depends only on $n - m$. In a layer the projections turn it into $p_m^\top A\, p_n$
# ($A = W_q^\top W_k$), which depends on the absolute positions for a generic $A$, and the
# content × position cross terms do too (section 4).
# 只在两行位置表之间成立：$p_m\cdot p_n$ 只依赖 $n - m$。在注意力层中，投影把它变成
# $p_m^\top A\, p_n$（$A = W_q^\top W_k$），对一般的 $A$ 依赖绝对位置；内容 × 位置的交叉项
# 也是如此（第 4 节）。
#
# Stuck? `ropekit hint absolute_vs_relative`; the reference: `ropekit solution absolute_vs_relative`.
