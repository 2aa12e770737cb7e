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
# # 07 — The concept quiz / 概念测验
#
# Interviews are half talking. This quiz trains the spoken answers: every conceptual question of the two
# source documents (`000`: Q1–Q4, the advantages and the application claims; `001`: its algorithm steps
# and its FAQ of 8 questions), one **myth-or-fact** item for each error the documents make (the softmax
# "rotation", "reduces complexity", the wrong citation, "groups of positions", "added to the
# embeddings", dimension 3, the broken sinusoidal code, code that does not run), a spot-the-error item on
# `001`'s worked example (recompute its numbers), and the questions interviewers add: why base 10 000,
# why only q and k, a larger base, RoPE vs ALiBi, NoPE, KV caching.
#
# 面试有一半是"说"。本测验训练口头回答：覆盖两篇源文档的全部概念题（`000` 的 Q1–Q4、优势与应用场景；
# `001` 的算法步骤和 8 个常见问题），为文档中的每个错误准备一道"误区还是事实"题，一道找出 `001` 算例中
# 错误的题（重新计算它的数字），并加入面试官常问的问题：为什么 base 取 10000、为什么只旋转 q 和 k、
# 增大 base 的效果、RoPE 与 ALiBi、NoPE、KV cache。
#
# **How to answer / 如何作答**: open `exercises/quiz.py`. Each question is written in a comment above its
# line `ANSWERS["id"] = None`; replace `None` by your answer:
#
# | kind / 题型 | write / 写法 |
# | --- | --- |
# | single choice / 单选 | one letter: `"b"` |
# | multiple choice / 多选 | the set of every true option: `{"a", "c"}` |
# | myth or fact / 误区还是事实 | `(False, "b")`: myth, reason b; `(True, "a")`: fact, reason a |
# | numeric / 数值 | a number: `42.0` (compute it in Python, not in your head) |
#
# Then run the check cell below (or `ropekit check quiz` in a terminal). A wrong answer is explained: why
# the option you chose is wrong, or which slip produces the number you wrote. An unanswered item says
# "not answered yet".

# %%
import math

import numpy as np

from grader import check, load
from grader.quiz import get_item, grade, load_items, render_item, render_model_answer

items = load_items()
print(f"{len(items)} items, {sum(i.points for i in items)} points")
for kind in ("single", "multiple", "truefalse", "numeric"):
    print(f"  {kind:9s} {sum(i.kind == kind for i in items):2d} items")

# %% [markdown]
# ## 1. What the items look like / 题目示例
#
# Three items as the quiz shows them, in English and 中文. The same text is in the comments of
# `exercises/quiz.py`.

# %%
for item_id in ("q1_role_of_pe", "myth_complexity", "num_flops"):
    print(render_item(get_item(item_id), "both"))
    print()

# %% [markdown]
# ## 2. A wrong answer teaches / 错误答案也能教你
#
# The grader does not just say "wrong". Suppose you believed the source document `000` and answered
# that RoPE reduces complexity (a "fact"), or that RoPE splits the *sequence* into groups:

# %%
print(grade(get_item("myth_complexity"), (True, "b")).message)
print()
print(grade(get_item("q3_core_idea"), "b").message)

# %% [markdown]
# Numeric items know the classic slips. Here is the exponent `−i/d` instead of `−2i/d` on the
# angle question:

# %%
print(grade(get_item("num_angle"), 100 * 10000 ** (-3 / 64)).message)

# %% [markdown]
# ## 3. Compute, don't guess / 用代码计算，不要心算
#
# A worked example that is *not* one of the quiz's numbers: the angle of pair $i = 5$ at position
# $m = 10$ for $d = 128$, base 10 000, is $m\,\theta_i = m \cdot \text{base}^{-2i/d}$ radians. The
# wavelength of that pair, $2\pi/\theta_i$, is how many tokens it takes to turn once.
#
# 一个不在测验中的算例：$d = 128$、base = 10000 时，位置 $m = 10$ 处第 $i = 5$ 对的角度为
# $m\,\theta_i = m \cdot \text{base}^{-2i/d}$ 弧度；该对的波长 $2\pi/\theta_i$ 是转一圈所需的词数。

# %%
d, base, i, m = 128, 10000.0, 5, 10
theta = base ** (-2 * i / d)
print(
    f"theta_{i} = {theta:.6f} rad/token, angle at m = {m}: {m * theta:.4f} rad, "
    f"wavelength {2 * math.pi / theta:.1f} tokens"
)
thetas = base ** (-2 * np.arange(d // 2) / d)
waves = 2 * math.pi / thetas
print(f"wavelengths of all {d // 2} pairs span {waves[0]:.2f} to {waves[-1]:,.0f} tokens")

# %% [markdown]
# ## 4. Answer in `exercises/quiz.py`, then check / 在 `exercises/quiz.py` 中作答并评分
#
# Save the file, then re-run the two cells below. `load("quiz")` re-imports your sheet;
# `check("quiz")` grades every item (one check per item, its points in the table).

# %%
quiz = load("quiz")
answered = sum(value is not None for value in quiz.ANSWERS.values())
if answered:
    print(f"you have answered {answered} of {len(items)} items")
else:
    print("Not implemented yet: exercises/quiz.py has no answers. Replace some None, save, re-run this cell.")

# %%
check("quiz")

# %% [markdown]
# ## 5. Model answers for the items you got right / 已答对题目的参考答案
#
# An interviewer wants a short paragraph, not a letter. For every item your sheet answers correctly,
# here is the model answer in English and 中文, with the paper to cite. (All of them, with the reference
# answers: `ropekit solution quiz`.)

# %%
solved = [item for item in items if grade(item, quiz.ANSWERS.get(item.id)).correct]
print(f"{len(solved)} of {len(items)} correct\n")
for item in solved[:12]:
    print(f"[{item.id}] {item.question_en}")
    print(render_model_answer(item, "both"))
    print()
if len(solved) > 12:
    print(f"... and {len(solved) - 12} more: `ropekit solution quiz`, or grader/quiz.toml")

# %% [markdown]
# ## 6. In a terminal / 在终端中
#
# - `ropekit check quiz` grades `exercises/quiz.py` with the same explanations;
# - `ropekit hint quiz` shows the next hint;
# - `ropekit quiz` asks the questions one by one and shows the model answer after each;
# - `ropekit solution quiz` shows the reference sheet (try first!).
#
# 终端中：`ropekit check quiz` 评分并给出解释；`ropekit hint quiz` 查看提示；`ropekit quiz` 逐题提问并在
# 作答后显示参考答案；`ropekit solution quiz` 查看参考答案（先自己做！）。
