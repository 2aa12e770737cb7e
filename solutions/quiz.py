"""The concept quiz: answer every question by filling in ANSWERS (one line per question).

Each question is in the comment above its line, in English and 中文. Replace `None` by your answer:

- single choice:   one option letter, e.g. "b"
- multiple choice: the set of every true option, e.g. {"a", "c"}
- myth or fact:    (True, "a") for a fact, (False, "b") for a myth, with the letter of the reason
- numeric:         a number, e.g. 12.5 (within the stated tolerance)

Grade with `ropekit check quiz` (or `check("quiz")` in notebooks/07_quiz.ipynb): a wrong answer is
explained, an unanswered one says "not answered yet". `ropekit quiz` asks the questions in the
terminal instead, and `ropekit solution quiz` shows the reference sheet. The model answers (English
and 中文) are in grader/quiz.toml and in the notebook.
"""

ANSWERS: dict = {}


# ----------------------------------------------------------------------------------------------------------
# 1. [q1_role_of_pe] single choice, 1 pt (000 Q1)
# What does positional encoding do in a Transformer?
# Transformer 中位置编码的作用是什么？
#   a) It sorts the tokens so that attention can be computed faster.
#      对 token 进行排序，使注意力计算更快。
#   b) Self-attention ignores order (it is permutation-equivariant); the encoding gives the model each
#      token's position.
#      自注意力忽略顺序（置换等变），位置编码告诉模型每个 token 的位置。
#   c) It normalises the embeddings so that training is stable.
#      对词向量做归一化，使训练稳定。
#   d) It lets the model accept inputs of different lengths.
#      让模型可以接受不同长度的输入。
ANSWERS["q1_role_of_pe"] = None
### BEGIN SOLUTION
# Model answer: Self-attention scores tokens by content only: softmax(q_m·k_n/√d) has no notion of where a
#   token sits, so without positions an attention layer is permutation-equivariant (shuffle the input rows
#   and the output rows are shuffled the same way) and "dog bites man" reads like "man bites dog". A
#   positional encoding injects order: the original Transformer adds a sinusoidal table to the embeddings
#   (Vaswani et al. 2017); learned tables, relative biases (T5, ALiBi) and rotations of q and k (RoPE) are
#   the alternatives.
# 参考答案：自注意力只按内容打分：softmax(q_m·k_n/√d) 不知道 token 在哪个位置，因此没有位置信息时注意力层是
#   置换等变的（打乱输入行，输出行以同样方式被打乱），"狗咬人"和"人咬狗"看起来一样。位置编码把顺序信息注入模
#   型：原始 Transformer 把正弦位置编码表加到词向量上（Vaswani et al. 2017）；可学习的位置表、相对位置偏置（
#   T5、ALiBi）以及对 q、k 做旋转（RoPE）是其他做法。
# Source: Vaswani et al. 2017, Attention Is All You Need, arXiv 1706.03762
ANSWERS["q1_role_of_pe"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 2. [q1_permutation] myth or fact, with a reason, 1 pt (000 Q1)
# Myth or fact: in a bidirectional self-attention layer (no mask) with no positional encoding, the output
# vector of "dog" is the same in "dog bites man" and "man bites dog".
# 是误区还是事实：在没有位置编码、没有掩码的双向自注意力层中，"dog" 的输出向量在 "dog bites man" 和 "man
# bites dog" 中完全相同。
# Reasons / 理由:
#   a) Each output depends only on its own token and on the set of tokens it attends to; attention is
#      permutation-equivariant.
#      每个输出只依赖自身的 token 和它所关注的 token 的集合；注意力是置换等变的。
#   b) Because the softmax normalises the weights to sum to one.
#      因为 softmax 把权重归一化为和为 1。
#   c) Because the residual connections copy the input unchanged.
#      因为残差连接原样复制了输入。
#   d) Because the feed-forward layer is applied to each position separately.
#      因为前馈层对每个位置独立计算。
ANSWERS["q1_permutation"] = None
### BEGIN SOLUTION
# Model answer: Fact. Without positions, output_i = Σ_j softmax_j(q_i·k_j/√d) v_j depends only on token i's
#   content and on the multiset of all tokens; permuting the input permutes the outputs (permutation
#   equivariance), so a token's output is identical in both word orders. This is why positional information
#   is needed. A causal mask breaks the symmetry (token t sees exactly t tokens), which is why decoder-only
#   models without positional encoding (NoPE) can still learn some order.
# 参考答案：事实。没有位置信息时，output_i = Σ_j softmax_j(q_i·k_j/√d) v_j 只依赖 token i 自身的内容和全体
#   token 的多重集合；打乱输入只会同样打乱输出（置换等变），所以同一个 token 在两种语序下输出完全相同。这正
#   是需要位置编码的原因。因果掩码会打破这种对称（第 t 个 token 恰好看到 t 个 token），所以不加位置编码的
#   decoder-only 模型（NoPE）仍能学到一些顺序信息。
# Source: Vaswani et al. 2017, Attention Is All You Need, arXiv 1706.03762
ANSWERS["q1_permutation"] = (True, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 3. [q2_absolute_shortfall] multiple choice, 2 pts (000 Q2)
# Why do absolute positional encodings (sinusoidal or learned, added to the embeddings) fall short? Choose
# every true statement.
# 为什么绝对位置编码（正弦或可学习，加到词向量上）效果不够好？选出所有正确的说法。
#   a) The q·k score of two tokens depends on their absolute positions, not only on their distance.
#      两个 token 的 q·k 分数依赖它们的绝对位置，而不只依赖它们的距离。
#   b) A learned position table has no entries beyond the length it was trained on.
#      可学习的位置表在训练长度之外没有对应的条目。
#   c) The sinusoidal formula cannot produce positions beyond 512.
#      正弦公式无法给出超过 512 的位置。
#   d) Absolute encodings carry no position information at all.
#      绝对位置编码完全不携带位置信息。
ANSWERS["q2_absolute_shortfall"] = None
### BEGIN SOLUTION
# Model answer: With the encoding added to the embeddings, the score (x_m + p_m)ᵀ W_qᵀ W_k (x_n + p_n)
#   contains terms in p_m and p_n separately, so it depends on the absolute positions, not only on the
#   distance n − m: the same phrase scores differently at the start and in the middle of a text. A learned
#   table has no row beyond its trained length (BERT and GPT-2 stop at 512 / 1024). The sinusoidal formula
#   is defined for any position, but the model has never seen far positions and does not extrapolate well.
#   RoPE (Su et al. 2021) makes the q·k score depend on n − m only.
# 参考答案：位置编码加到词向量上之后，分数 (x_m + p_m)ᵀ W_qᵀ W_k (x_n + p_n) 中含有单独依赖 p_m、p_n 的项，
#   所以分数依赖绝对位置，而不只依赖距离 n − m：同一个短语在文章开头和中间得分不同。可学习的位置表在训练长度
#   之外没有行（BERT、GPT-2 分别止于 512 / 1024）。正弦公式对任意位置都有定义，但模型没见过远处的位置，外推
#   效果差。RoPE（Su et al. 2021）让 q·k 分数只依赖 n − m。
# Source: Vaswani et al. 2017, arXiv 1706.03762; Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["q2_absolute_shortfall"] = {"a", "b"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 4. [q2_sinusoidal_offset] myth or fact, with a reason, 1 pt (000 Q2; 000 sinusoidal code)
# Myth or fact: with the sinusoidal encoding, for a fixed offset k, PE(p + k) is a linear function of PE(p)
# (Vaswani et al. 2017).
# 是误区还是事实：对正弦位置编码，固定偏移 k 时，PE(p + k) 是 PE(p) 的线性函数（Vaswani et al. 2017）。
# Reasons / 理由:
#   a) Each (sin, cos) pair at p + k is the pair at p rotated by k·ω_i: a fixed 2×2 matrix that depends on k
#      only.
#      p + k 处的每一对 (sin, cos) 是 p 处这一对旋转 k·ω_i 得到的：一个只依赖 k 的固定 2×2 矩阵。
#   b) Because sin and cos are linear functions.
#      因为 sin 和 cos 是线性函数。
#   c) Because the table is learned so that neighbouring rows are similar.
#      因为该位置表是学习得到的，相邻行相似。
ANSWERS["q2_sinusoidal_offset"] = None
### BEGIN SOLUTION
# Model answer: Fact. Each pair (sin pω_i, cos pω_i) at position p + k is the pair at p rotated by the angle
#   kω_i, a matrix that depends on k only; Vaswani et al. chose sinusoids hoping the model could attend by
#   relative position through this. But the encoding is added to the content, and the projections W_q, W_k
#   mix the terms, so the score is still not a function of the offset alone. RoPE takes the same rotation
#   and applies it to q and k directly, which makes the score exactly relative.
# 参考答案：事实。位置 p + k 处的每一对 (sin pω_i, cos pω_i) 等于位置 p 处的这一对旋转角度 kω_i，该矩阵只依
#   赖 k；Vaswani 等人选择正弦函数，正是希望模型借此按相对位置关注。但编码是加到内容上的，W_q、W_k 会把各项
#   混在一起，所以分数仍不只是偏移的函数。RoPE 把同样的旋转直接作用在 q 和 k 上，使分数严格只依赖相对位置。
# Source: Vaswani et al. 2017, Attention Is All You Need, section 3.5, arXiv 1706.03762
ANSWERS["q2_sinusoidal_offset"] = (True, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 5. [q3_core_idea] single choice, 1 pt (000 Q3; 001 FAQ 2: what is RoPE; 001 FAQ 3: core idea)
# What is the core idea of Rotary Position Embedding (RoPE)?
# 旋转位置编码（RoPE）的核心思想是什么？
#   a) Add a rotated sinusoidal table to the token embeddings once, at the input.
#      在输入处把一个旋转过的正弦位置编码表加到词向量上一次。
#   b) Split the sequence into groups and rotate the positions inside each group.
#      把序列分成若干组，在每组内部对位置进行旋转。
#   c) Rotate each 2-D feature pair of q and k by an angle proportional to the position, so q·k depends on
#      content and on the offset only.
#      将 q 和 k 的每个二维特征对旋转一个与位置成正比的角度，使 q·k 只依赖内容和相对偏移。
#   d) Add a learned bias that depends on the distance to the attention logits.
#      在注意力 logits 上加一个依赖距离的可学习偏置。
ANSWERS["q3_core_idea"] = None
### BEGIN SOLUTION
# Model answer: RoPE (Su et al. 2021, RoFormer) splits the d features of each query and key into d/2 pairs
#   and rotates pair i of a token at position m by the angle m·θ_i, θ_i = 10000^(−2i/d). Because rotations
#   compose, (R_m q)ᵀ(R_n k) = qᵀ R_{n−m} k: the score depends on the contents and on the offset n − m only,
#   while each vector still carries its absolute position. It has no parameters, is applied in every
#   attention layer to q and k (never to v), and costs O(T·d) extra element-wise work.
# 参考答案：RoPE（Su et al. 2021，RoFormer）把每个查询和键的 d 个特征分成 d/2 对，位置 m 的第 i 对旋转角度
#   m·θ_i，θ_i = 10000^(−2i/d)。由于旋转可以复合，(R_m q)ᵀ(R_n k) = qᵀ R_{n−m} k：分数只依赖内容和偏移 n − m
#   ，而每个向量本身仍带有绝对位置。它没有参数，在每一层注意力中作用于 q 和 k（从不作用于 v），额外开销是
#   O(T·d) 的逐元素计算。
# Source: Su et al. 2021, RoFormer: Enhanced Transformer with Rotary Position Embedding, arXiv 2104.09864
ANSWERS["q3_core_idea"] = "c"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 6. [q3_relative_identity] single choice, 1 pt (000 Q3; 001 FAQ 3: core idea)
# R_m is RoPE's rotation at position m (block diagonal, 2×2 rotations of angles m·θ_i). Which identity makes
# RoPE a relative encoding?
# R_m 是位置 m 的 RoPE 旋转矩阵（分块对角，2×2 旋转，角度 m·θ_i）。哪个恒等式使 RoPE 成为相对位置编码？
#   a) (R_m q)ᵀ (R_n k) = qᵀ R_{n−m} k
#      (R_m q)ᵀ (R_n k) = qᵀ R_{n−m} k
#   b) (R_m q)ᵀ (R_n k) = qᵀ R_{m+n} k
#      (R_m q)ᵀ (R_n k) = qᵀ R_{m+n} k
#   c) (R_m q)ᵀ (R_n k) = (qᵀ k) · cos((n − m)θ)
#      (R_m q)ᵀ (R_n k) = (qᵀ k) · cos((n − m)θ)
#   d) R_m q + R_n k = R_{n−m}(q + k)
#      R_m q + R_n k = R_{n−m}(q + k)
ANSWERS["q3_relative_identity"] = None
### BEGIN SOLUTION
# Model answer: (R_m q)ᵀ(R_n k) = qᵀ R_mᵀ R_n k = qᵀ R_{n−m} k, because each 2×2 block is orthogonal (R_mᵀ =
#   R_{−m}) and rotations in the same plane add their angles. The score therefore sees only n − m. The same
#   identity proves that rotating v would not cancel (v is never multiplied by another rotation), and that
#   rotations keep norms (‖R_m q‖ = ‖q‖).
# 参考答案：(R_m q)ᵀ(R_n k) = qᵀ R_mᵀ R_n k = qᵀ R_{n−m} k，因为每个 2×2 块都是正交矩阵（R_mᵀ = R_{−m}），同
#   一平面内的旋转角度相加。因此分数只看到 n − m。同一恒等式也说明旋转 v 不会被抵消（v 不再乘另一个旋转），
#   并且旋转保持范数（‖R_m q‖ = ‖q‖）。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["q3_relative_identity"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 7. [q3_advantages] multiple choice, 2 pts (000 Q3 and its advantages list; 001 FAQ 6: advantages)
# Which of these are real advantages of RoPE? Choose every true statement.
# 下列哪些是 RoPE 真正的优势？选出所有正确的说法。
#   a) The q·k score depends on the tokens' relative position, not on their absolute positions.
#      q·k 分数依赖 token 的相对位置，而不是绝对位置。
#   b) An upper bound of the score decays as the distance grows (long-term decay).
#      分数的上界随距离增大而衰减（远程衰减）。
#   c) It has no learned parameters and is defined for any position.
#      没有可学习参数，对任意位置都有定义。
#   d) It reduces the computational complexity of attention.
#      降低了注意力的计算复杂度。
#   e) It can be combined with linear attention, because it multiplies q and k by norm-preserving rotations.
#      它可以与线性注意力结合，因为它只是用保范数的旋转乘以 q 和 k。
#   f) It lets a model trained on 2k tokens work on 32k tokens without any change.
#      训练于 2k 长度的模型无需任何改动即可处理 32k 长度。
ANSWERS["q3_advantages"] = None
### BEGIN SOLUTION
# Model answer: RoFormer (Su et al. 2021) lists: the score depends on relative position (R_mᵀR_n = R_{n−m});
#   an upper bound of the score decays with distance (long-term decay, section 3.4.3); no learned table, so
#   it is defined for any position and adds no parameters; and, being a norm-preserving multiplication, it
#   combines with linear attention. It does not reduce complexity (it adds O(T·d) work) and does not by
#   itself extrapolate to unseen lengths: that needs PI, NTK-aware scaling or YaRN.
# 参考答案：RoFormer（Su et al. 2021）列出的优势：分数依赖相对位置（R_mᵀR_n = R_{n−m}）；分数的上界随距离衰
#   减（远程衰减，3.4.3 节）；没有可学习的位置表，任意位置都有定义、不增加参数；而且它是保范数的乘法，可以与
#   线性注意力结合。它不会降低计算复杂度（额外增加 O(T·d) 计算），本身也不能外推到没见过的长度：那需要 PI、
#   NTK-aware 缩放或 YaRN。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["q3_advantages"] = {"a", "b", "c", "e"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 8. [q4_long_context] multiple choice, 2 pts (000 Q4; 000 application claim: long text)
# How is RoPE adapted to texts longer than the training context? Choose every true statement.
# 如何让 RoPE 适应比训练长度更长的文本？选出所有正确的说法。
#   a) Position Interpolation: divide the positions by the extension factor so that all angles stay in the
#      trained range, then fine-tune briefly.
#      位置内插：把位置除以扩展倍数，使所有角度都落在训练范围内，再做少量微调。
#   b) NTK-aware scaling: raise the base, so the high-frequency pairs barely change and the low-frequency
#      pairs are interpolated.
#      NTK-aware 缩放：增大 base，使高频对几乎不变、低频对被内插。
#   c) YaRN: interpolate per frequency band (keep high frequencies, interpolate low ones) and scale the
#      attention logits by a temperature.
#      YaRN：按频段内插（保留高频、内插低频），并用温度缩放注意力 logits。
#   d) Nothing is needed: RoPE is relative, so it extrapolates to any length.
#      什么都不用做：RoPE 是相对位置编码，所以能外推到任意长度。
#   e) Rotate more feature dimensions, so that more positions can be encoded.
#      旋转更多的特征维度，从而能编码更多位置。
ANSWERS["q4_long_context"] = None
### BEGIN SOLUTION
# Model answer: Position Interpolation (Chen et al. 2023) divides positions by the scale s = L'/L so every
#   angle stays inside the trained range, then fine-tunes briefly (about 1000 steps). NTK-aware scaling
#   raises the base (base·s^(d/(d−2))) so the fast pairs barely change while the slow ones are interpolated.
#   YaRN (Peng et al. 2023) interpolates per frequency band (high frequencies kept, low ones divided by s, a
#   ramp between) and scales the logits by a temperature (√(1/t) = 0.1·ln s + 1). Llama 3.1 uses a similar
#   per-band rule. Plain RoPE does not extrapolate by itself.
# 参考答案：位置内插（PI，Chen et al. 2023）把位置除以比例 s = L'/L，使所有角度都落在训练范围内，再做少量微
#   调（约 1000 步）。NTK-aware 缩放增大 base（base·s^(d/(d−2))），高频对几乎不变，低频对被内插。YaRN（Peng
#   et al. 2023）按频段内插（高频保留、低频除以 s，中间线性过渡），并用温度缩放 logits（√(1/t) = 0.1·ln s +
#   1）。Llama 3.1 使用类似的分频段规则。原始 RoPE 本身并不能外推。
# Source: Chen et al. 2023, Position Interpolation, arXiv 2306.15595; Peng et al. 2023, YaRN, arXiv
#   2309.00071
ANSWERS["q4_long_context"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 9. [q4_long_term_decay] myth or fact, with a reason, 1 pt (000 Q4; 000 advantage: global relative position
#   information)
# Myth or fact: RoPE's long-term decay means that the attention score between two tokens always decreases as
# their distance grows.
# 是误区还是事实：RoPE 的远程衰减意味着两个 token 之间的注意力分数总是随距离增大而减小。
# Reasons / 理由:
#   a) Fact: a rotation shrinks a vector a little more at every position.
#      事实：每多一个位置，旋转都会把向量缩短一点。
#   b) Myth: what decays is an upper bound of the score over all contents (RoFormer 3.4.3); a particular
#      score can rise with distance.
#      误区：衰减的是分数在所有内容上的上界（RoFormer 3.4.3 节）；具体某个分数可以随距离增大。
#   c) Myth: RoPE has no decay of any kind; only ALiBi does.
#      误区：RoPE 没有任何形式的衰减，只有 ALiBi 有。
ANSWERS["q4_long_term_decay"] = None
### BEGIN SOLUTION
# Model answer: Myth. RoFormer (section 3.4.3) writes the score as a sum over pairs and bounds it by max_i
#   |h_{i+1} − h_i| · Σ_j |S_j|, where h_i combines the i-th pairs of q and k and S_j = Σ_{k<j}
#   e^{i(n−m)θ_k}; the relative upper bound (1/(d/2))·Σ_j |S_j| decays (with oscillations) as the distance
#   grows. It is an envelope over all contents: a particular pair of vectors can score higher far away, and
#   the model can learn to attend far. The decay is one reason nearby tokens tend to matter more, and a
#   larger base makes it slower.
# 参考答案：误区。RoFormer（3.4.3 节）把分数写成各特征对之和，并用 max_i |h_{i+1} − h_i| · Σ_j |S_j| 作为上
#   界（h_i 由 q 和 k 的第 i 对组成，S_j = Σ_{k<j} e^{i(n−m)θ_k}）；相对上界 (1/(d/2))·Σ_j |S_j| 随距离（带
#   振荡地）衰减。它只是对所有内容的包络：具体的一对向量在远处的分数可以更高，模型也能学会关注远处。衰减是近
#   处的 token 往往更重要的原因之一，增大 base 会让衰减变慢。
# Source: Su et al. 2021, RoFormer, section 3.4.3, arXiv 2104.09864
ANSWERS["q4_long_term_decay"] = (False, "b")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 10. [q4_ntk_base] numeric, 2 pts (000 Q4)
# NTK-aware scaling extends a RoPE model by a factor s by replacing the base with base·s^(d/(d−2)). What is
# the new base for base = 10000, s = 4, head dimension d = 128? (relative tolerance 0.1 %)
# NTK-aware 缩放把 RoPE 模型的上下文扩展 s 倍，方法是把 base 换成 base·s^(d/(d−2))。当 base = 10000、s = 4、
# 头维度 d = 128 时，新的 base 是多少？（相对容差 0.1 %）
ANSWERS["q4_ntk_base"] = None
### BEGIN SOLUTION
# Model answer: 10000 · 4^(128/126) ≈ 40 890. The exponent d/(d−2) is chosen so that the slowest pair (i =
#   d/2 − 1) is slowed down by exactly s, like Position Interpolation, while the fastest pair (θ_0 = 1) is
#   unchanged: high frequencies, which resolve neighbouring tokens, are kept, and low frequencies are
#   interpolated. Without fine-tuning it degrades less than PI; YaRN (Peng et al. 2023) refines it per
#   frequency band.
# 参考答案：10000 · 4^(128/126) ≈ 40 890。指数 d/(d−2) 的选取使最慢的一对（i = d/2 − 1）恰好慢 s 倍（与位置
#   内插相同），而最快的一对（θ_0 = 1）不变：负责区分相邻 token 的高频被保留，低频被内插。不微调时它比 PI 退
#   化更少；YaRN（Peng et al. 2023）按频段进一步细化。
# Source: NTK-aware scaled RoPE (bloc97, 2023), as summarised in Peng et al. 2023, YaRN, arXiv 2309.00071
ANSWERS["q4_ntk_base"] = 40889.94243248622
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 11. [app_vision] myth or fact, with a reason, 1 pt (000 application claim: multimodal; 001 FAQ 4: computer
#   vision)
# Myth or fact: RoPE only works for 1-D text; it cannot encode the positions of image patches.
# 是误区还是事实：RoPE 只适用于一维文本，无法编码图像块（patch）的位置。
# Reasons / 理由:
#   a) Myth: 2-D RoPE rotates half of the pairs by the row index and half by the column index, so the score
#      depends on (Δrow, Δcol).
#      误区：二维 RoPE 用行号旋转一半特征对、用列号旋转另一半，分数依赖 (Δrow, Δcol)。
#   b) Myth: flatten the image into a sequence and 1-D RoPE is exactly right.
#      误区：把图像展平成序列，一维 RoPE 就完全正确。
#   c) Fact: images have no order, so positions do not matter for them.
#      事实：图像没有顺序，所以位置对图像无关紧要。
ANSWERS["app_vision"] = None
### BEGIN SOLUTION
# Model answer: Myth. For a grid, 2-D (axial) RoPE gives half of the feature pairs angles row·θ_i and the
#   other half col·θ_i; the score then depends on (Δrow, Δcol), a relative 2-D position. Heo et al. 2024
#   show it improves ViTs and extrapolates to higher resolutions; multimodal models extend the idea to
#   (time, height, width). Flattening the image and using 1-D RoPE would place vertically adjacent patches a
#   whole row apart.
# 参考答案：误区。对于网格，二维（轴向）RoPE 让一半特征对的角度为 row·θ_i，另一半为 col·θ_i；分数因此依赖
#   (Δrow, Δcol)，即二维相对位置。Heo et al. 2024 表明它能提升 ViT 的效果，并能外推到更高分辨率；多模态模型
#   把这一思路扩展到（时间、高、宽）。若把图像展平后用一维 RoPE，上下相邻的图像块会相距一整行。
# Source: Heo et al. 2024, Rotary Position Embedding for Vision Transformer, arXiv 2403.13298
ANSWERS["app_vision"] = (False, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 12. [faq1_transformer] single choice, 1 pt (001 FAQ 1: what is a Transformer)
# What is a Transformer?
# 什么是 Transformer？
#   a) A recurrent network (RNN) with an attention layer on top.
#      在循环神经网络（RNN）之上加一个注意力层。
#   b) A stack of blocks of multi-head self-attention and position-wise feed-forward layers, with residual
#      connections and normalisation, and no recurrence.
#      由多头自注意力和逐位置前馈层组成的块堆叠而成，带残差连接和归一化，没有循环结构。
#   c) A convolutional network over the token embeddings.
#      作用在词向量上的卷积网络。
#   d) A model that must have both an encoder and a decoder.
#      必须同时包含编码器和解码器的模型。
ANSWERS["faq1_transformer"] = None
### BEGIN SOLUTION
# Model answer: A Transformer (Vaswani et al. 2017) is a stack of blocks, each with multi-head
#   self-attention and a position-wise feed-forward network, wrapped in residual connections and layer
#   normalisation (pre-norm in most modern models); there is no recurrence and no convolution, so all
#   positions are processed in parallel and positional information must be injected. The original is
#   encoder-decoder; BERT is encoder-only, GPT and Llama are decoder-only with a causal mask.
# 参考答案：Transformer（Vaswani et al. 2017）由若干个块堆叠而成，每个块包含多头自注意力和逐位置前馈网络，外
#   加残差连接和层归一化（现代模型多用 pre-norm）；没有循环也没有卷积，所有位置并行处理，因此必须另外注入位
#   置信息。原始模型是编码器-解码器结构；BERT 只有编码器，GPT、Llama 只有带因果掩码的解码器。
# Source: Vaswani et al. 2017, Attention Is All You Need, arXiv 1706.03762
ANSWERS["faq1_transformer"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 13. [faq2_where_applied] single choice, 1 pt (001 FAQ 2: what is RoPE; 001 algorithm step 4 (wrong))
# Where, in a Transformer, is RoPE applied?
# RoPE 在 Transformer 的哪个位置起作用？
#   a) Once, on the input embeddings, before the first layer.
#      只在第一层之前，作用于输入词向量一次。
#   b) On the attention weights, after the softmax.
#      作用于 softmax 之后的注意力权重。
#   c) In every attention layer, on the queries and keys after their projections and before the dot product.
#      在每一层注意力中，作用于投影之后、点积之前的查询和键。
#   d) Concatenated to the input as extra features, as 001's step 4 says.
#      像 001 第 4 步所说，作为额外特征与输入拼接。
ANSWERS["faq2_where_applied"] = None
### BEGIN SOLUTION
# Model answer: In every attention layer, per head: after the projections q = W_q x and k = W_k x and before
#   the scores q·k, the query at position m and the key at position n are rotated by R_m and R_n. Values,
#   the embeddings and the attention weights are left alone. (001's step 4, "feed the rotated position
#   encoding into the Transformer, concatenated with the input", describes something else.)
# 参考答案：在每一层注意力、每个头中：在投影 q = W_q x、k = W_k x 之后、计算分数 q·k 之前，把位置 m 的查询和
#   位置 n 的键分别用 R_m、R_n 旋转。值、词向量和注意力权重都不动。（001 的第 4 步"把旋转后的位置编码与输入
#   拼接后送入 Transformer"描述的是另一回事。）
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["faq2_where_applied"] = "c"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 14. [faq4_applications] multiple choice, 2 pts (001 FAQ 4: where RoPE applies; 000 application claims)
# Which of these use RoPE? Choose every true statement.
# 下列哪些使用了 RoPE？选出所有正确的说法。
#   a) LLaMA, Mistral, GPT-NeoX and PaLM.
#      LLaMA、Mistral、GPT-NeoX 和 PaLM。
#   b) The original BERT and GPT-2.
#      原始的 BERT 和 GPT-2。
#   c) BLOOM and MPT.
#      BLOOM 和 MPT。
#   d) Vision transformers with 2-D RoPE on image patches.
#      在图像块上使用二维 RoPE 的视觉 Transformer。
#   e) The original Transformer of Vaswani et al. 2017.
#      Vaswani 等人 2017 年的原始 Transformer。
ANSWERS["faq4_applications"] = None
### BEGIN SOLUTION
# Model answer: RoPE is the default in today's decoder LLMs: GPT-J, GPT-NeoX, PaLM, LLaMA / Llama 2 / Llama
#   3, Mistral, Qwen and many more; 2-D variants are used in vision transformers and multimodal models, and
#   it also appears in speech encoders. The original Transformer used sinusoidal encodings, BERT and GPT-2
#   learned absolute tables, and BLOOM and MPT use ALiBi instead.
# 参考答案：RoPE 是当今 decoder 大模型的默认选择：GPT-J、GPT-NeoX、PaLM、LLaMA / Llama 2 / Llama 3、Mistral
#   、Qwen 等；二维变体用于视觉 Transformer 和多模态模型，语音编码器中也有使用。原始 Transformer 用正弦位置
#   编码，BERT 和 GPT-2 用可学习的绝对位置表，BLOOM 和 MPT 则用 ALiBi。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864; Heo et al. 2024, arXiv 2403.13298
ANSWERS["faq4_applications"] = {"a", "d"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 15. [faq5_algorithm] single choice, 1 pt (001 FAQ 5: how to implement RoPE; 001 algorithm steps 1-4)
# Which recipe implements RoPE?
# 哪一种做法实现了 RoPE？
#   a) pos_i = [i, i², …, i^d]; R = softmax(θ·pos_i); rotated = R·pos_i; concatenate it with the input
#      (001's steps).
#      pos_i = [i, i², …, i^d]；R = softmax(θ·pos_i)；rotated = R·pos_i；与输入拼接（001 的步骤）。
#   b) θ_i = base^(−2i/d); rotate each feature pair of q and k at position m by m·θ_i with cos and sin
#      element-wise; then compute q·k.
#      θ_i = base^(−2i/d)；用 cos 和 sin 逐元素把位置 m 的 q、k 的每个特征对旋转 m·θ_i；再计算 q·k。
#   c) Compute the sinusoidal table and multiply it element-wise with the token embeddings.
#      计算正弦位置编码表，并与词向量逐元素相乘。
#   d) Build a T×T rotation matrix and multiply the attention score matrix by it.
#      构造一个 T×T 的旋转矩阵，并用它乘以注意力分数矩阵。
ANSWERS["faq5_algorithm"] = None
### BEGIN SOLUTION
# Model answer: Precompute θ_i = base^(−2i/d) for i < d/2 and the angles m·θ_i for every position (in
#   float32 or better), take cos and sin; in each attention layer rotate every pair of q and k: (x1, x2) →
#   (x1·cos − x2·sin, x2·cos + x1·sin), element-wise, never building the d×d matrix; then compute the scores
#   as usual. 001's steps (powers of the index, a softmax "rotation matrix", concatenation with the input)
#   are not RoPE.
# 参考答案：预先计算 θ_i = base^(−2i/d)（i < d/2）以及每个位置的角度 m·θ_i（用 float32 或更高精度），取 cos
#   和 sin；在每一层注意力中逐元素旋转 q 和 k 的每一对特征：(x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin)，
#   不构造 d×d 矩阵；然后照常计算分数。001 的步骤（位置的幂、softmax"旋转矩阵"、与输入拼接）不是 RoPE。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["faq5_algorithm"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 16. [faq7_limitations] multiple choice, 2 pts (001 FAQ 7: limitations)
# Which of these are real limitations or pitfalls of RoPE? Choose every true statement.
# 下列哪些是 RoPE 真正的局限或易错点？选出所有正确的说法。
#   a) Without scaling (PI, NTK-aware, YaRN) it extrapolates poorly beyond the trained length.
#      不做缩放（PI、NTK-aware、YaRN）时，在训练长度之外外推效果差。
#   b) The number of rotated features must be even.
#      旋转的特征数必须是偶数。
#   c) The angles m·θ_i must be computed in float32 or better; in bf16 large positions come out wrong.
#      角度 m·θ_i 必须用 float32 或更高精度计算；用 bf16 时大位置会出错。
#   d) It adds O(T²·d) extra work, as much as attention itself.
#      它额外增加 O(T²·d) 的计算，与注意力本身一样多。
#   e) It cannot be used with a KV cache, because positions change as the sequence grows.
#      它不能和键值缓存（KV cache）一起使用，因为序列变长时位置会变。
ANSWERS["faq7_limitations"] = None
### BEGIN SOLUTION
# Model answer: Real limitations: plain RoPE extrapolates poorly beyond the trained length (Chen et al.
#   2023), so long context needs PI, NTK-aware scaling or YaRN; it needs an even number of rotated features;
#   and its angles must be computed in float32 or better, since in bf16 a position like 60 000 is rounded by
#   up to 128 and the fast pairs' angles become noise. 001's "extra computational complexity" is small:
#   O(T·d) element-wise work, no parameters, cached keys stay valid.
# 参考答案：真正的局限：原始 RoPE 在训练长度之外外推效果差（Chen et al. 2023），长上下文需要 PI、NTK-aware
#   缩放或 YaRN；旋转的特征数必须是偶数；角度必须用 float32 或更高精度计算，因为 bf16 中像 60 000 这样的位置
#   会被舍入多达 128，高频对的角度变成噪声。001 所说的"额外计算复杂度"很小：O(T·d) 的逐元素计算，没有参数，
#   缓存的键仍然有效。
# Source: Su et al. 2021, arXiv 2104.09864; Chen et al. 2023, arXiv 2306.15595
ANSWERS["faq7_limitations"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 17. [faq8_optimise] multiple choice, 2 pts (001 FAQ 8: how to optimise)
# Which of these make RoPE faster without changing its result? Choose every true statement.
# 下列哪些做法能让 RoPE 更快且不改变结果？选出所有正确的说法。
#   a) Compute the cos/sin tables once and reuse them in every layer and head.
#      只计算一次 cos/sin 表，在每一层、每个头中复用。
#   b) Never build the d×d rotation matrix: use x·cos + rotate(x)·sin element-wise.
#      不要构造 d×d 旋转矩阵：逐元素计算 x·cos + rotate(x)·sin。
#   c) Fuse the rotation of q and k into one kernel, since the work is memory-bound.
#      由于是访存受限的运算，把 q 和 k 的旋转融合到一个 kernel 中。
#   d) Compute the angles m·θ_i in bf16 to halve the work.
#      用 bf16 计算角度 m·θ_i，使计算量减半。
#   e) Rotate v as well, so that q, k and v go through the same kernel.
#      把 v 也旋转，使 q、k、v 走同一个 kernel。
ANSWERS["faq8_optimise"] = None
### BEGIN SOLUTION
# Model answer: RoPE is memory-bound element-wise work, so speed comes from touching memory less: compute
#   the cos/sin tables once per sequence and share them across layers and heads; never build R_m (use x·cos
#   + rotate(x)·sin, RoFormer's efficient form); fuse the rotation of q and k into one kernel (or into the
#   QKV projection / attention kernel). Lowering the angles' precision or rotating v changes the result: the
#   first breaks large positions, the second the relative property.
# 参考答案：RoPE 是受内存带宽限制的逐元素运算，提速靠减少访存：每个序列只算一次 cos/sin 表，在各层各头之间共
#   享；不构造 R_m（用 x·cos + rotate(x)·sin，即 RoFormer 给出的高效实现）；把 q 和 k 的旋转融合进一个
#   kernel（或融合进 QKV 投影/注意力 kernel）。降低角度精度或旋转 v 都会改变结果：前者破坏大位置，后者破坏相
#   对性。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["faq8_optimise"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 18. [myth_softmax_rotation] myth or fact, with a reason, 1 pt (001 algorithm steps 1-3; 001 section 4
#   worked example)
# Myth or fact: 001's matrix R = softmax(θ·pos_i), with pos_i = [i, i², …, i^d], is a rotation matrix, and
# RoPE is built from it.
# 是误区还是事实：001 中的矩阵 R = softmax(θ·pos_i)（pos_i = [i, i², …, i^d]）是旋转矩阵，RoPE 由它构成。
# Reasons / 理由:
#   a) Fact: softmax makes the matrix smooth and invertible, which is what a rotation needs.
#      事实：softmax 使矩阵平滑且可逆，这正是旋转所需要的。
#   b) Myth, but only because θ should be 10000 instead of 0.1.
#      是误区，但只是因为 θ 应该是 10000 而不是 0.1。
#   c) Myth: a rotation is orthogonal and keeps norms; a softmax output (positive entries summing to 1) is
#      neither, and it does not depend on relative position.
#      误区：旋转矩阵是正交的、保持范数；softmax 的输出（和为 1 的正数）两者都不满足，也不依赖相对位置。
ANSWERS["myth_softmax_rotation"] = None
### BEGIN SOLUTION
# Model answer: Myth. A rotation matrix is orthogonal with determinant 1, so it keeps lengths and angles,
#   and in RoPE (R_m)ᵀR_n = R_{n−m} makes scores relative. A softmax produces positive entries that sum to
#   one: the result is not orthogonal, does not preserve norms (it can shorten or lengthen a vector), and
#   depends on absolute position through i, i², …, which also overflow for long sequences. RoPE's rotation
#   is block-diagonal: pair (2i, 2i+1) is rotated by m·θ_i with θ_i = 10000^(−2i/d). 001's worked numbers
#   are not even self-consistent: it prints pos_2 = [4, 2, 8] for [2, 2², 2³] = [2, 4, 8] (item
#   seed_worked_example lists the other misprints).
# 参考答案：误区。旋转矩阵是行列式为 1 的正交矩阵，保持长度和夹角；在 RoPE 中 (R_m)ᵀR_n = R_{n−m} 使分数只依
#   赖相对位置。softmax 的输出是和为 1 的正数：结果不正交、不保持范数（可能缩短也可能拉长向量），而且通过 i
#   、i²、… 依赖绝对位置，长序列时还会溢出。RoPE 的旋转是分块对角的：第 (2i, 2i+1) 对旋转 m·θ_i，θ_i =
#   10000^(−2i/d)。001 的算例本身也不自洽：[2, 2², 2³] = [2, 4, 8] 被写成了 pos_2 = [4, 2, 8]（其他印错之处
#   见 seed_worked_example 题）。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["myth_softmax_rotation"] = (False, "c")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 19. [myth_odd_dimension] myth or fact, with a reason, 1 pt (001 section 4.3 worked example (d = 3))
# Myth or fact: 001's worked example with dimension 3 is a valid RoPE configuration.
# 是误区还是事实：001 中维度为 3 的算例是合法的 RoPE 配置。
# Reasons / 理由:
#   a) Fact: rotations exist in 3-D, so any dimension works.
#      事实：三维空间中也有旋转，所以任意维度都可以。
#   b) Myth: RoPE rotates 2-D feature pairs, so the number of rotated features must be even.
#      误区：RoPE 旋转的是二维特征对，所以旋转的特征数必须是偶数。
#   c) Myth: the dimension must be a power of two.
#      误区：维度必须是 2 的幂。
ANSWERS["myth_odd_dimension"] = None
### BEGIN SOLUTION
# Model answer: Myth. RoPE's rotation is block-diagonal with 2×2 blocks: features (2i, 2i+1) form a pair
#   rotated by m·θ_i. With an odd number there is a feature with no partner. The common implementations
#   assume an even rotary dimension, and not all of them check it: some raise a clear error, Hugging Face's
#   rotate_half path fails with a shape mismatch (arange(0, d, 2) gives ⌈d/2⌉ frequencies, duplicated to d +
#   1 columns against d features), Meta's complex view cannot reshape d features into pairs, and some code
#   rounds the rotary dimension down to an even number, leaving the last feature unrotated. Partial rotary
#   (GPT-NeoX, GPT-J) rotates only the first r features, r even, and leaves the rest unchanged. A 3-D
#   rotation family that keeps the relative property would have to turn about one fixed axis, which is a 2-D
#   rotation plus an untouched feature.
# 参考答案：误区。RoPE 的旋转是由 2×2 块组成的分块对角矩阵：特征 (2i, 2i+1) 组成一对，旋转 m·θ_i。维度为奇数
#   时有一个特征没有搭档。常见实现都假定旋转维度为偶数，但并非都会检查：有的直接报错；Hugging Face 的
#   rotate_half 写法会因形状不匹配而失败（arange(0, d, 2) 给出 ⌈d/2⌉ 个频率，复制后为 d + 1 列，而特征只有 d
#   个）；Meta 的复数写法无法把 d 个特征 reshape 成对；还有的代码把旋转维度向下取偶，最后一个特征不被旋转。
#   部分旋转（GPT-NeoX、GPT-J）只旋转前 r 个特征（r 为偶数），其余不变。若要在三维中保持相对性，旋转族只能绕
#   一根固定轴转动，这其实就是二维旋转加一个不动的特征。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["myth_odd_dimension"] = (False, "b")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 20. [myth_complexity] myth or fact, with a reason, 1 pt (000 advantage: lower complexity; 000 application
#   claim: low-resource settings; 001 FAQ 7)
# Myth or fact: RoPE reduces the computational complexity of attention, which makes it suited to
# low-resource settings (000).
# 是误区还是事实：RoPE 降低了注意力的计算复杂度，因此适合低资源环境（000 的说法）。
# Reasons / 理由:
#   a) Myth: it adds O(T·d) element-wise work; the score matrix stays T×T, so attention is still O(T²·d).
#      误区：它额外增加 O(T·d) 的逐元素计算；分数矩阵仍是 T×T，注意力仍是 O(T²·d)。
#   b) Fact: the rotation replaces the dot product q·k.
#      事实：旋转取代了点积 q·k。
#   c) Myth: RoPE costs O(T·d²) because each token is multiplied by a d×d matrix, which is worse than
#      attention.
#      误区：RoPE 的代价是 O(T·d²)，因为每个 token 都要乘一个 d×d 矩阵，比注意力还差。
ANSWERS["myth_complexity"] = None
### BEGIN SOLUTION
# Model answer: Myth. RoPE multiplies each of the T queries and keys by cos and sin: about 3 FLOPs per
#   feature, O(T·d) in all, negligible next to the O(T²·d) of the scores, which it does not change. Its real
#   advantages are the relative-position score, long-term decay, no learned table and compatibility with
#   linear attention. Saving a learned position table (max_len × d parameters) is memory, not complexity,
#   and does not make it a low-resource method.
# 参考答案：误区。RoPE 对 T 个查询和键分别乘以 cos、sin：每个特征约 3 次浮点运算，总共 O(T·d)，相对分数矩阵
#   的 O(T²·d) 可以忽略，且不改变后者。它真正的优势是相对位置分数、远程衰减、没有可学习位置表、可与线性注意
#   力结合。省掉可学习位置表（max_len × d 个参数）节省的是内存而非复杂度，也不能因此称其为低资源方法。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["myth_complexity"] = (False, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 21. [myth_citation] myth or fact, with a reason, 1 pt (001 section 7.3 references)
# Myth or fact: RoPE was introduced in "RoPE: Rotary Position Embedding for Transformers" by Zhou et al.
# (2020), as 001 cites.
# 是误区还是事实：RoPE 出自 Zhou 等人 2020 年的《RoPE: Rotary Position Embedding for Transformers》，如 001
# 所引。
# Reasons / 理由:
#   a) Fact: Zhou et al. 2020 is the original RoPE paper.
#      事实：Zhou 等人 2020 年的论文是 RoPE 的原始论文。
#   b) Myth: RoPE was introduced in RoFormer by Su et al. (2021, arXiv 2104.09864).
#      误区：RoPE 出自苏剑林等人的 RoFormer（2021，arXiv 2104.09864）。
#   c) Myth: RoPE was introduced by Vaswani et al. 2017 together with the sinusoidal encoding.
#      误区：RoPE 由 Vaswani 等人 2017 年与正弦位置编码一起提出。
ANSWERS["myth_citation"] = None
### BEGIN SOLUTION
# Model answer: Myth. The method is "RoFormer: Enhanced Transformer with Rotary Position Embedding" by
#   Jianlin Su, Yu Lu, Shengfeng Pan, Ahmed Murtadha, Bo Wen and Yunfeng Liu, arXiv 2104.09864 (2021;
#   Neurocomputing 2024), first described in Su's Chinese blog. Citing the wrong paper is a red flag in an
#   interview: name RoFormer and Su et al. 2021.
# 参考答案：误区。该方法出自苏剑林等人的《RoFormer: Enhanced Transformer with Rotary Position Embedding》（
#   作者 Jianlin Su、Yu Lu、Shengfeng Pan、Ahmed Murtadha、Bo Wen、Yunfeng Liu），arXiv 2104.09864（2021；
#   2024 年发表于 Neurocomputing），最早发表于苏剑林的中文博客（科学空间）。面试中引错论文是减分项：应说
#   RoFormer，苏剑林等 2021（Su et al. 2021）。
# Source: Su, Lu, Pan, Murtadha, Wen, Liu 2021, RoFormer: Enhanced Transformer with Rotary Position
#   Embedding, arXiv 2104.09864
ANSWERS["myth_citation"] = (False, "b")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 22. [myth_sinusoidal_code] myth or fact, with a reason, 1 pt (000 Q1 code example)
# Myth or fact: 000's positional_encoding(512, 512) (exponents torch.arange(0, d_model // 2, 2), positions
# multiplied by 2i/d_model, torch.cat of sin and cos) computes the sinusoidal encoding of Vaswani et al., of
# shape [1, 512, 1024] as its comment says.
# 是误区还是事实：000 的 positional_encoding(512, 512)（指数用 torch.arange(0, d_model // 2, 2)，位置乘以
# 2i/d_model，再用 torch.cat 拼接 sin 和 cos）计算的是 Vaswani 等人的正弦位置编码，形状如注释所说为 [1, 512,
# 1024]。
# Reasons / 理由:
#   a) Fact: only the shape comment is off by the batch axis; the values are right.
#      事实：只是形状注释多了批维度，数值是对的。
#   b) Myth, but only because sin and cos should be swapped.
#      是误区，但只是因为 sin 和 cos 应该互换。
#   c) Myth: it makes only d/4 exponents and multiplies p by 2i/d instead of dividing by 10000^(2i/d), so
#      its values are wrong and its shape is not [1, 512, 1024].
#      误区：它只生成 d/4 个指数，用 p 乘以 2i/d 而不是除以 10000^(2i/d)，因此数值是错的，形状也不是 [1,
#      512, 1024]。
ANSWERS["myth_sinusoidal_code"] = None
### BEGIN SOLUTION
# Model answer: Myth. torch.arange(0, d_model // 2, 2) gives only d/4 exponents, so the result is [1, 512,
#   256], not [1, 512, 1024]; the angle p·2i/d grows with i instead of p / 10000^(2i/d) shrinking with it,
#   so the frequencies are wrong (and there is no base at all). The paper's table is PE[p, 2i] =
#   sin(p/10000^(2i/d)), PE[p, 2i+1] = cos(p/10000^(2i/d)), of shape [length, d_model] (or [1, length,
#   d_model] batched). Putting all sines first and all cosines after ([sin | cos], as 000 and
#   tensor2tensor's get_timing_signal_1d do) is only a fixed permutation of the features: not the paper's
#   interleaved layout, but not a bug if used consistently.
# 参考答案：误区。torch.arange(0, d_model // 2, 2) 只给出 d/4 个指数，所以结果是 [1, 512, 256] 而不是 [1,
#   512, 1024]；角度 p·2i/d 随 i 增大，而正确的 p / 10000^(2i/d) 随 i 减小，频率是错的（而且根本没有 base）
#   。论文中的表是 PE[p, 2i] = sin(p/10000^(2i/d))，PE[p, 2i+1] = cos(p/10000^(2i/d))，形状为 [length,
#   d_model]（加批维度时为 [1, length, d_model]）。把所有 sin 放前面、所有 cos 放后面（[sin | cos]，000 和
#   tensor2tensor 的 get_timing_signal_1d 都这样做）只是特征的固定置换：不是论文的相邻交错（interleaved）布
#   局，但只要前后一致就不算错误。
# Source: Vaswani et al. 2017, Attention Is All You Need, section 3.5, arXiv 1706.03762
ANSWERS["myth_sinusoidal_code"] = (False, "c")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 23. [num_seed_sinusoidal_width] numeric, 1 pt (000 Q1 code example)
# 000's positional_encoding(length=512, d_model=512) prints "torch.Size([1, 512, 1024])" in its comment.
# What is the size of the last dimension it really returns? (exact)
# 000 的 positional_encoding(length=512, d_model=512) 在注释中写着输出 "torch.Size([1, 512, 1024])"。它实际
# 返回的最后一维大小是多少？（精确值）
ANSWERS["num_seed_sinusoidal_width"] = None
### BEGIN SOLUTION
# Model answer: 256: torch.arange(0, 256, 2) has 128 elements, sin and cos give 128 columns each, and
#   torch.cat makes 256; the output is [1, 512, 256]. The correct encoding has d_model = 512 columns: one
#   sin and one cos for each of the d/2 = 256 frequencies. Always check a printed shape by running the code.
# 参考答案：256：torch.arange(0, 256, 2) 有 128 个元素，sin 和 cos 各 128 列，torch.cat 后为 256；输出是 [1,
#   512, 256]。正确的编码有 d_model = 512 列：d/2 = 256 个频率各对应一个 sin 和一个 cos。注释里的形状一定要
#   运行代码核对。
# Source: Vaswani et al. 2017, section 3.5, arXiv 1706.03762
ANSWERS["num_seed_sinusoidal_width"] = 256
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 24. [myth_added_to_embeddings] myth or fact, with a reason, 1 pt (000 C2 classifier code (src = src +
#   pos_encoding))
# Myth or fact: like the sinusoidal encoding, RoPE is a table added to the token embeddings at the input
# (000's classifier does src = src + pos_encoding).
# 是误区还是事实：与正弦位置编码一样，RoPE 是在输入处加到词向量上的一张表（000 的分类器写的是 src = src +
# pos_encoding）。
# Reasons / 理由:
#   a) Myth: RoPE rotates q and k inside every attention layer; adding a table to the embeddings is an
#      absolute encoding.
#      误区：RoPE 在每一层注意力中旋转 q 和 k；把表加到词向量上是绝对位置编码。
#   b) Fact: RoPE is the sinusoidal table with a rotated phase.
#      事实：RoPE 就是相位旋转过的正弦位置编码表。
#   c) Myth: RoPE is added to the values v, not to the embeddings.
#      误区：RoPE 是加到值 v 上，而不是加到词向量上。
ANSWERS["myth_added_to_embeddings"] = None
### BEGIN SOLUTION
# Model answer: Myth. RoPE is multiplicative: in every attention layer it rotates the query at position m by
#   R_m and the key at position n by R_n, so the score qᵀR_{n−m}k is relative. Adding cos/sin values to the
#   embeddings is just another absolute encoding (and 000's version, with angles linspace(0, 2π) times the
#   position, is not even the sinusoidal one). Values are never rotated.
# 参考答案：误区。RoPE 是乘性的：在每一层注意力中，把位置 m 的查询乘以 R_m、位置 n 的键乘以 R_n，分数
#   qᵀR_{n−m}k 因而是相对的。把 cos/sin 值加到词向量上只是另一种绝对位置编码（000 的版本用 linspace(0, 2π)
#   乘以位置，连正弦位置编码都不是）。值从不旋转。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["myth_added_to_embeddings"] = (False, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 25. [myth_groups_of_positions] myth or fact, with a reason, 1 pt (000 section 2: core idea (wrong))
# Myth or fact: RoPE splits the sequence into groups and rotates the positions inside each group (000).
# 是误区还是事实：RoPE 把序列分成若干组，并在每组内对位置进行旋转（000 的说法）。
# Reasons / 理由:
#   a) Fact: consecutive positions are grouped in pairs and rotated together.
#      事实：相邻的位置两两成组，一起旋转。
#   b) Myth: the feature dimension is split into d/2 pairs, each rotated by m·θ_i at its own frequency.
#      误区：特征维度被分成 d/2 对，每对按各自的频率旋转 m·θ_i。
#   c) Myth: RoPE rotates the whole sequence as a single block.
#      误区：RoPE 把整个序列作为一个整体旋转。
ANSWERS["myth_groups_of_positions"] = None
### BEGIN SOLUTION
# Model answer: Myth. RoPE splits the feature dimension of each query and key into d/2 two-dimensional
#   pairs; pair i of the token at position m is rotated by m·θ_i, θ_i = 10000^(−2i/d), so fast pairs resolve
#   neighbours and slow pairs far distances. Every position has its own angle; nothing groups the positions
#   of the sequence.
# 参考答案：误区。RoPE 把每个查询和键的特征维度分成 d/2 个二维特征对；位置 m 的 token 的第 i 对旋转 m·θ_i，
#   θ_i = 10000^(−2i/d)，高频对区分相邻 token，低频对区分远距离。每个位置都有自己的角度；并不存在把序列位置
#   分组的操作。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["myth_groups_of_positions"] = (False, "b")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 26. [seed_code_bugs] multiple choice, 2 pts (000 C1 Transformer code; 000 C2 classifier code)
# 000's coding answers (TransformerModel and the 'RoPE' classifier). Which statements about them are true?
# Choose every true statement.
# 关于 000 的编程答案（TransformerModel 和“RoPE”分类器），哪些说法正确？选出所有正确的说法。
#   a) nn.Embedding(d_model) fails: nn.Embedding needs (num_embeddings, embedding_dim).
#      nn.Embedding(d_model) 会报错：nn.Embedding 需要 (num_embeddings, embedding_dim) 两个参数。
#   b) An encoder-decoder nn.Transformer is the wrong tool for classification; an encoder with pooling and a
#      linear head is enough.
#      分类任务用编码器-解码器 nn.Transformer 不合适；编码器 + 池化 + 线性层即可。
#   c) BCELoss on the unbounded output of a Linear layer is wrong; use a sigmoid or BCEWithLogitsLoss.
#      对线性层未经约束的输出使用 BCELoss 是错的；应加 sigmoid 或使用 BCEWithLogitsLoss。
#   d) Adam cannot train Transformers; SGD is required.
#      Adam 无法训练 Transformer，必须用 SGD。
ANSWERS["seed_code_bugs"] = None
### BEGIN SOLUTION
# Model answer: nn.Embedding(num_embeddings, embedding_dim) needs the vocabulary size and the width, so
#   nn.Embedding(d_model) fails; an encoder-decoder nn.Transformer with a tgt sequence is the wrong
#   architecture for classification (an encoder, pooling, and a linear head suffice); BCELoss expects
#   probabilities, so unbounded logits need a sigmoid or, better, BCEWithLogitsLoss. And its "RoPE" is an
#   added table, so it is not RoPE at all. Adam is the usual optimiser for Transformers.
# 参考答案：nn.Embedding(num_embeddings, embedding_dim) 需要词表大小和向量宽度，nn.Embedding(d_model) 会报错
#   ；分类任务用带 tgt 序列的编码器-解码器 nn.Transformer 是错误的架构（编码器 + 池化 + 线性层即可）；
#   BCELoss 需要概率输入，未经约束的 logits 要先过 sigmoid，更好的做法是用 BCEWithLogitsLoss。而且它的"RoPE"
#   是加上去的表，根本不是 RoPE。Adam 是训练 Transformer 的常用优化器。
# Source: PyTorch documentation of nn.Embedding, nn.Transformer and nn.BCELoss
ANSWERS["seed_code_bugs"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 27. [why_base_10000] single choice, 1 pt (interviewer: why 10000)
# Why is the base 10000 in θ_i = 10000^(−2i/d)?
# 为什么 θ_i = 10000^(−2i/d) 中的 base 取 10000？
#   a) A design choice: the wavelengths then span 2π to about 2π·10000 tokens, longer than the contexts of
#      the time, so slow pairs do not wrap around.
#      一种设计选择：这样波长从 2π 到约 2π·10000 个 token，比当时的上下文更长，低频对不会绕回。
#   b) It is the vocabulary size of the original Transformer.
#      它是原始 Transformer 的词表大小。
#   c) The relative property (R_mᵀR_n = R_{n−m}) only holds for base 10000.
#      只有 base = 10000 时相对性质 R_mᵀR_n = R_{n−m} 才成立。
#   d) It makes every pair periodic with a period of exactly 10000 tokens.
#      它使每一对的周期恰好是 10000 个 token。
ANSWERS["why_base_10000"] = None
### BEGIN SOLUTION
# Model answer: It is a design choice inherited from Vaswani et al. 2017, not a derived constant. The
#   wavelengths 2π/θ_i form a geometric progression from 2π (pair 0) to almost 2π·10000 ≈ 63 000 tokens (the
#   slowest pair), so fast pairs tell neighbours apart and slow pairs never wrap around within the context
#   lengths of the time. Any base keeps the relative property; long-context models raise it (Llama 3: 500
#   000) so the slow pairs wrap even later.
# 参考答案：这是沿用 Vaswani et al. 2017 的设计选择，不是推导出来的常数。波长 2π/θ_i 从 2π（第 0 对）到接近
#   2π·10000 ≈ 63 000 个 token（最慢的一对）构成等比数列：高频对区分相邻 token，低频对在当时的上下文长度内不
#   会绕回。任何 base 都保持相对性；长上下文模型会增大它（Llama 3 用 500 000），让低频对更晚绕回。
# Source: Vaswani et al. 2017, section 3.5, arXiv 1706.03762; Su et al. 2021, arXiv 2104.09864
ANSWERS["why_base_10000"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 28. [num_longest_wavelength] numeric, 2 pts (interviewer: why 10000; interviewer: larger base)
# For head dimension d = 128 and base 10000, what is the wavelength, in tokens, of the slowest RoPE pair
# (the last pair, i = d/2 − 1), i.e. the distance after which its angle has turned by 2π? (relative
# tolerance 0.1 %)
# 头维度 d = 128、base = 10000 时，最慢的一对 RoPE（最后一对，i = d/2 − 1）的波长是多少个 token，即其角度转
# 过 2π 所需的距离？（相对容差 0.1 %）
ANSWERS["num_longest_wavelength"] = None
### BEGIN SOLUTION
# Model answer: 2π / θ_63 = 2π·10000^(126/128) ≈ 54 410 tokens. Angles of that pair are still below one turn
#   anywhere in a 50 000-token context, so positions stay distinguishable; past it (or past the trained
#   length, well before it) the pair reaches unseen angles. A larger base stretches this wavelength, which
#   is why long-context models raise it.
# 参考答案：2π / θ_63 = 2π·10000^(126/128) ≈ 54 410 个 token。在 50 000 个 token 的上下文内，该对的角度都不
#   到一圈，位置仍可区分；超过它（或者更早地超过训练长度）该对就会出现没见过的角度。增大 base 会拉长这个波长
#   ，因此长上下文模型会增大 base。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["num_longest_wavelength"] = 54410.14313077674
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 29. [why_only_qk] single choice, 1 pt (interviewer: why only q and k)
# Why does RoPE rotate the queries and keys but not the values?
# 为什么 RoPE 只旋转查询和键，而不旋转值？
#   a) v is too large to rotate cheaply.
#      v 太大，旋转代价太高。
#   b) Only the score q·k needs position; R_mᵀR_n = R_{n−m} cancels absolute positions there, while a
#      rotation of v would not cancel and would leak absolute positions into the output.
#      只有分数 q·k 需要位置信息；R_mᵀR_n = R_{n−m} 在那里消去绝对位置，而旋转 v 不会被抵消，会把绝对位置带
#      进输出。
#   c) v is computed after the softmax, so it has no position.
#      v 在 softmax 之后才计算，所以没有位置。
#   d) Rotating v would change the softmax normalisation.
#      旋转 v 会改变 softmax 的归一化。
ANSWERS["why_only_qk"] = None
### BEGIN SOLUTION
# Model answer: Position should decide how much token m attends to token n, which is the score q_m·k_n;
#   rotating both makes it qᵀR_{n−m}k, a function of the offset. Nothing cancels a rotation of v: the output
#   Σ_n a_mn R_n v_n would carry each key's absolute angle, breaking the relative property (and the output
#   would need rotating back). So RoPE touches q and k only, per head, after the projections; with a KV
#   cache the keys are cached already rotated and the values unrotated.
# 参考答案：位置应决定 token m 关注 token n 的程度，也就是分数 q_m·k_n；同时旋转两者得到 qᵀR_{n−m}k，只依赖
#   偏移。旋转 v 不会被抵消：输出 Σ_n a_mn R_n v_n 会带上每个键的绝对角度，破坏相对性（还需要再旋转回来）。
#   因此 RoPE 只作用于每个头投影后的 q 和 k；使用键值缓存（KV cache）时缓存旋转后的键和未旋转的值。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["why_only_qk"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 30. [larger_base] multiple choice, 2 pts (interviewer: larger base)
# What happens when RoPE's base is raised, e.g. from 10 000 to 500 000 (Llama 3)? Choose every true
# statement.
# 把 RoPE 的 base 增大（例如从 10 000 增大到 Llama 3 的 500 000）会怎样？选出所有正确的说法。
#   a) Every frequency except θ_0 decreases: the slow pairs rotate more slowly.
#      除 θ_0 外每个频率都变小：低频对转得更慢。
#   b) The longest wavelength grows, so far positions stay distinguishable before the angles wrap around.
#      最长波长变长，远距离位置在角度绕回之前仍可区分。
#   c) The long-term decay of RoFormer's upper bound becomes slower.
#      RoFormer 上界的远程衰减变慢。
#   d) The fastest pair rotates faster, sharpening local attention.
#      最快的一对转得更快，使局部注意力更敏锐。
#   e) The model gets more parameters, one per extra wavelength.
#      模型参数变多，每个额外波长对应一个参数。
ANSWERS["larger_base"] = None
### BEGIN SOLUTION
# Model answer: θ_i = base^(−2i/d) decreases for every pair except i = 0 (θ_0 = 1 always): the slow pairs
#   turn more slowly and the longest wavelength grows (about 2π·base), so far positions stay distinguishable
#   and the long-term decay of the bound is slower. That is why long-context models raise the base (Llama 3:
#   500 000; Code Llama: 1 000 000) and why NTK-aware scaling changes the base. The number of parameters
#   does not change.
# 参考答案：θ_i = base^(−2i/d) 除 i = 0 外都变小（θ_0 恒为 1）：低频对转得更慢，最长波长（约 2π·base）变长，
#   远距离位置仍可区分，上界的远程衰减也更慢。因此长上下文模型会增大 base（Llama 3 为 500 000，Code Llama 为
#   1 000 000），NTK-aware 缩放也是调整 base。参数数量不变。
# Source: Su et al. 2021, arXiv 2104.09864; Peng et al. 2023, YaRN, arXiv 2309.00071
ANSWERS["larger_base"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 31. [rope_vs_alibi] multiple choice, 2 pts (interviewer: RoPE vs ALiBi)
# RoPE versus ALiBi (Press et al. 2021). Choose every true statement.
# RoPE 与 ALiBi（Press et al. 2021）对比。选出所有正确的说法。
#   a) ALiBi adds a fixed, head-specific linear penalty −m·|i − j| to the attention logits and uses no
#      position embedding.
#      ALiBi 在注意力 logits 上加固定的、按头区分的线性惩罚 −m·|i − j|，不使用位置向量。
#   b) ALiBi was designed to extrapolate: train on short sequences, run on longer ones.
#      ALiBi 为外推而设计：在短序列上训练，在更长序列上使用。
#   c) ALiBi's slopes are learned, one per head.
#      ALiBi 的斜率是可学习的，每个头一个。
#   d) RoPE changes q and k, so its effect on the score depends on their content; ALiBi's bias does not
#      depend on content.
#      RoPE 改变 q 和 k，因此它对分数的影响依赖内容；ALiBi 的偏置与内容无关。
#   e) ALiBi rotates the queries by an angle proportional to the slope.
#      ALiBi 把查询旋转一个与斜率成正比的角度。
ANSWERS["rope_vs_alibi"] = None
### BEGIN SOLUTION
# Model answer: ALiBi (Press et al. 2021) uses no position embedding at all: it adds −m_h·|i − j| to the
#   attention logits, with fixed head-specific slopes m_h in a geometric sequence (1/2, 1/4, … for 8 heads);
#   it was designed to train short and test long, and BLOOM and MPT use it. RoPE rotates q and k, so the
#   score depends on the offset through the content; it is not a fixed penalty and needs PI / NTK / YaRN to
#   extend. Both are relative and parameter-free; RoPE dominates today's LLMs.
# 参考答案：ALiBi（Press et al. 2021）完全不用位置向量：它在注意力 logits 上加 −m_h·|i − j|，斜率 m_h 按头固
#   定、成等比数列（8 个头时为 1/2、1/4、…）；它为"短训练、长测试"而设计，BLOOM 和 MPT 使用它。RoPE 旋转 q
#   和 k，分数通过内容依赖偏移，不是固定惩罚，扩展长度需要 PI / NTK / YaRN。两者都是相对的、无参数的；当今大
#   模型以 RoPE 为主。
# Source: Press, Smith, Lewis 2021, Train Short, Test Long (ALiBi), arXiv 2108.12409 (ICLR 2022); Su et al.
#   2021, arXiv 2104.09864
ANSWERS["rope_vs_alibi"] = {"a", "b", "d"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 32. [nope_causal] myth or fact, with a reason, 1 pt (interviewer: NoPE)
# Myth or fact: a decoder-only Transformer with a causal mask and no positional encoding at all (NoPE)
# cannot learn anything about word order.
# 是误区还是事实：带因果掩码、完全不加位置编码（NoPE）的 decoder-only Transformer 学不到任何词序信息。
# Reasons / 理由:
#   a) Fact: attention is always permutation-equivariant, so without positions order is invisible.
#      事实：注意力总是置换等变的，没有位置信息就看不到顺序。
#   b) Myth: the causal mask breaks the symmetry (token t sees exactly t tokens), so the model can infer
#      positions.
#      误区：因果掩码打破了对称性（第 t 个 token 恰好看到 t 个 token），模型可以推断位置。
#   c) Myth: the feed-forward layers learn positions from the token ids.
#      误区：前馈层从 token 的 id 中学到位置。
ANSWERS["nope_causal"] = None
### BEGIN SOLUTION
# Model answer: Myth. Without a mask, attention is permutation-equivariant and order is invisible. With a
#   causal mask, token t attends to exactly t tokens, so the model can infer position (for instance, uniform
#   attention gives weights 1/t). Haviv et al. 2022 found causal language models without positional encoding
#   competitive, and Kazemnejad et al. 2023 showed NoPE length-generalises better than RoPE or ALiBi on
#   their synthetic tasks. Encoders (bidirectional) still need positions.
# 参考答案：误区。没有掩码时注意力是置换等变的，看不到顺序。有因果掩码时，第 t 个 token 恰好关注 t 个 token
#   ，模型可以推断位置（例如均匀注意力得到权重 1/t）。Haviv et al. 2022 发现不加位置编码的因果语言模型与使用
#   位置编码的模型表现相当；Kazemnejad et al. 2023 表明在他们的合成任务上 NoPE 的长度泛化优于 RoPE 和 ALiBi
#   。双向的编码器仍然需要位置信息。
# Source: Kazemnejad et al. 2023, The Impact of Positional Encoding on Length Generalization in
#   Transformers, arXiv 2305.19466
ANSWERS["nope_causal"] = (False, "b")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 33. [kv_cache] single choice, 1 pt (interviewer: KV cache)
# During incremental decoding with a KV cache, how does RoPE work?
# 使用键值缓存（KV cache）增量解码时，RoPE 如何工作？
#   a) RoPE cannot be used with a KV cache, because every position changes as the sequence grows.
#      RoPE 不能与键值缓存（KV cache）一起用，因为序列变长时每个位置都会变。
#   b) Rotate the new token at position 0, since it is the only token in the current input.
#      把新 token 放在位置 0 旋转，因为它是当前输入中唯一的 token。
#   c) Cache the values rotated too, so that all cached tensors are consistent.
#      把值也旋转后缓存，使缓存的张量保持一致。
#   d) Cache the keys already rotated; rotate only the new token's q and k, at its absolute position (the
#      cache length).
#      缓存已旋转的键；每一步只旋转新 token 的 q 和 k，位置取其绝对位置（即缓存长度）。
ANSWERS["kv_cache"] = None
### BEGIN SOLUTION
# Model answer: A token's position never changes once it is in the sequence, so its key can be rotated once
#   and cached rotated (values are cached unrotated). At each step only the new token's q and k are rotated,
#   at its absolute position = the number of tokens already in the cache; the score with every cached key is
#   then relative. The classic bug is rotating the new token at position 0 (its index in the current input),
#   which silently breaks generation.
# 参考答案：一个 token 进入序列后位置不再改变，因此它的键只需旋转一次并以旋转后的形式缓存（值不旋转地缓存）
#   。每一步只旋转新 token 的 q 和 k，位置取其绝对位置，即缓存中已有 token 的个数；它与每个缓存键的分数自然
#   是相对的。典型错误是用新 token 在当前输入中的下标 0 作为位置，这会悄无声息地破坏生成结果。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["kv_cache"] = "d"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 34. [num_kv_position] numeric, 1 pt (interviewer: KV cache)
# A prompt of 37 tokens has been processed (positions start at 0) and its keys are in the cache. The model
# has generated 2 tokens since, also cached. Which position is the query of the next (3rd) generated token
# rotated at? (exact)
# 已处理了一个 37 个 token 的提示（位置从 0 开始），其键已在缓存中。此后模型又生成并缓存了 2 个 token。下一
# 个（第 3 个）生成的 token 的查询应按哪个位置旋转？（精确值）
ANSWERS["num_kv_position"] = None
### BEGIN SOLUTION
# Model answer: 39: the cache holds 37 + 2 = 39 keys at positions 0…38, so the new token is at position 39
#   (the cache length). Getting this offset wrong (0, or off by one) changes every score with the cache and
#   the model degrades silently; a good test compares incremental decoding with a full forward pass.
# 参考答案：39：缓存中有 37 + 2 = 39 个键，位置为 0…38，所以新 token 位于位置 39（即缓存长度）。这个偏移算错
#   （用了 0，或错了一位）会改变与缓存中所有键的分数，模型会悄悄变差；好的测试是把增量解码与完整前向计算的结
#   果对比。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["num_kv_position"] = 39
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 35. [num_angle] numeric, 2 pts (001 FAQ 5: how to implement; interviewer: compute an angle)
# Head dimension d = 64, base 10000, pairs numbered from 0 (pair i holds features 2i and 2i+1 and has θ_i =
# base^(−2i/d)). What is the rotation angle, in radians and not reduced modulo 2π, of pair 3 at position m =
# 100? (absolute tolerance 0.001)
# 头维度 d = 64，base = 10000，特征对从 0 开始编号（第 i 对包含特征 2i 和 2i+1，θ_i = base^(−2i/d)）。位置 m
# = 100 处第 3 对的旋转角是多少弧度（不对 2π 取模）？（绝对容差 0.001）
# (unit: rad)
ANSWERS["num_angle"] = None
### BEGIN SOLUTION
# Model answer: θ_3 = 10000^(−6/64) = 10^(−0.375) ≈ 0.42170, so the angle is 100·θ_3 ≈ 42.170 rad (about 6.7
#   turns; modulo 2π, 4.47 rad). Pair 0 turns by exactly m radians; each later pair is slower by the factor
#   10000^(−2/d) ≈ 0.75 for d = 64.
# 参考答案：θ_3 = 10000^(−6/64) = 10^(−0.375) ≈ 0.42170，所以角度为 100·θ_3 ≈ 42.170 弧度（约 6.7 圈；对 2π
#   取模为 4.47）。第 0 对恰好转 m 弧度；之后每一对都比前一对慢 10000^(−2/d) 倍（d = 64 时约 0.75）。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["num_angle"] = 42.16965034285822
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 36. [num_flops] numeric, 2 pts (000 advantage: lower complexity (wrong); 001 FAQ 7 and 8)
# One attention head, T = 1024 tokens, head dimension d = 128, cos/sin tables precomputed. Rotating one
# feature pair costs 4 multiplications and 2 additions (x1·cos − x2·sin, x2·cos + x1·sin). How many FLOPs
# does applying RoPE to the queries and the keys of this head add? (exact)
# 一个注意力头，T = 1024 个 token，头维度 d = 128，cos/sin 表已预先算好。旋转一个特征对需要 4 次乘法和 2 次
# 加法（x1·cos − x2·sin，x2·cos + x1·sin）。对该头的查询和键应用 RoPE 共增加多少次浮点运算？（精确值）
# (unit: FLOPs)
ANSWERS["num_flops"] = None
### BEGIN SOLUTION
# Model answer: 6 FLOPs per pair × 64 pairs = 3·d = 384 FLOPs per vector, times 2·T = 2048 vectors (q and
#   k): 6·T·d = 786 432. The score matrix q·kᵀ alone costs 2·T²·d = 268 435 456 FLOPs, so RoPE adds about
#   0.3 % (3/T): O(T·d) next to O(T²·d). It does not reduce complexity; it is nearly free.
# 参考答案：每对 6 次浮点运算 × 64 对 = 每个向量 3·d = 384 次，再乘以 2·T = 2048 个向量（q 和 k）：6·T·d =
#   786 432。仅分数矩阵 q·kᵀ 就需要 2·T²·d = 268 435 456 次浮点运算，所以 RoPE 只增加约 0.3 %（3/T）：O(T·d)
#   对比 O(T²·d)。它并不降低复杂度，只是几乎不增加开销。
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["num_flops"] = 786432
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 37. [num_score_2d] numeric, 1 pt (000 Q3; interviewer: show the relative property)
# d = 2 (one pair) with θ = 1 rad per position. q = k = (1, 0); the query is at position m = 5 and the key
# at position n = 2. What is the score (R_m q)·(R_n k)? (absolute tolerance 0.001)
# d = 2（一对特征），θ = 每个位置 1 弧度。q = k = (1, 0)；查询位于位置 m = 5，键位于位置 n = 2。分数 (R_m
# q)·(R_n k) 是多少？（绝对容差 0.001）
ANSWERS["num_score_2d"] = None
### BEGIN SOLUTION
# Model answer: R_5 q = (cos 5, sin 5), R_2 k = (cos 2, sin 2), and their dot product is cos 5·cos 2 + sin
#   5·sin 2 = cos(5 − 2) = cos 3 ≈ −0.990. Shift both positions by any amount and the score is the same:
#   only n − m matters. (With q ≠ k the cross term adds a sin((n − m)θ) part.)
# 参考答案：R_5 q = (cos 5, sin 5)，R_2 k = (cos 2, sin 2)，点积为 cos 5·cos 2 + sin 5·sin 2 = cos(5 − 2) =
#   cos 3 ≈ −0.990。把两个位置同时平移任意量，分数不变：只有 n − m 起作用。（q ≠ k 时交叉项还会带来 sin((n −
#   m)θ) 部分。）
# Source: Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["num_score_2d"] = -0.9899924966004454
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 38. [num_yarn_factor] numeric, 1 pt (000 Q4; interviewer: YaRN)
# YaRN recommends scaling q and k by √(1/t) = 0.1·ln(s) + 1 (natural logarithm) when extending the context
# by a factor s. What is this factor for s = 16? (absolute tolerance 0.001)
# YaRN 建议在把上下文扩展 s 倍时，将 q 和 k 乘以 √(1/t) = 0.1·ln(s) + 1（自然对数）。s = 16 时该系数是多少？
# （绝对容差 0.001）
ANSWERS["num_yarn_factor"] = None
### BEGIN SOLUTION
# Model answer: 0.1·ln 16 + 1 ≈ 1.277. Multiplying both q and k by it scales the logits by its square (≈
#   1.63), i.e. it is a softmax temperature t < 1 that compensates the change of attention entropy caused by
#   interpolation; Peng et al. fit the formula empirically. YaRN (Peng et al. 2023) combines it with
#   per-band interpolation (high frequencies kept, low ones interpolated).
# 参考答案：0.1·ln 16 + 1 ≈ 1.277。q 和 k 都乘以它，logits 就乘以它的平方（≈ 1.63），相当于 softmax 温度 t <
#   1，用来补偿内插带来的注意力熵变化；该公式是 Peng 等人经验拟合的。YaRN（Peng et al. 2023）把它与分频段内
#   插（高频保留、低频内插）结合使用。
# Source: Peng et al. 2023, YaRN: Efficient Context Window Extension of Large Language Models, arXiv
#   2309.00071
ANSWERS["num_yarn_factor"] = 1.2772588722239782
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 39. [seed_worked_example] multiple choice, 2 pts (001 section 4.3 worked example; 001 section 5.4 printed
#   output)
# 001's worked example (section 4.3) takes pos_i = [i, i², i³] for i = 1 … 4 and θ = 0.1, and prints pos_1 =
# [1, 1, 1], pos_2 = [4, 2, 8], pos_3 = [9, 9, 27], pos_4 = [16, 16, 64]; then R = softmax(0.1·pos_i) with
# rows [0.4519, 0.3131, 0.2349], [0.3535, 0.4324, 0.2130], [0.2833, 0.3517, 0.3649], [0.2359, 0.2736,
# 0.4905]; then rot_pos_1 = R·pos_1 = [0.4519, 0.3131, 0.2349], rot_pos_2 = R·pos_2 = [0.3535, 0.4324,
# 0.2130], rot_pos_3 = R·pos_3 = [0.2833, 0.3517, 0.3649], rot_pos_4 = R·pos_4 = [0.2359, 0.2736, 0.4905].
# Take the formulas as the document states them and check the numbers. Which statements are true? Choose
# every true statement.
# 001 的算例（第 4.3 节）取 pos_i = [i, i², i³]（i = 1 … 4）、θ = 0.1，印出 pos_1 = [1, 1, 1]、pos_2 = [4,
# 2, 8]、pos_3 = [9, 9, 27]、pos_4 = [16, 16, 64]；接着给出 R = softmax(0.1·pos_i)，各行为 [0.4519, 0.3131,
# 0.2349]、[0.3535, 0.4324, 0.2130]、[0.2833, 0.3517, 0.3649]、[0.2359, 0.2736, 0.4905]；然后 rot_pos_1 =
# R·pos_1 = [0.4519, 0.3131, 0.2349]、rot_pos_2 = R·pos_2 = [0.3535, 0.4324, 0.2130]、rot_pos_3 = R·pos_3 =
# [0.2833, 0.3517, 0.3649]、rot_pos_4 = R·pos_4 = [0.2359, 0.2736, 0.4905]。按文档自己给出的公式核对这些数字
# 。哪些说法正确？选出所有正确的说法。
#   a) Besides pos_2 (which should be [2, 4, 8]), pos_3 should be [3, 9, 27] and pos_4 should be [4, 16,
#      64]: their first entry is printed as i² instead of i.
#      除了 pos_2（应为 [2, 4, 8]）之外，pos_3 应为 [3, 9, 27]，pos_4 应为 [4, 16, 64]：它们的第一个分量被印
#      成了 i² 而不是 i。
#   b) The printed R is not softmax(0.1·pos_i): row 1 would be softmax([0.1, 0.1, 0.1]) = [1/3, 1/3, 1/3],
#      and no printed row matches, with the correct or with the misprinted pos_i.
#      印出的 R 不是 softmax(0.1·pos_i)：第 1 行应为 softmax([0.1, 0.1, 0.1]) = [1/3, 1/3, 1/3]，而且无论用
#      正确的还是印错的 pos_i，没有一行相符。
#   c) The printed rot_pos_i are just the rows of R: R·pos_i was not computed (R is 4×3, so R·pos_i would
#      have four entries, not three).
#      印出的 rot_pos_i 只是 R 的各行：R·pos_i 根本没有算（R 是 4×3，R·pos_i 应有 4 个分量，而不是 3 个）。
#   d) The printed R is right: every row sums to 1, as a row of a softmax must.
#      印出的 R 是对的：每一行之和都为 1，正如 softmax 的行应满足的那样。
#   e) Only pos_2 is misprinted; every other number follows from the formulas.
#      只有 pos_2 印错了，其余数字都能由公式得出。
#   f) With the numbers corrected, R would be a valid rotation matrix.
#      把数字改正后，R 就是合法的旋转矩阵。
ANSWERS["seed_worked_example"] = None
### BEGIN SOLUTION
# Model answer: Recompute before trusting a printout. With pos_i = [i, i², i³]: pos_2 = [2, 4, 8], pos_3 =
#   [3, 9, 27], pos_4 = [4, 16, 64]; the document prints [4, 2, 8], [9, 9, 27] and [16, 16, 64]. Row i of
#   softmax(0.1·pos_i) is a softmax over the three entries of pos_i: row 1 is softmax([0.1, 0.1, 0.1]) =
#   [1/3, 1/3, 1/3], row 4 is about [0.0025, 0.0081, 0.9894]. No printed row matches, whether one uses the
#   correct or the misprinted vectors, and the second printed row does not even sum to 1 (0.9989). Finally R
#   is 4×3, so R·pos_i would have four entries; the printed rot_pos_i are just the rows of R again. Whatever
#   the numbers, a softmax is no rotation: RoPE rotates each pair (2i, 2i+1) of q and k by m·θ_i.
# 参考答案：先算再信。按 pos_i = [i, i², i³]：pos_2 = [2, 4, 8]，pos_3 = [3, 9, 27]，pos_4 = [4, 16, 64]；文
#   档却印成 [4, 2, 8]、[9, 9, 27]、[16, 16, 64]。softmax(0.1·pos_i) 的第 i 行是对 pos_i 三个分量做 softmax
#   ：第 1 行是 softmax([0.1, 0.1, 0.1]) = [1/3, 1/3, 1/3]，第 4 行约为 [0.0025, 0.0081, 0.9894]。无论用正确
#   的还是印错的向量，都没有一行与印出的 R 相符，而且印出的第 2 行之和都不等于 1（0.9989）。最后，R 是 4×3
#   矩阵，R·pos_i 应有 4 个分量；印出的 rot_pos_i 只是把 R 的各行又抄了一遍。无论数字如何，softmax 都不是旋
#   转：RoPE 把 q 和 k 的每一对 (2i, 2i+1) 旋转 m·θ_i。
# Source: Source document 001 (seeds/001), sections 4.3 and 5.4; Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["seed_worked_example"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 40. [gqa_rope] single choice, 1 pt (Track E)
# Llama 2 70B and Llama 3 use grouped-query attention (GQA): each key/value head is shared by a group of
# query heads. Where does RoPE go, and what does the KV cache hold?
# Llama 2 70B 和 Llama 3 使用分组查询注意力（GQA）：每个键/值头由一组查询头共享。RoPE 应该加在哪里？键值缓存
# 里存的是什么？
#   a) Repeat the KV heads up to the number of query heads first, then rotate each copy with its own query
#      head's rotation; the cache holds the repeated keys.
#      先把 KV 头复制到与查询头一样多，再用各自查询头的旋转分别旋转每个副本；缓存保存复制后的键。
#   b) Rotate q (every query head) and k (each of the n_kv_heads key heads) at their positions, cache the
#      rotated, un-repeated keys, and repeat (or broadcast) the KV heads only inside attention.
#      在各自位置上旋转 q（每个查询头）和 k（n_kv_heads 个键头），缓存旋转后、未复制的键，只在注意力计算内部
#      复制（或广播）KV 头。
#   c) Cache the keys before RoPE and rotate the whole cache at every step, since a shared key head must be
#      rotated once per query head.
#      缓存未经 RoPE 的键，每一步重新旋转整个缓存，因为共享的键头必须为每个查询头各旋转一次。
#   d) GQA is incompatible with RoPE: a shared key has no single position, so GQA models use ALiBi.
#      GQA 与 RoPE 不兼容：共享的键没有唯一的位置，所以 GQA 模型都用 ALiBi。
ANSWERS["gqa_rope"] = None
### BEGIN SOLUTION
# Model answer: GQA (Ainslie et al. 2023) lets a group of query heads share one key/value head. RoPE acts
#   per head and per position, and every head at position n uses the same rotation R_n, so rotating a key
#   head once and then copying it gives exactly the copies rotated one by one. transformers' Llama attention
#   therefore rotates q (all query heads) and k (only the n_kv_heads key heads), writes the rotated keys and
#   the unrotated values into the cache, and only then repeats the KV heads (repeat_kv) for the attention
#   product. The cache keeps n_kv_heads heads, 2·n_kv_heads·head_dim values per token and layer: for Llama 3
#   8B (8 KV heads for 32 query heads) a quarter of what multi-head attention would store.
# 参考答案：GQA（Ainslie et al. 2023）让一组查询头共享一个键/值头。RoPE 按头、按位置作用，位置 n 上所有头用
#   的都是同一个旋转 R_n，所以先把一个键头旋转一次再复制，与先复制再逐个旋转结果完全相同。因此 transformers
#   的 Llama 注意力先旋转 q（全部查询头）和 k（只有 n_kv_heads 个键头），把旋转后的键和未旋转的值写入缓存，
#   然后才为注意力计算复制 KV 头（repeat_kv）。缓存只保存 n_kv_heads 个头，每个 token 每层
#   2·n_kv_heads·head_dim 个数：对 Llama 3 8B（32 个查询头共用 8 个 KV 头）来说，只有多头注意力的四分之一。
# Source: Ainslie et al. 2023, GQA, arXiv 2305.13245; Hugging Face transformers,
#   models/llama/modeling_llama.py (apply_rotary_pos_emb, then the cache update, then repeat_kv)
ANSWERS["gqa_rope"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 41. [num_gqa_cache_bytes] numeric, 2 pts (Track E)
# A Llama-3-8B-like model: 32 layers, 32 query heads, 8 KV heads (GQA), head_dim = 128, KV cache in
# bfloat16. How many bytes of KV cache does one token take, summed over all layers? (exact)
# 一个类似 Llama-3-8B 的模型：32 层，32 个查询头，8 个 KV 头（GQA），head_dim = 128，键值缓存用 bfloat16 存
# 储。一个 token 在所有层上一共占多少字节的键值缓存？（精确值）
# (unit: bytes)
ANSWERS["num_gqa_cache_bytes"] = None
### BEGIN SOLUTION
# Model answer: 2 (k and v) × 8 KV heads × 128 values × 2 bytes = 4 096 bytes per layer, × 32 layers = 131
#   072 bytes (128 KiB) per token. An 8 192-token context then takes 1 GiB per sequence; with 32 KV heads
#   (multi-head attention) it would take 4 GiB. That 4× saving is why GQA became the default, and the keys
#   in that cache are stored already rotated by RoPE.
# 参考答案：2（k 和 v）× 8 个 KV 头 × 128 个数 × 2 字节 = 每层 4 096 字节，× 32 层 = 每个 token 131 072 字节
#   （128 KiB）。8 192 个 token 的上下文每条序列需要 1 GiB；若用 32 个 KV 头（多头注意力）则需要 4 GiB。正是
#   这 4 倍的节省让 GQA 成为默认选择；缓存中的键是已经做过 RoPE 旋转的。
# Source: Ainslie et al. 2023, GQA, arXiv 2305.13245; Llama Team (Meta) 2024, The Llama 3 Herd of Models,
#   arXiv 2407.21783
ANSWERS["num_gqa_cache_bytes"] = 131072
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 42. [left_padding_positions] multiple choice, 2 pts (Track E)
# A batch for generation is left-padded: one row is [pad, pad, pad, t0, t1, t2, t3] with attention mask [0,
# 0, 0, 1, 1, 1, 1]. Which statements about its position ids are true? Choose every true statement.
# 一个用于生成的批次采用左填充：其中一行是 [pad, pad, pad, t0, t1, t2, t3]，注意力掩码为 [0, 0, 0, 1, 1, 1,
# 1]。关于这一行的位置 id，哪些说法正确？选出所有正确的说法。
#   a) The real tokens should get positions 0, 1, 2, 3, that is cumsum(mask) − 1 on the real tokens;
#      whatever the pads get does not matter, since the mask hides them (transformers fills in 1).
#      真实 token 应得到位置 0、1、2、3，即真实 token 上的 cumsum(mask) − 1；填充 token 取什么值都无所谓，因
#      为掩码把它们屏蔽了（transformers 填 1）。
#   b) For a pure RoPE model, numbering the real tokens 3 … 6 (counting the pads) would leave every score
#      between them unchanged in exact arithmetic: a constant shift cancels in R_mᵀR_n = R_{n−m}.
#      对纯 RoPE 模型，把真实 token 编号为 3 … 6（把填充 token 计入）在精确算术下不会改变它们之间的任何分数
#      ：常数平移在 R_mᵀR_n = R_{n−m} 中抵消。
#   c) transformers' generate rebuilds the position ids from the attention mask (cumsum − 1) at every step,
#      so each new token continues the numbering of the prompt's cached keys.
#      transformers 的 generate 每一步都从注意力掩码重新构造位置 id（cumsum − 1），因此每个新 token 都延续提
#      示词中已缓存键的编号。
#   d) Counting the pads is harmless for every model, since the pads are masked anyway.
#      把填充 token 计入位置对任何模型都无害，反正填充 token 被掩码屏蔽了。
#   e) The pads must get position −1 so that RoPE leaves them unrotated.
#      填充 token 必须取位置 −1，这样 RoPE 就不会旋转它们。
ANSWERS["left_padding_positions"] = None
### BEGIN SOLUTION
# Model answer: A token's position is the number of real tokens before it in its row: position_ids =
#   cumsum(mask) − 1, which gives t0 … t3 the positions 0 … 3; the pads get a placeholder (transformers
#   writes 1) because no query attends to them. transformers' generate recomputes the ids from the growing
#   attention mask at every step, so decoding continues the same numbering. For a pure RoPE model a constant
#   shift of a whole row would cancel in R_mᵀR_n = R_{n−m}, so the real danger is inconsistency: prompt keys
#   rotated in one numbering and new tokens in another. For absolute embeddings (learned or sinusoidal),
#   counting the pads would make a prompt's output depend on its batch-mates.
# 参考答案：一个 token 的位置等于它所在行中它前面真实 token 的个数：position_ids = cumsum(mask) − 1，t0 … t3
#   得到位置 0 … 3；填充 token 随便给一个占位值（transformers 填 1），因为没有任何查询会关注它们。
#   transformers 的 generate 每一步都用变长的注意力掩码重新计算位置 id，所以解码延续同一套编号。对纯 RoPE 模
#   型，整行的常数平移会在 R_mᵀR_n = R_{n−m} 中抵消，真正的危险是编号不一致：提示词中的键按一套编号旋转，新
#   token 按另一套编号旋转。对绝对位置编码（可学习的或正弦的），把填充 token 计入位置会让同一提示的输出随同
#   批次的其他样本而变。
# Source: Hugging Face transformers, generation utils (prepare_inputs_for_generation: position_ids =
#   attention_mask.cumsum(-1) − 1); Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["left_padding_positions"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 43. [num_left_pad_position] numeric, 1 pt (Track E)
# In a left-padded generation batch, one row holds 13 pad tokens followed by a prompt of real tokens; the
# row is 34 columns wide. Position ids come from the attention mask as cumsum(mask) − 1 (positions start at
# 0). At which position must the first generated token of this row be rotated? (exact)
# 在一个左填充的生成批次中，某一行先是 13 个填充 token，后面是提示词中的真实 token；这一行共 34 列。位置 id
# 由注意力掩码按 cumsum(mask) − 1 计算（位置从 0 开始）。这一行生成的第一个 token 应按哪个位置旋转？（精确值
# ）
ANSWERS["num_left_pad_position"] = None
### BEGIN SOLUTION
# Model answer: 21: the prompt has 34 − 13 = 21 real tokens at positions 0 … 20, so the new token sits at
#   21, which is what generate computes from the extended mask (22 ones, cumsum − 1). Rotating it at 34, the
#   padded length (and the cache length), would make every offset to the prompt 13 too large: RoPE sees that
#   relative error, and the row's output would depend on how much it happened to be padded.
# 参考答案：21：提示词中有 34 − 13 = 21 个真实 token，位置为 0 … 20，所以新 token 位于 21，这正是 generate
#   用延长后的掩码（22 个 1，cumsum − 1）算出的值。若按 34（填充后的长度，也是缓存长度）旋转，它与提示词中每
#   个 token 的偏移都会多出 13：RoPE 会看到这个相对误差，这一行的输出还会取决于它恰好被填充了多少。
# Source: Hugging Face transformers, generation utils (position ids from the attention mask); Su et al.
#   2021, RoFormer, arXiv 2104.09864
ANSWERS["num_left_pad_position"] = 21
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 44. [sliding_window_offsets] single choice, 1 pt (Track E)
# Mistral 7B combines RoPE with sliding-window attention (window W = 4096) and a rolling KV cache of W
# slots. When it generates the token at position 100 000, what does RoPE contribute to one layer's scores?
# Mistral 7B 把 RoPE 与滑动窗口注意力（窗口 W = 4096）以及 W 个槽位的滚动键值缓存结合使用。当它生成位置 100
# 000 上的 token 时，RoPE 对某一层的注意力分数起什么作用？
#   a) Offsets of up to 100 000, far beyond training, so the model needs Position Interpolation to run past
#      4096 tokens.
#      最大到 100 000 的偏移，远超训练范围，所以模型超过 4096 个 token 就需要位置内插。
#   b) Only offsets 0 … W: the query is rotated at 100 000 and each key in the window at its own true
#      position, and each score depends on the offset alone.
#      只有 0 … W 的偏移：查询按 100 000 旋转，窗口内每个键按其真实位置旋转，每个分数只依赖偏移。
#   c) The rolling buffer keeps position i in slot i mod W, so q and k must be rotated at i mod W.
#      滚动缓存把位置 i 存在槽位 i mod W，所以 q 和 k 必须按 i mod W 旋转。
#   d) The relative property is lost: with a window, the scores depend on the absolute position 100 000
#      again.
#      相对性质丢失了：有了窗口，分数又依赖绝对位置 100 000 了。
ANSWERS["sliding_window_offsets"] = None
### BEGIN SOLUTION
# Model answer: Sliding-window attention (Jiang et al. 2023) lets the token at position i attend only to
#   positions i − W … i. RoPE is unchanged: q is rotated at i = 100 000 and every key in the window at its
#   own true position, so each score depends on an offset of at most W, which the model saw in training. The
#   rolling buffer stores the key of position i in slot i mod W: memory layout, not position. Information
#   still travels further through depth (k layers reach k·W tokens, about 131 K for 32 layers). The large
#   absolute angles m·θ_i are a precision matter (compute them in float32), not an extrapolation one.
# 参考答案：滑动窗口注意力（Jiang et al. 2023）让位置 i 的 token 只关注位置 i − W … i。RoPE 本身不变：q 按 i
#   = 100 000 旋转，窗口内每个键按它自己的真实位置旋转，所以每个分数只依赖不超过 W 的偏移，这些偏移模型在训
#   练中都见过。滚动缓存把位置 i 的键存在槽位 i mod W：这只是内存布局，不是位置。信息仍能随层数传得更远（k
#   层可达 k·W 个 token，32 层约 131 K）。绝对角度 m·θ_i 很大，这是精度问题（要用 float32 计算），不是外推问
#   题。
# Source: Jiang et al. 2023, Mistral 7B, arXiv 2310.06825 (sliding-window attention, rolling buffer cache);
#   Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["sliding_window_offsets"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 45. [cache_shift_rotation] myth or fact, with a reason, 1 pt (Track E)
# Myth or fact: a cache that moves tokens to new positions (StreamingLLM keeps 4 attention-sink tokens plus
# a rolling window and numbers the positions inside the cache) must store the keys before RoPE, because an
# already-rotated key cannot be moved from position m to m + Δ.
# 是误区还是事实：会把 token 挪到新位置的缓存（StreamingLLM 保留 4 个注意力汇聚 token（attention sink）加一
# 个滚动窗口，并按缓存内的位置编号）必须存储 RoPE 之前的键，因为已经旋转过的键无法从位置 m 挪到 m + Δ。
# Reasons / 理由:
#   a) Myth: rotations compose, R(m + Δ) = R(Δ)R(m) pair by pair, so one more rotation by Δ (negative to
#      move a key earlier) moves the rotated key exactly.
#      误区：旋转可以复合，逐对有 R(m + Δ) = R(Δ)R(m)，再旋转一次 Δ（往前挪时为负）就能把已旋转的键精确挪过
#      去。
#   b) Fact: the rotation was applied after the projection W_k, so it cannot be changed without recomputing
#      k = W_k x.
#      事实：旋转是在投影 W_k 之后做的，不重新计算 k = W_k x 就无法改变它。
#   c) Myth: StreamingLLM never moves keys; every token keeps its position in the original text.
#      误区：StreamingLLM 从不挪动键，每个 token 都保持它在原文中的位置。
ANSWERS["cache_shift_rotation"] = None
### BEGIN SOLUTION
# Model answer: Myth. For each pair i, a rotation by mθ_i followed by one by Δθ_i is a rotation by (m +
#   Δ)θ_i, so R(Δ)·R(m)k = R(m + Δ)k: a cached, rotated key is moved without its pre-RoPE value. When
#   StreamingLLM (Xiao et al. 2023) evicts tokens after the sinks, the kept keys move to earlier cache
#   positions (Δ < 0). The paper's code caches keys before RoPE and rotates the window at every step; the
#   SinkCache that transformers shipped kept rotated keys and applied one correcting rotation, computed in
#   float32, on eviction. Both are exact in exact arithmetic; repeated corrections accumulate rounding in
#   bfloat16, which is the argument for caching raw keys.
# 参考答案：误区。对每一对 i，先旋转 mθ_i 再旋转 Δθ_i，等于旋转 (m + Δ)θ_i，所以 R(Δ)·R(m)k = R(m + Δ)k：不
#   需要 RoPE 之前的原始向量，就能把缓存中已旋转的键挪到新位置。StreamingLLM（Xiao et al. 2023）淘汰 sink
#   token 之后的 token 时，保留下来的键会挪到缓存中更靠前的位置（Δ < 0）。论文代码缓存 RoPE 之前的键，每一步
#   重新旋转整个窗口；transformers 曾提供的 SinkCache 则缓存旋转后的键，在淘汰时再用 float32 计算的一次校正
#   旋转。两者在精确算术下都正确；在 bfloat16 下反复校正会累积舍入误差，这才是缓存原始键的理由。
# Source: Xiao et al. 2023, Efficient Streaming Language Models with Attention Sinks, arXiv 2309.17453;
#   Hugging Face transformers, cache_utils.py (SinkCache re-rotation)
ANSWERS["cache_shift_rotation"] = (False, "a")
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 46. [num_streaming_position] numeric, 1 pt (Track E)
# StreamingLLM setting: the cache keeps the first 4 tokens of the stream (attention sinks) and the 1020 most
# recent tokens; 10 000 tokens have been streamed so far. Positions are assigned within the cache, starting
# at 0. At which position is the query of the next (10 001st) token rotated? (exact)
# StreamingLLM 的设置：缓存保留数据流的前 4 个 token（注意力汇聚 token，即 attention sink）和最近的 1020 个
# token；目前已经流入 10 000 个 token。位置按缓存内的顺序分配，从 0 开始。下一个（第 10 001 个）token 的查询
# 按哪个位置旋转？（精确值）
ANSWERS["num_streaming_position"] = None
### BEGIN SOLUTION
# Model answer: 1024: the 4 sinks take positions 0 … 3 and the window 4 … 1023, so the new token is at 1024,
#   the cache length. In the text it is the token at position 10 000, but StreamingLLM (Xiao et al. 2023)
#   numbers by place in the cache, so RoPE never sees an offset larger than the cache, which stays inside
#   the pre-training length; with text positions the offsets to the sinks would grow without bound.
# 参考答案：1024：4 个 sink token 占位置 0 … 3，窗口占 4 … 1023，所以新 token 位于 1024，即缓存长度。它在原
#   文中的位置是 10 000，但 StreamingLLM（Xiao et al. 2023）按缓存内的顺序编号，RoPE 看到的偏移永远不超过缓
#   存大小，也就保持在预训练长度之内；若用原文位置，到 sink token 的偏移会无限增长。
# Source: Xiao et al. 2023, Efficient Streaming Language Models with Attention Sinks, section 3.2, arXiv
#   2309.17453
ANSWERS["num_streaming_position"] = 1024
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 47. [num_dynamic_ntk_base] numeric, 2 pts (Track E)
# transformers' "dynamic" RoPE type (_compute_dynamic_ntk_parameters) recomputes the base whenever the
# current length seq_len exceeds max_position_embeddings: base' = base · ((factor · seq_len /
# max_position_embeddings) − (factor − 1)) ^ (d / (d − 2)). A Llama-2-like model: base = 10000, head
# dimension d = 128, max_position_embeddings = 4096, factor = 2, and seq_len = 12288. What is base'?
# (relative tolerance 0.1 %)
# transformers 的 "dynamic" RoPE 类型（_compute_dynamic_ntk_parameters）在当前长度 seq_len 超过
# max_position_embeddings 时重新计算 base：base' = base · ((factor · seq_len / max_position_embeddings) −
# (factor − 1)) ^ (d / (d − 2))。一个类似 Llama 2 的模型：base = 10000，头维度 d = 128，
# max_position_embeddings = 4096，factor = 2，seq_len = 12288。base' 是多少？（相对容差 0.1 %）
ANSWERS["num_dynamic_ntk_base"] = None
### BEGIN SOLUTION
# Model answer: The bracket is 2·12288/4096 − 1 = 5, so base' = 10000 · 5^(128/126) ≈ 51 294. At seq_len =
#   max_position_embeddings the bracket is exactly 1, so the base is untouched within the trained length and
#   grows continuously beyond it; the exponent d/(d − 2) slows the slowest pair by the full bracket while
#   the fastest pair (θ_0 = 1) keeps its frequency. Because base' follows the current length, the
#   frequencies change during generation, which is what makes a cache of already-rotated keys inconsistent.
# 参考答案：括号内为 2·12288/4096 − 1 = 5，所以 base' = 10000 · 5^(128/126) ≈ 51 294。当 seq_len =
#   max_position_embeddings 时括号恰好为 1，因此在训练长度以内 base 不变，超出后连续增大；指数 d/(d − 2) 让
#   最慢的一对正好慢下括号那么多倍，而最快的一对（θ_0 = 1）频率不变。由于 base' 随当前长度变化，生成过程中频
#   率会改变，这正是已旋转键的缓存变得不一致的原因。
# Source: Hugging Face transformers, modeling_rope_utils.py, _compute_dynamic_ntk_parameters (dynamic NTK
#   scaling, credited to /u/bloc97 and /u/emozilla); Peng et al. 2023, YaRN, arXiv 2309.00071
ANSWERS["num_dynamic_ntk_base"] = 51293.78726815244
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 48. [dynamic_ntk_cache] single choice, 1 pt (Track E)
# Generating past max_position_embeddings with the "dynamic" RoPE type and a KV cache of rotated keys: at
# every step the base is recomputed from the current length. What goes wrong?
# 使用 "dynamic" RoPE 类型、并缓存旋转后的键，生成长度超过 max_position_embeddings：每一步都按当前长度重新计
# 算 base。会出什么问题？
#   a) Nothing: RoPE is relative, so the scores are the same whatever the base.
#      没有问题：RoPE 是相对的，无论 base 取多少分数都一样。
#   b) The cached values were computed at the old base and must be re-rotated as well.
#      缓存的值是按旧 base 计算的，也必须重新旋转。
#   c) The cached keys keep the rotation of the base in force when they were computed, while each new query
#      uses the current base: per pair the angle becomes mθ'_i − nθ_i, not a function of n − m, so the
#      relative property breaks for the cached context.
#      缓存的键保留着计算它们时所用 base 的旋转，而每个新查询用当前的 base：每一对的角度变成 mθ'_i − nθ_i，
#      不再是 n − m 的函数，所以对缓存中的上下文相对性质被破坏。
#   d) Only the keys cached after the trained length are wrong; the early keys used the original base, which
#      is what the query uses.
#      只有超过训练长度之后缓存的键有问题；早期的键用的是原始 base，与查询一致。
ANSWERS["dynamic_ntk_cache"] = None
### BEGIN SOLUTION
# Model answer: Each cached key keeps the frequencies of the step at which it was computed (the original
#   base while the sequence was short, larger bases later), but the new query is rotated with the current
#   base'. Per pair the score then involves mθ'_i − nθ_i instead of (m − n)θ_i: the relative property, and
#   the offsets the model learned, are off for the cached context, and incremental decoding disagrees with a
#   full forward pass over the same text (transformers issue #25104). Exact fixes are to cache keys before
#   RoPE and re-rotate all of them whenever the base changes, or to rotate each cached key by n(θ'_i − θ_i);
#   both add work proportional to the cache at every step, which the maintainers judged too slow. Static
#   schemes (linear interpolation, YaRN with a fixed factor, Llama 3's rope type) fix the frequencies once
#   and avoid the problem.
# 参考答案：每个缓存的键都保留着计算它那一步的频率（序列较短时是原始 base，之后是更大的 base），而新的查询按
#   当前的 base' 旋转。于是每一对的分数涉及 mθ'_i − nθ_i，而不是 (m − n)θ_i：对缓存中的上下文，相对性质以及
#   模型学到的偏移都对不上，增量解码与对同一文本的完整前向计算结果不一致（transformers issue #25104）。精确
#   的修法是缓存 RoPE 之前的键，每次 base 改变时全部重新旋转，或者把每个缓存键再旋转 n(θ'_i − θ_i)；两者每一
#   步都要做与缓存长度成正比的额外工作，维护者认为太慢。静态方案（线性内插、固定因子的 YaRN、Llama 3 的 rope
#   类型）一次性固定频率，没有这个问题。
# Source: Hugging Face transformers issue #25104 (Inconsistent Rotation Base for Dynamic NTK Scaling RoPE)
#   and modeling_rope_utils.py; Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["dynamic_ntk_cache"] = "c"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 49. [packed_sequences] multiple choice, 2 pts (Track E)
# Training on packed sequences: several documents are concatenated into one row of the batch, for example
# documents of 3, 2 and 4 tokens in a row of 9. Choose every true statement.
# 用打包序列训练：把几篇文档拼接成批次中的一行，例如长度为 3、2、4 的三篇文档拼成 9 个 token 的一行。选出所
# 有正确的说法。
#   a) Each document needs its own causal block: a block-diagonal causal mask (or a varlen kernel given the
#      document boundaries); with a plain causal mask later documents attend to earlier, unrelated ones.
#      每篇文档需要自己的因果块：块对角因果掩码（或给定文档边界的变长内核）；用普通因果掩码时，后面的文档会
#      关注前面无关的文档。
#   b) The position ids restart at each document, [0, 1, 2, 0, 1, 0, 1, 2, 3], so every document is numbered
#      as it will be at inference; transformers' padding-free path with FlashAttention-2 even reads the
#      document boundaries from where the ids return to 0.
#      位置 id 在每篇文档处重新开始，[0, 1, 2, 0, 1, 0, 1, 2, 3]，使每篇文档的编号与推理时一致；transformers
#      配合 FlashAttention-2 的无填充路径甚至从 id 归零处读出文档边界。
#   c) With a correct block-diagonal mask, letting the positions run on (0 … 8) changes no RoPE score in
#      exact arithmetic: within one document it is a constant shift.
#      在掩码正确（块对角）的前提下，让位置一直连续编号（0 … 8）在精确算术下不会改变任何 RoPE 分数：在同一篇
#      文档内这只是常数平移。
#   d) Restarting the position ids is enough on its own: with a plain causal mask, RoPE keeps the documents
#      apart.
#      只要重新编号位置 id 就够了：用普通因果掩码时，RoPE 也会把各文档隔开。
#   e) A plain causal mask is fine as long as the positions run on across the row, since earlier documents
#      are then far away.
#      只要位置在整行中连续编号，用普通因果掩码就没问题，因为前面的文档离得很远。
ANSWERS["packed_sequences"] = None
### BEGIN SOLUTION
# Model answer: Packing removes padding, but two things must be right. The mask: block-diagonal causal
#   (varlen attention kernels take the cumulative document lengths), so a token attends only to earlier
#   tokens of its own document. The positions: ids restarting at 0 per document, [0, 1, 2, 0, 1, 0, 1, 2,
#   3], as the document will look at inference. For RoPE alone the mask is what matters, since a
#   per-document constant shift cancels in R_mᵀR_n = R_{n−m}; restarting matters for absolute embeddings,
#   and in transformers' padding-free path (DataCollatorWithFlattening with FlashAttention-2) the restarts
#   are where the document boundaries are read from. Restarted ids with a plain causal mask are the worst
#   case: attention across documents, at offsets the model never saw.
# 参考答案：打包省去了填充，但有两件事必须做对。掩码：块对角的因果掩码（变长注意力内核接收各文档的累计长度）
#   ，使每个 token 只关注本文档中更早的 token。位置：每篇文档的位置 id 从 0 重新开始，[0, 1, 2, 0, 1, 0, 1,
#   2, 3]，与推理时文档的样子一致。单就 RoPE 而言，关键是掩码，因为每篇文档的常数平移会在 R_mᵀR_n = R_{n−m}
#   中抵消；重新编号对绝对位置编码很重要，而在 transformers 的无填充路径（DataCollatorWithFlattening 配合
#   FlashAttention-2）中，文档边界正是从位置 id 重新归零的地方读出来的。重新编号却只用普通因果掩码是最坏的情
#   况：跨文档注意力，而且偏移是模型从未见过的。
# Source: Hugging Face transformers, DataCollatorWithFlattening and modeling_flash_attention_utils.py
#   (document boundaries from position_ids); Su et al. 2021, RoFormer, arXiv 2104.09864
ANSWERS["packed_sequences"] = {"a", "b", "c"}
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 50. [alibi_slopes_12_heads] single choice, 1 pt (Track E)
# ALiBi (Press et al. 2021) adds −m_h·(i − j) to the score of query i and key j ≤ i, with a fixed slope m_h
# per head; for n heads, n a power of two, the slopes are 2^(−8h/n) for h = 1 … n. The authors' code handles
# other n differently. Which slopes does it give a 12-head model?
# ALiBi（Press et al. 2021）给查询 i 与键 j ≤ i 的分数加上 −m_h·(i − j)，每个头有固定的斜率 m_h；当头数 n 为
# 2 的幂时，斜率为 2^(−8h/n)，h = 1 … n。作者的代码对其他 n 另有处理。12 个头的模型得到哪些斜率？
#   a) 2^(−8h/12) for h = 1 … 12: the same formula with n = 12.
#      2^(−8h/12)，h = 1 … 12：直接把 n = 12 代入同一公式。
#   b) The 8 slopes of an 8-head model, 1/2, 1/4, …, 1/256, followed by every other slope of the 16-head
#      sequence: 2^(−0.5), 2^(−1.5), 2^(−2.5), 2^(−3.5).
#      8 个头模型的 8 个斜率 1/2、1/4、…、1/256，再加上 16 个头序列中隔一个取一个的斜率：2^(−0.5)、2^(−1.5)
#      、2^(−2.5)、2^(−3.5)。
#   c) The first 12 slopes of the 16-head sequence: 2^(−0.5), 2^(−1), …, 2^(−6).
#      16 个头序列的前 12 个斜率：2^(−0.5)、2^(−1)、…、2^(−6)。
#   d) The slopes are learned, one per head, starting at 1/12.
#      斜率是可学习的，每个头一个，初始值为 1/12。
ANSWERS["alibi_slopes_12_heads"] = None
### BEGIN SOLUTION
# Model answer: For 8 heads, 2^(−8h/8) gives 1/2, 1/4, …, 1/256. For n not a power of two, get_slopes takes
#   the slopes of the largest power of two below n (8: 1/2 … 1/256) and appends the first n − 8 = 4 of every
#   other slope of the 16-head sequence 2^(−h/2): 2^(−0.5) ≈ 0.707, 2^(−1.5), 2^(−2.5), 2^(−3.5), which fall
#   between the first ones. The authors trained only power-of-two head counts and use this workaround to
#   keep that geometry. The bias is added to the logits: nothing is rotated, the slopes are set before
#   training and never learned, and unlike RoPE the bias does not depend on q or k.
# 参考答案：8 个头时，2^(−8h/8) 给出 1/2、1/4、…、1/256。n 不是 2 的幂时，get_slopes 先取不超过 n 的最大 2
#   的幂的斜率（8 个头：1/2 … 1/256），再从 16 个头的序列 2^(−h/2) 中隔一个取一个，取前 n − 8 = 4 个：
#   2^(−0.5) ≈ 0.707、2^(−1.5)、2^(−2.5)、2^(−3.5)，它们正好落在前 8 个斜率之间。作者只训练过头数为 2 的幂的
#   模型，用这个变通办法保持那种几何结构。偏置加在 logits 上：不做任何旋转，斜率在训练前设定、从不学习，而且
#   与 RoPE 不同，偏置不依赖 q 和 k。
# Source: Press, Smith, Lewis 2021, Train Short, Test Long (ALiBi), arXiv 2108.12409; get_slopes in
#   github.com/ofirpress/attention_with_linear_biases (fairseq/models/transformer.py)
ANSWERS["alibi_slopes_12_heads"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 51. [xpos_decay] single choice, 1 pt (Track E)
# xPos (Sun et al. 2022, "A Length-Extrapolatable Transformer") keeps RoPE's rotation and adds a per-pair
# scale ζ_i in (0, 1): the query at position m is multiplied by ζ_i^(m/B) and the key at position n by
# ζ_i^(−n/B) (B is a fixed scale, 512 in the authors' code). What does this do to the score?
# xPos（Sun et al. 2022，"A Length-Extrapolatable Transformer"）保留 RoPE 的旋转，并为每一对加一个缩放因子
# ζ_i ∈ (0, 1)：位置 m 的查询乘以 ζ_i^(m/B)，位置 n 的键乘以 ζ_i^(−n/B)（B 是固定的尺度，作者代码中为 512）
# 。这对分数有什么影响？
#   a) The scales multiply to ζ_i^((m − n)/B): a factor that depends only on the offset and shrinks as the
#      key lies further back, an explicit long-term decay on top of RoPE's rotation.
#      两个缩放因子相乘得到 ζ_i^((m − n)/B)：只依赖偏移、键越靠前越小的因子，即在 RoPE 旋转之上加的显式远程
#      衰减。
#   b) It normalises q and k to unit length, so the score becomes a cosine similarity.
#      它把 q 和 k 归一化为单位长度，使分数变成余弦相似度。
#   c) It makes the score depend on the absolute positions m and n, which is why xPos extrapolates.
#      它使分数依赖绝对位置 m 和 n，这就是 xPos 能外推的原因。
#   d) The same factor ζ_i^(m/B) is applied to both q and k, so both shrink together at long range.
#      q 和 k 都乘以同一个因子 ζ_i^(m/B)，所以在长距离上两者一起变小。
ANSWERS["xpos_decay"] = None
### BEGIN SOLUTION
# Model answer: RoPE's own long-term decay is only an oscillating bound (RoFormer section 3.4.3). xPos (Sun
#   et al. 2022) adds an explicit one: pair i is scaled by ζ_i^(m/B) on the query side and by ζ_i^(−n/B) on
#   the key side, so its term of the score carries ζ_i^((m − n)/B), which shrinks as the key lies further
#   back in a causal model. In the authors' torchscale code ζ_i = (2i/d + 0.4)/1.4, from about 0.29 for the
#   fastest pair to nearly 1 for the slowest, and B = 512: fast pairs decay quickly, slow pairs barely.
#   Since the key factor grows exponentially with n, the code centres the positions around zero to keep the
#   factors in range.
# 参考答案：RoPE 自身的远程衰减只是一个振荡的上界（RoFormer 第 3.4.3 节）。xPos（Sun et al. 2022）加入显式衰
#   减：第 i 对在查询一侧乘以 ζ_i^(m/B)，在键一侧乘以 ζ_i^(−n/B)，于是它在分数中的那一项带有 ζ_i^((m − n)/B)
#   ，在因果模型中键越靠前它越小。作者的 torchscale 代码中 ζ_i = (2i/d + 0.4)/1.4，从最快一对的约 0.29 到最
#   慢一对的接近 1，B = 512：高频对衰减快，低频对几乎不衰减。由于键一侧的因子随 n 指数增长，代码把位置以 0
#   为中心对称排布，使因子保持在合理范围内。
# Source: Sun et al. 2022, A Length-Extrapolatable Transformer (xPos), arXiv 2212.10554;
#   microsoft/torchscale, torchscale/component/xpos_relative_position.py
ANSWERS["xpos_decay"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 52. [nope_recover_position] single choice, 1 pt (Track E)
# A decoder-only model with a causal mask and no positional encoding at all (NoPE). How can its first layer
# tell how far into the sequence token t is?
# 一个带因果掩码、完全不加位置编码（NoPE）的 decoder-only 模型。它的第一层如何得知第 t 个 token 在序列中的位
# 置？
#   a) Through the mask: token t attends to exactly t tokens, so a head that attends uniformly, for instance
#      to a feature only the first token carries, outputs about 1/t of it, a monotone function of t.
#      通过掩码：第 t 个 token 恰好关注 t 个 token，所以一个均匀关注的头（例如关注只有第一个 token 才带有的
#      某个特征）输出约为该特征的 1/t，是 t 的单调函数。
#   b) It cannot: without a positional encoding attention is permutation-equivariant, mask or not.
#      做不到：没有位置编码时，不论有无掩码，注意力都是置换等变的。
#   c) Through the feed-forward layers, which act differently at each position.
#      通过前馈层，前馈层在每个位置上的作用不同。
#   d) Through the tokenizer, which writes each token's index into its embedding.
#      通过分词器，分词器把每个 token 的下标写进它的词向量。
ANSWERS["nope_recover_position"] = None
### BEGIN SOLUTION
# Model answer: Under a causal mask the set of tokens a query can see grows with its position. If a head's
#   scores are all equal (W_q = 0 is enough), token t averages the values of tokens 1 … t; if only the first
#   token (say <bos>) has a non-zero value in some channel, the output there is 1/t of it, from which later
#   layers can read t. Kazemnejad et al. 2023 prove that the first layer can recover absolute positions this
#   way (and that later layers can then implement relative ones); Haviv et al. 2022 find causal LMs without
#   positional encoding competitive and their positions recoverable by probes. A bidirectional encoder
#   without positions has no such signal.
# 参考答案：在因果掩码下，一个查询能看到的 token 的集合随它的位置增大。若某个头的分数全都相等（令 W_q = 0 即
#   可），第 t 个 token 就对第 1 … t 个 token 的值取平均；若只有第一个 token（例如 <bos>）在某个通道上的值不
#   为零，输出在该通道上就是它的 1/t，后面的层可以由此读出 t。Kazemnejad et al. 2023 证明第一层可以这样恢复
#   绝对位置（后面的层进而可以实现相对位置）；Haviv et al. 2022 发现不加位置编码的因果语言模型表现相当，并且
#   用探针能从中恢复位置。双向的编码器没有位置编码就没有这种信号。
# Source: Kazemnejad et al. 2023, The Impact of Positional Encoding on Length Generalization in
#   Transformers, arXiv 2305.19466; Haviv et al. 2022, Transformer Language Models without Positional
#   Encodings Still Learn Positional Information, arXiv 2203.16634
ANSWERS["nope_recover_position"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 53. [mla_decoupled_rope] single choice, 1 pt (Track E)
# DeepSeek-V2's multi-head latent attention (MLA) caches one compressed latent c_t (d_c = 512 values) per
# token and layer instead of keys and values; at inference the key up-projection W^UK can be absorbed into
# the query projection. Why can't RoPE simply be applied to the keys k_t = W^UK c_t, and what does the paper
# do instead?
# DeepSeek-V2 的多头潜在注意力（MLA）每个 token 每层只缓存一个压缩后的潜在向量 c_t（d_c = 512 个数），而不是
# 键和值；推理时键的上投影 W^UK 可以吸收进查询的投影。为什么不能直接对键 k_t = W^UK c_t 做 RoPE？论文改用了
# 什么办法？
#   a) A position-dependent RoPE matrix would sit between W^Q and W^UK in the score, and matrix products do
#      not commute, so W^UK could no longer be absorbed and every prefix key would have to be recomputed;
#      instead each head gets extra rotary query dimensions and all heads share one rotary key (d_h^R =
#      d_h/2 = 64), concatenated to the non-rotary parts and cached next to c_t.
#      分数中 W^Q 与 W^UK 之间会夹着一个依赖位置的 RoPE 矩阵，而矩阵乘法不满足交换律，于是 W^UK 无法再被吸收
#      ，所有前缀键都要重新计算；论文改为给每个头额外的旋转查询维度，所有头共享一个旋转键（d_h^R = d_h/2 =
#      64），拼接在不旋转的部分之后，并与 c_t 一起缓存。
#   b) RoPE cannot rotate vectors that small, so MLA rotates the 512-dimensional latent c_t directly.
#      RoPE 不能旋转这么小的向量，所以 MLA 直接旋转 512 维的潜在向量 c_t。
#   c) MLA drops positional encoding altogether (NoPE), because the latent already encodes order.
#      MLA 完全不用位置编码（NoPE），因为潜在向量已经编码了顺序。
#   d) The problem is only speed: rotating 128 heads costs too much, so one head is rotated and copied.
#      问题只是速度：旋转 128 个头代价太高，所以只旋转一个头再复制。
ANSWERS["mla_decoupled_rope"] = None
### BEGIN SOLUTION
# Model answer: MLA stores c_t and rebuilds k = W^UK c_t and v = W^UV c_t; since q·k = (W^Q h)ᵀ W^UK c, W^UK
#   can be folded into the query side and the keys are never materialised. RoPE would put a
#   position-dependent rotation between W^Q and W^UK, and matrix products do not commute, so the fold breaks
#   and every prefix key would have to be recomputed. Decoupled RoPE splits each head into a content part
#   computed through the latent without rotation and a rotary part: per-head rotary query dimensions q^R and
#   one rotary key k^R shared by all heads, d_h^R = d_h/2 = 64, rotated and cached next to c_t. The cache
#   holds d_c + d_h^R = 576 values per token and layer, against 2·n_h·d_h = 32 768 for multi-head attention
#   with 128 heads of 128.
# 参考答案：MLA 缓存 c_t，并由它重建 k = W^UK c_t 和 v = W^UV c_t；由于 q·k = (W^Q h)ᵀ W^UK c，W^UK 可以并入
#   查询一侧，键永远不必显式算出。若使用 RoPE，W^Q 与 W^UK 之间会夹着一个依赖位置的旋转矩阵，而矩阵乘法不满
#   足交换律，于是无法合并，所有前缀的键都得重新计算。解耦 RoPE 把每个头分成两部分：经由潜在向量计算、不旋转
#   的内容部分，以及旋转部分：每个头额外的旋转查询维度 q^R，和所有头共享的一个旋转键 k^R，d_h^R = d_h/2 = 64
#   ，旋转后与 c_t 一起缓存。缓存每个 token 每层 d_c + d_h^R = 576 个数，而 128 个头、每头 128 维的多头注意
#   力需要 2·n_h·d_h = 32 768 个。
# Source: DeepSeek-AI 2024, DeepSeek-V2: A Strong, Economical, and Efficient Mixture-of-Experts Language
#   Model, arXiv 2405.04434 (section 2.1, decoupled rotary position embedding)
ANSWERS["mla_decoupled_rope"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 54. [roformer_derivation] single choice, 1 pt (Track E)
# RoFormer (section 3.4.1) derives RoPE from one requirement: the inner product of the encoded query and key
# must depend only on the two vectors and their offset, ⟨f(q, m), f(k, n)⟩ = g(q, k, m − n). In 2-D, with
# vectors written as complex numbers, what is the solution?
# RoFormer（第 3.4.1 节）从一个要求推导出 RoPE：编码后的查询与键的内积只能依赖这两个向量及其偏移，⟨f(q, m),
# f(k, n)⟩ = g(q, k, m − n)。在二维情形下，把向量写成复数，解是什么？
#   a) f(q, m) = q·e^{imθ}: the length does not change with position and the angle grows linearly with m, so
#      ⟨f(q, m), f(k, n)⟩ = Re[q·k̄·e^{i(m−n)θ}].
#      f(q, m) = q·e^{imθ}：长度不随位置变化，角度随 m 线性增长，所以 ⟨f(q, m), f(k, n)⟩ =
#      Re[q·k̄·e^{i(m−n)θ}]。
#   b) f(q, m) = q + p_m, adding a position vector as in the original Transformer.
#      f(q, m) = q + p_m，像原始 Transformer 那样加一个位置向量。
#   c) f(q, m) = q·e^{−λm}, shrinking with position.
#      f(q, m) = q·e^{−λm}，随位置缩小。
#   d) f(q, m) = m·q·e^{imθ}, a rotation scaled by the position.
#      f(q, m) = m·q·e^{imθ}，按位置缩放的旋转。
ANSWERS["roformer_derivation"] = None
### BEGIN SOLUTION
# Model answer: Write f(q, m) = R(q, m)·e^{iΘ(q, m)}. The requirement splits into moduli, R(q, m)R(k, n) =
#   R_g(q, k, m − n), and angles, Θ(q, m) − Θ(k, n) = Θ_g(q, k, m − n). Setting m = n shows the modulus does
#   not depend on position (R(q, m) = ‖q‖, with f(q, 0) = q), and that Θ(q, m) − arg q is one function φ(m)
#   for every vector; comparing m and m + 1 makes φ an arithmetic progression, φ(m) = mθ. So f(q, m) =
#   q·e^{imθ}, a rotation by mθ, and ⟨f(q, m), f(k, n)⟩ = Re[q·k̄·e^{i(m−n)θ}]. In d dimensions, d/2 such
#   planes with frequencies θ_i give RoPE.
# 参考答案：把 f(q, m) 写成 R(q, m)·e^{iΘ(q, m)}。要求分成模长部分 R(q, m)R(k, n) = R_g(q, k, m − n) 和角度
#   部分 Θ(q, m) − Θ(k, n) = Θ_g(q, k, m − n)。令 m = n 可知模长与位置无关（R(q, m) = ‖q‖，且 f(q, 0) = q）
#   ，并且 Θ(q, m) − arg q 对所有向量都是同一个函数 φ(m)；比较 m 与 m + 1 可知 φ 是等差数列，φ(m) = mθ。所以
#   f(q, m) = q·e^{imθ}，即旋转 mθ，且 ⟨f(q, m), f(k, n)⟩ = Re[q·k̄·e^{i(m−n)θ}]。在 d 维中，用 d/2 个频率为
#   θ_i 的平面就得到 RoPE。
# Source: Su et al. 2021, RoFormer: Enhanced Transformer with Rotary Position Embedding, section 3.4.1,
#   arXiv 2104.09864
ANSWERS["roformer_derivation"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 55. [num_bf16_spacing] numeric, 2 pts (Track E)
# At long context the angle of the fastest RoPE pair is m·θ_0 = m radians. bfloat16 has 8 significant bits
# (7 stored plus the implicit leading one). What is the spacing between consecutive bfloat16 numbers near m
# = 40 000, that is, the resolution with which such an angle can be stored? (exact, in radians)
# 在长上下文中，最快那一对 RoPE 的角度是 m·θ_0 = m 弧度。bfloat16 有 8 位有效位（存储 7 位，外加隐含的首位 1
# ）。在 m = 40 000 附近，相邻两个 bfloat16 数的间距是多少，也就是这样的角度能以多大的分辨率存储？（精确值，
# 单位弧度）
# (unit: rad)
ANSWERS["num_bf16_spacing"] = None
### BEGIN SOLUTION
# Model answer: 2^15 = 32 768 ≤ 40 000 < 65 536, so bfloat16 numbers there are 2^(15−7) = 256 apart: 40 000
#   itself is stored as 39 936, and an angle can be off by up to 128 rad, so the phase of the fast pairs is
#   noise. Angles formed in bfloat16 (for example under autocast) destroy positions long before any
#   extrapolation problem; transformers computes them in float32 with autocast disabled and casts only cos
#   and sin to the model dtype. float32 is not exact either (spacing 1/256 rad at 40 000, 1/16 rad at 10^6),
#   which matters for very long contexts; Llama 3 raises the base to 500 000, putting the slowest wavelength
#   at 2π·500 000^(126/128) ≈ 2.6 M tokens for d = 128.
# 参考答案：2^15 = 32 768 ≤ 40 000 < 65 536，所以那里的 bfloat16 数间距为 2^(15−7) = 256：40 000 本身被存成
#   39 936，角度误差最大可达 128 弧度，高频对的相位完全是噪声。在 bfloat16 中（例如 autocast 下）计算角度，
#   早在外推问题出现之前就毁掉了位置信息；transformers 关闭 autocast、用 float32 计算角度，只把 cos 和 sin
#   转成模型的数据类型。float32 也不是精确的（在 40 000 处间距为 1/256 弧度，在 10^6 处为 1/16 弧度），对超
#   长上下文要注意；Llama 3 把 base 提高到 500 000，d = 128 时最慢一对的波长为 2π·500 000^(126/128) ≈ 2.6 M
#   个 token。
# Source: Hugging Face transformers, models/llama/modeling_llama.py (LlamaRotaryEmbedding computes the
#   angles in float32 with autocast disabled); Llama Team (Meta) 2024, The Llama 3 Herd of Models, arXiv
#   2407.21783
ANSWERS["num_bf16_spacing"] = 256
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 56. [angle_precision] single choice, 1 pt (Track E)
# A RoPE implementation runs under bfloat16 autocast. Which way of computing the rotation is right for a
# 128K-token context?
# 一个 RoPE 实现在 bfloat16 autocast 下运行。对 128K 个 token 的上下文，哪种计算旋转的方式是正确的？
#   a) Compute positions × inverse frequencies in bfloat16 with the rest of the model, then take cos and
#      sin.
#      和模型其余部分一样，用 bfloat16 计算位置 × 逆频率，再取 cos 和 sin。
#   b) Compute the angles in float32 (autocast disabled), take cos and sin there, and cast only cos and sin
#      to bfloat16 before multiplying q and k.
#      用 float32 计算角度（关闭 autocast），在 float32 中取 cos 和 sin，只把 cos 和 sin 转成 bfloat16 再与
#      q、k 相乘。
#   c) Store the positions as bfloat16 and reduce the angle modulo 2π in bfloat16 before cos and sin.
#      把位置存成 bfloat16，在取 cos 和 sin 之前用 bfloat16 把角度对 2π 取模。
#   d) Keep the angles in bfloat16 but evaluate cos and sin in float32: the rounding of cos and sin is what
#      matters.
#      角度保持 bfloat16，但用 float32 计算 cos 和 sin：关键是 cos 和 sin 的舍入。
ANSWERS["angle_precision"] = None
### BEGIN SOLUTION
# Model answer: The angle m·θ_i grows with position, and bfloat16 has 8 significant bits: between 65 536 and
#   131 072 its numbers are 512 apart, so angles formed in bfloat16 are wrong by up to hundreds of radians
#   for the fast pairs at 100K tokens. cos and sin lie in [−1, 1], where bfloat16's rounding error (at most
#   about 0.002) is harmless. Hence the rule: positions and inverse frequencies in float32, their product
#   and cos/sin in float32 (transformers disables autocast for exactly this), then cast cos/sin to the
#   activation dtype before rotating q and k. A fused RoPE kernel should do the same internally.
# 参考答案：角度 m·θ_i 随位置增大，而 bfloat16 只有 8 位有效位：在 65 536 到 131 072 之间相邻数相差 512，所
#   以在 100K 个 token 处用 bfloat16 计算的高频对角度会错上几百弧度。cos 和 sin 在 [−1, 1] 之内，bfloat16 的
#   舍入误差（最多约 0.002）无伤大雅。因此规则是：位置和逆频率用 float32，它们的乘积以及 cos/sin 也用
#   float32（transformers 正是为此关闭 autocast），再把 cos/sin 转成激活的数据类型去旋转 q 和 k。融合的 RoPE
#   内核在内部也应如此。
# Source: Hugging Face transformers, models/llama/modeling_llama.py (LlamaRotaryEmbedding: float32 angles,
#   autocast disabled; transformers PR #29285)
ANSWERS["angle_precision"] = "b"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 57. [num_men_first_negative] numeric, 2 pts (Track E)
# Men et al. (2024) show that RoPE can favour a key similar to the query over a random key at distance m
# only while B(m) = Σ_{i=0}^{d/2−1} cos(m·θ_i) ≥ 0, θ_i = base^(−2i/d). For d = 128 and base 10 000, what is
# the first integer distance m at which B(m) < 0? (exact; compute it)
# Men 等人（2024）证明：只有当 B(m) = Σ_{i=0}^{d/2−1} cos(m·θ_i) ≥ 0（θ_i = base^(−2i/d)）时，RoPE 才能在距
# 离 m 处让与查询相似的键比随机键得到更高的分数。d = 128、base 为 10 000 时，使 B(m) < 0 的第一个整数距离 m
# 是多少？（精确值，请计算）
# (unit: tokens)
ANSWERS["num_men_first_negative"] = None
### BEGIN SOLUTION
# Model answer: 1707: B(m) is first negative at m = 1707, so by Men et al.'s criterion base 10 000 supports
#   a context of 1 707 tokens at d = 128, and their lower bound of the base is about 4.3·10³ for 1K tokens
#   and 6.3·10⁵ for 32K. Even base 500 000 (Llama 2 Long, Llama 3) keeps B(m) ≥ 0 only up to m = 18 437,
#   below 32 768. The set of good bases is not an interval (for 1 024 tokens 4.3·10³ works while some bases
#   up to 6.0·10³ fail), so the bound is found by a scan, not a bisection.
# 参考答案：1707：B(m) 在 m = 1707 处第一次为负，所以按 Men 等人的判据，d = 128 时 base 10 000 只支持 1 707
#   个 token 的上下文；他们给出的 base 下界对 1K 个 token 约为 4.3·10³，对 32K 约为 6.3·10⁵。即使 base 为
#   500 000（Llama 2 Long、Llama 3），B(m) ≥ 0 也只保持到 m = 18 437，不到 32 768。满足条件的 base 并不构成
#   一个区间（1 024 个 token 时 4.3·10³ 满足，而一些更大的、直到 6.0·10³ 的 base 反而不满足），所以下界要靠
#   扫描而不是二分求得。
# Source: Men et al. 2024, Base of RoPE Bounds Context Length, arXiv 2405.14591
ANSWERS["num_men_first_negative"] = 1707
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 58. [xiong_abf] single choice, 1 pt (Track E)
# Before continuing Llama 2's training on 32 768-token sequences, Xiong et al. (2023) raised RoPE's base
# from 10 000 to 500 000 ("adjusted base frequency"). What does that change?
# 在用 32 768 个 token 的序列继续训练 Llama 2 之前，Xiong 等人（2023）把 RoPE 的 base 从 10 000 提高到 500
# 000（“调整基频”）。这改变了什么？
#   a) Every pair but the first turns more slowly with distance, so attention to distant tokens decays less
#      and the slow pairs stay closer to angles seen in training.
#      除第一对外，每一对随距离转得更慢，因此对远处 token 的注意力衰减更小，低频对的角度也更接近训练中见过的
#      范围。
#   b) It makes the float32 angles at positions near 32 768 more precise.
#      它让 32 768 附近位置的 float32 角度更精确。
#   c) It makes RoPE's scores depend on the offset m − n, which base 10 000 does not guarantee at long
#      range.
#      它让 RoPE 的分数只依赖偏移 m − n，而 base 10 000 在远距离上做不到这一点。
#   d) It shortens every pair's wavelength so that the model sees each angle more often.
#      它缩短每一对的波长，让模型更频繁地见到每个角度。
ANSWERS["xiong_abf"] = None
### BEGIN SOLUTION
# Model answer: θ_i = base^(−2i/d) shrinks for every pair but the first, so each pair turns more slowly with
#   distance: the RoFormer bound on the score decays more slowly, distant tokens keep more attention, and
#   the slow pairs see fewer angles they were never trained on. The score stays a function of m − n for any
#   base, and the fastest pair, θ_0 = 1, is untouched, so neither relativity nor the float32 error of its
#   angle changes. Men et al. (2024) later turned the argument into a lower bound of the base for each
#   context length.
# 参考答案：除第一对外，每一对的 θ_i = base^(−2i/d) 都变小，所以每一对随距离转得更慢：RoFormer 的分数上界衰
#   减更慢，远处的 token 保留更多注意力，低频对遇到的训练中没见过的角度也更少。任何 base 下分数都只依赖 m −
#   n，最快的一对 θ_0 = 1 不受影响，所以相对性和它的角度在 float32 中的误差都不变。Men 等人（2024）后来把这
#   一论证变成了每个上下文长度对应的 base 下界。
# Source: Xiong et al. 2023, Effective Long-Context Scaling of Foundation Models, section 4.1, arXiv
#   2309.16039
ANSWERS["xiong_abf"] = "a"
### END SOLUTION

# ----------------------------------------------------------------------------------------------------------
# 59. [myth_base_training_length] myth or fact, with a reason, 1 pt (Track E)
# Myth or fact: a larger RoPE base is only needed to extrapolate beyond the training length; a model trained
# from scratch on 32K-token documents can keep base 10 000 and use its whole context.
# 是误区还是事实：更大的 RoPE base 只在外推到训练长度之外时才需要；一个从头用 32K 个 token 的文档训练的模型
# 可以保持 base 10 000，并用好它的整个上下文。
# Reasons / 理由:
#   a) Fact: within the training length every angle has been seen, so any base works there.
#      事实：在训练长度之内，所有角度都见过，所以任何 base 都可以。
#   b) Myth: the expected advantage of a similar key over a random one is proportional to Σ cos(mθ_i),
#      negative beyond some distance for a small base, so the training length itself sets a lower bound of
#      the base.
#      误区：相似键相对随机键的期望优势正比于 Σ cos(mθ_i)，base 小时超过某个距离就为负，所以训练长度本身就给
#      base 设了下界。
#   c) Myth: base 10 000 overflows float32 beyond 32K positions.
#      误区：base 10 000 在 32K 以上的位置会使 float32 溢出。
ANSWERS["myth_base_training_length"] = None
### BEGIN SOLUTION
# Model answer: Myth. Men et al. derive that the expected score gap between a key similar to the query and a
#   random key at distance m is proportional to B(m) = Σ_i cos(mθ_i); where B(m) < 0 the model cannot prefer
#   the similar token. With d = 128 and base 10 000 that happens from m = 1 707 on, so training on 32K
#   documents with that base gives what they call a superficial long-context ability: low perplexity, but
#   retrieval from far tokens fails. The training length itself sets a lower bound of the base (about
#   6.3·10⁵ for 32K).
# 参考答案：误区。Men 等人推导出：在距离 m 处，与查询相似的键和随机键的期望分数差正比于 B(m) = Σ_i cos(mθ_i)
#   ；B(m) < 0 时模型无法偏向相似的 token。d = 128、base 10 000 时，从 m = 1 707 起就是如此，所以用这个 base
#   在 32K 文档上训练只能得到他们所说的“表面的”长上下文能力：困惑度低，但从远处检索信息会失败。训练长度本身
#   就给 base 设了下界（32K 约为 6.3·10⁵）。
# Source: Men et al. 2024, Base of RoPE Bounds Context Length, arXiv 2405.14591
ANSWERS["myth_base_training_length"] = (False, "b")
### END SOLUTION
