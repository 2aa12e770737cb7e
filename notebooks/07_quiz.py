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
# # 07 — The concept quiz
#
# Interviews are half talking. This quiz trains the spoken answers: every conceptual question of the two
# source documents (`000`: Q1–Q4, the advantages and the application claims; `001`: its algorithm steps
# and its FAQ of 8 questions), one **myth-or-fact** item for each error the documents make (the softmax
# "rotation", "reduces complexity", the wrong citation, "groups of positions", "added to the
# embeddings", dimension 3, the broken sinusoidal code, code that does not run), a spot-the-error item on
# `001`'s worked example (recompute its numbers), and the questions interviewers add: why base 10 000,
# why only q and k, a larger base, RoPE vs ALiBi, NoPE, KV caching.
#
# **How to answer**: open `exercises/quiz.py`. Each question is written in a comment above its
# line `ANSWERS["id"] = None`; replace `None` by your answer:
#
# | kind | write |
# | --- | --- |
# | single choice | one letter: `"b"` |
# | multiple choice | the set of every true option: `{"a", "c"}` |
# | myth or fact | `(False, "b")`: myth, reason b; `(True, "a")`: fact, reason a |
# | numeric | a number: `42.0` (compute it in Python, not in your head) |
#
# Then run the check cell below (or `ropekit check quiz` in a terminal). A wrong answer is explained: why
# the option you chose is wrong, or which slip produces the number you wrote. An unanswered item says
# "not answered yet".

# %% [markdown] tags=["zh"]
# # 07 — 概念测验
#
# 面试有一半是在“说”。本测验训练的就是口头回答：它覆盖两篇源文档中的全部概念题（`000`：Q1–Q4、
# 优势以及关于应用场景的说法；`001`：算法步骤和包含 8 个问题的 FAQ）；
# 文档中的每一处错误各对应一道**误区还是事实**题（softmax 的“旋转”、“降低复杂度”、错误的引用、“把位置分组”、
# “加到词向量上”、维度为 3、有错的正弦编码代码、跑不起来的代码）；一道找出 `001`
# 算例错误的题（重新计算它的数字）；以及面试官常加的问题：为什么底数（base）取 10 000、为什么只旋转 q 和 k、
# 增大底数会怎样、旋转位置编码（RoPE）与 ALiBi 的对比、NoPE、键值缓存（KV cache）。
#
# **如何作答**：打开 `exercises/quiz.py`。每道题都写在它那一行 `ANSWERS["id"] = None` 上方的注释里；把 `None`
# 换成你的答案：
#
# | 题型 | 写法 |
# | --- | --- |
# | 单选 | 一个字母：`"b"` |
# | 多选 | 所有正确选项组成的集合：`{"a", "c"}` |
# | 误区还是事实 | `(False, "b")`：误区，理由 b；`(True, "a")`：事实，理由 a |
# | 数值 | 一个数：`42.0`（用 Python 算，不要心算） |
#
# 然后运行下面的评分单元格（或在终端里运行 `ropekit check quiz`）。答错的题会附上解释：你选的选项为什么不对，
# 或者你写的数字是哪种常见失误算出来的。还没作答的题会显示 “not answered yet”。

# %%
import math

import numpy as np

from grader import check, load
from grader.quiz import get_item, grade, load_items, render_item, render_model_answer

items = load_items()
print(f"{len(items)} items, {sum(i.points for i in items)} points")
for kind in ("single", "multiple", "truefalse", "numeric"):
    print(f"  {kind:9s} {sum(i.kind == kind for i in items):2d} items")

# %% [markdown] tags=["en"]
# ## 1. What the items look like
#
# Three items as the quiz shows them, in English and Chinese. The same text is in the comments of
# `exercises/quiz.py`.

# %% [markdown] tags=["zh"]
# ## 1. 题目示例
#
# 下面是测验中显示的三道题，中英双语。同样的文字也写在 `exercises/quiz.py` 的注释里。

# %%
for item_id in ("q1_role_of_pe", "myth_complexity", "num_flops"):
    print(render_item(get_item(item_id), "both"))
    print()

# %% [markdown] tags=["en"]
# ## 2. A wrong answer teaches
#
# The grader does not just say "wrong". Suppose you believed the source document `000` and answered
# that RoPE reduces complexity (a "fact"), or that RoPE splits the *sequence* into groups:

# %% [markdown] tags=["zh"]
# ## 2. 错误答案也能教你
#
# 评分器不只是告诉你“错了”。假设你相信了源文档 `000`，回答 RoPE 能降低复杂度（判为“事实”），或者 RoPE
# 把*序列*分成若干组：

# %%
print(grade(get_item("myth_complexity"), (True, "b")).message)
print()
print(grade(get_item("q3_core_idea"), "b").message)

# %% [markdown] tags=["en"]
# Numeric items know the classic slips. Here is the exponent `−i/d` instead of `−2i/d` on the
# angle question:

# %% [markdown] tags=["zh"]
# 数值题能认出常见的失误。下面是在角度题中把指数 `−2i/d` 写成 `−i/d` 的情况：

# %%
print(grade(get_item("num_angle"), 100 * 10000 ** (-3 / 64)).message)

# %% [markdown] tags=["en"]
# ## 3. Compute, don't guess
#
# A worked example that is *not* one of the quiz's numbers: the angle of pair $i = 5$ at position
# $m = 10$ for $d = 128$, base 10 000, is $m\,\theta_i = m \cdot \text{base}^{-2i/d}$ radians. The
# wavelength of that pair, $2\pi/\theta_i$, is how many tokens it takes to turn once.

# %% [markdown] tags=["zh"]
# ## 3. 用代码计算，不要心算
#
# 一个*不*在测验题目中的算例：$d = 128$、底数为 10 000 时，位置 $m = 10$ 处第 $i = 5$ 对的角度为
# $m\,\theta_i = m \cdot \text{base}^{-2i/d}$ 弧度。这一对的波长 $2\pi/\theta_i$ 就是它转一整圈所需的
# token 数。

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

# %% [markdown] tags=["en"]
# ## 4. Answer in `exercises/quiz.py`, then check
#
# Save the file, then re-run the two cells below. `load("quiz")` re-imports your sheet;
# `check("quiz")` grades every item (one check per item, its points in the table).

# %% [markdown] tags=["zh"]
# ## 4. 在 `exercises/quiz.py` 中作答并评分
#
# 保存文件，然后重新运行下面两个单元格。`load("quiz")` 会重新导入你的答题表；`check("quiz")`
# 为每道题评分（每道题一个检查项，分值见结果表格）。

# %%
quiz = load("quiz")
answered = sum(value is not None for value in quiz.ANSWERS.values())
if answered:
    print(f"you have answered {answered} of {len(items)} items")
else:
    print("Not implemented yet: exercises/quiz.py has no answers. Replace some None, save, re-run this cell.")

# %%
check("quiz")

# %% [markdown] tags=["en"]
# ## 5. Model answers for the items you got right
#
# An interviewer wants a short paragraph, not a letter. For every item your sheet answers correctly,
# here is the model answer in English and Chinese, with the paper to cite. (All of them, with the
# reference answers: `ropekit solution quiz`.)

# %% [markdown] tags=["zh"]
# ## 5. 已答对题目的参考回答
#
# 面试官想听的是一小段话，而不是一个字母。对你答对的每一道题，下面给出中英双语的参考回答，以及可以引用的论文。
# （要查看全部题目的参考回答和参考答案：`ropekit solution quiz`。）

# %%
solved = [item for item in items if grade(item, quiz.ANSWERS.get(item.id)).correct]
print(f"{len(solved)} of {len(items)} correct\n")
for item in solved[:12]:
    print(f"[{item.id}] {item.question_en}")
    print(render_model_answer(item, "both"))
    print()
if len(solved) > 12:
    print(f"... and {len(solved) - 12} more: `ropekit solution quiz`, or grader/quiz.toml")

# %% [markdown] tags=["en"]
# ## 6. In a terminal
#
# - `ropekit check quiz` grades `exercises/quiz.py` with the same explanations;
# - `ropekit hint quiz` shows the next hint;
# - `ropekit quiz` asks the questions one by one and shows the model answer after each;
# - `ropekit solution quiz` shows the reference sheet (try first!).

# %% [markdown] tags=["zh"]
# ## 6. 在终端中
#
# - `ropekit check quiz` 为 `exercises/quiz.py` 评分，并给出同样的解释；
# - `ropekit hint quiz` 显示下一条提示；
# - `ropekit quiz` 逐题提问，每答完一题就显示它的参考回答；
# - `ropekit solution quiz` 显示参考答题表（先自己做！）。
