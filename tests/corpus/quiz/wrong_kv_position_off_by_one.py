# corpus: wrong
# mistake: num_kv_position counts the next token as 37 + 3 = 40: positions start at 0, so the 37 prompt tokens hold 0..36, the two generated tokens 37 and 38, and the next one is 39.
# evidence: the case answers 40; the cache holds 37 + 2 = 39 keys at positions 0..38, so the next query is rotated at position 39 (exact).
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
#      对词进行排序，使注意力计算更快。
#   b) Self-attention ignores order (it is permutation-equivariant); the encoding gives the model each
#      token's position.
#      自注意力忽略顺序（置换等变），位置编码告诉模型每个词的位置。
#   c) It normalises the embeddings so that training is stable.
#      对词向量做归一化，使训练稳定。
#   d) It lets the model accept inputs of different lengths.
#      让模型可以接受不同长度的输入。
ANSWERS["q1_role_of_pe"] = "b"

# ----------------------------------------------------------------------------------------------------------
# 2. [q1_permutation] myth or fact, with a reason, 1 pt (000 Q1)
# Myth or fact: in a bidirectional self-attention layer (no mask) with no positional encoding, the output
# vector of "dog" is the same in "dog bites man" and "man bites dog".
# 是误区还是事实：在没有位置编码、没有掩码的双向自注意力层中，"dog" 的输出向量在 "dog bites man" 和 "man
# bites dog" 中完全相同。
# Reasons / 理由:
#   a) Each output depends only on its own token and on the set of tokens it attends to; attention is
#      permutation-equivariant.
#      每个输出只依赖自身的词和它所关注的词的集合；注意力是置换等变的。
#   b) Because the softmax normalises the weights to sum to one.
#      因为 softmax 把权重归一化为和为 1。
#   c) Because the residual connections copy the input unchanged.
#      因为残差连接原样复制了输入。
#   d) Because the feed-forward layer is applied to each position separately.
#      因为前馈层对每个位置独立计算。
ANSWERS["q1_permutation"] = (True, "a")

# ----------------------------------------------------------------------------------------------------------
# 3. [q2_absolute_shortfall] multiple choice, 2 pts (000 Q2)
# Why do absolute positional encodings (sinusoidal or learned, added to the embeddings) fall short? Choose
# every true statement.
# 为什么绝对位置编码（正弦或可学习，加到词向量上）效果不够好？选出所有正确的说法。
#   a) The q·k score of two tokens depends on their absolute positions, not only on their distance.
#      两个词的 q·k 分数依赖它们的绝对位置，而不只依赖它们的距离。
#   b) A learned position table has no entries beyond the length it was trained on.
#      可学习的位置表在训练长度之外没有对应的条目。
#   c) The sinusoidal formula cannot produce positions beyond 512.
#      正弦公式无法给出超过 512 的位置。
#   d) Absolute encodings carry no position information at all.
#      绝对位置编码完全不携带位置信息。
ANSWERS["q2_absolute_shortfall"] = {"a", "b"}

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
ANSWERS["q2_sinusoidal_offset"] = (True, "a")

# ----------------------------------------------------------------------------------------------------------
# 5. [q3_core_idea] single choice, 1 pt (000 Q3; 001 FAQ 2: what is RoPE; 001 FAQ 3: core idea)
# What is the core idea of Rotary Position Embedding (RoPE)?
# 旋转位置编码（RoPE）的核心思想是什么？
#   a) Add a rotated sinusoidal table to the token embeddings once, at the input.
#      在输入处把一个旋转过的正弦表加到词向量上一次。
#   b) Split the sequence into groups and rotate the positions inside each group.
#      把序列分成若干组，在每组内部对位置进行旋转。
#   c) Rotate each 2-D feature pair of q and k by an angle proportional to the position, so q·k depends on
#      content and on the offset only.
#      将 q 和 k 的每个二维特征对旋转一个与位置成正比的角度，使 q·k 只依赖内容和相对偏移。
#   d) Add a learned bias that depends on the distance to the attention logits.
#      在注意力 logits 上加一个依赖距离的可学习偏置。
ANSWERS["q3_core_idea"] = "c"

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
ANSWERS["q3_relative_identity"] = "a"

# ----------------------------------------------------------------------------------------------------------
# 7. [q3_advantages] multiple choice, 2 pts (000 Q3 and its advantages list; 001 FAQ 6: advantages)
# Which of these are real advantages of RoPE? Choose every true statement.
# 下列哪些是 RoPE 真正的优势？选出所有正确的说法。
#   a) The q·k score depends on the tokens' relative position, not on their absolute positions.
#      q·k 分数依赖词的相对位置，而不是绝对位置。
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
ANSWERS["q3_advantages"] = {"a", "b", "c", "e"}

# ----------------------------------------------------------------------------------------------------------
# 8. [q4_long_context] multiple choice, 2 pts (000 Q4; 000 application claim: long text)
# How is RoPE adapted to texts longer than the training context? Choose every true statement.
# 如何让 RoPE 适应比训练长度更长的文本？选出所有正确的说法。
#   a) Position Interpolation: divide the positions by the extension factor so that all angles stay in the
#      trained range, then fine-tune briefly.
#      位置插值：把位置除以扩展倍数，使所有角度都落在训练范围内，再做少量微调。
#   b) NTK-aware scaling: raise the base, so the high-frequency pairs barely change and the low-frequency
#      pairs are interpolated.
#      NTK-aware 缩放：增大 base，使高频对几乎不变、低频对被插值。
#   c) YaRN: interpolate per frequency band (keep high frequencies, interpolate low ones) and scale the
#      attention logits by a temperature.
#      YaRN：按频段插值（保留高频、插值低频），并用温度缩放注意力 logits。
#   d) Nothing is needed: RoPE is relative, so it extrapolates to any length.
#      什么都不用做：RoPE 是相对位置编码，所以能外推到任意长度。
#   e) Rotate more feature dimensions, so that more positions can be encoded.
#      旋转更多的特征维度，从而能编码更多位置。
ANSWERS["q4_long_context"] = {"a", "b", "c"}

# ----------------------------------------------------------------------------------------------------------
# 9. [q4_long_term_decay] myth or fact, with a reason, 1 pt (000 Q4; 000 advantage: global relative position
#   information)
# Myth or fact: RoPE's long-term decay means that the attention score between two tokens always decreases as
# their distance grows.
# 是误区还是事实：RoPE 的远程衰减意味着两个词之间的注意力分数总是随距离增大而减小。
# Reasons / 理由:
#   a) Fact: a rotation shrinks a vector a little more at every position.
#      事实：每多一个位置，旋转都会把向量缩短一点。
#   b) Myth: what decays is an upper bound of the score over all contents (RoFormer 3.4.3); a particular
#      score can rise with distance.
#      误区：衰减的是分数在所有内容上的上界（RoFormer 3.4.3 节）；具体某个分数可以随距离增大。
#   c) Myth: RoPE has no decay of any kind; only ALiBi does.
#      误区：RoPE 没有任何形式的衰减，只有 ALiBi 有。
ANSWERS["q4_long_term_decay"] = (False, "b")

# ----------------------------------------------------------------------------------------------------------
# 10. [q4_ntk_base] numeric, 2 pts (000 Q4)
# NTK-aware scaling extends a RoPE model by a factor s by replacing the base with base·s^(d/(d−2)). What is
# the new base for base = 10000, s = 4, head dimension d = 128? (relative tolerance 0.1 %)
# NTK-aware 缩放把 RoPE 模型的上下文扩展 s 倍，方法是把 base 换成 base·s^(d/(d−2))。当 base = 10000、s = 4、
# 头维度 d = 128 时，新的 base 是多少？（相对误差 0.1 %）
ANSWERS["q4_ntk_base"] = 40889.94

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
ANSWERS["app_vision"] = (False, "a")

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
ANSWERS["faq1_transformer"] = "b"

# ----------------------------------------------------------------------------------------------------------
# 13. [faq2_where_applied] single choice, 1 pt (001 FAQ 2: what is RoPE; 001 algorithm step 4 (wrong))
# Where, in a Transformer, is RoPE applied?
# RoPE 在 Transformer 的哪个位置起作用？
#   a) Once, on the input embeddings, before the first layer.
#      只在第一层之前，作用于输入词向量一次。
#   b) On the attention weights, after the softmax.
#      作用于 softmax 之后的注意力权重。
#   c) In every attention layer, on the queries and keys after their projections and before the dot product.
#      在每一层注意力中，作用于投影之后、点积之前的 query 和 key。
#   d) Concatenated to the input as extra features, as 001's step 4 says.
#      像 001 第 4 步所说，作为额外特征与输入拼接。
ANSWERS["faq2_where_applied"] = "c"

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
ANSWERS["faq4_applications"] = {"a", "d"}

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
#      计算正弦表，并与词向量逐元素相乘。
#   d) Build a T×T rotation matrix and multiply the attention score matrix by it.
#      构造一个 T×T 的旋转矩阵，并用它乘以注意力分数矩阵。
ANSWERS["faq5_algorithm"] = "b"

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
#      它不能和 KV cache 一起使用，因为序列变长时位置会变。
ANSWERS["faq7_limitations"] = {"a", "b", "c"}

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
ANSWERS["faq8_optimise"] = {"a", "b", "c"}

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
ANSWERS["myth_softmax_rotation"] = (False, "c")

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
ANSWERS["myth_odd_dimension"] = (False, "b")

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
#      误区：RoPE 的代价是 O(T·d²)，因为每个词都要乘一个 d×d 矩阵，比注意力还差。
ANSWERS["myth_complexity"] = (False, "a")

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
#      误区：RoPE 出自 Su 等人的 RoFormer（2021，arXiv 2104.09864）。
#   c) Myth: RoPE was introduced by Vaswani et al. 2017 together with the sinusoidal encoding.
#      误区：RoPE 由 Vaswani 等人 2017 年与正弦编码一起提出。
ANSWERS["myth_citation"] = (False, "b")

# ----------------------------------------------------------------------------------------------------------
# 22. [myth_sinusoidal_code] myth or fact, with a reason, 1 pt (000 Q1 code example)
# Myth or fact: 000's positional_encoding(512, 512) (exponents torch.arange(0, d_model // 2, 2), positions
# multiplied by 2i/d_model, torch.cat of sin and cos) computes the sinusoidal encoding of Vaswani et al., of
# shape [1, 512, 1024] as its comment says.
# 是误区还是事实：000 的 positional_encoding(512, 512)（指数用 torch.arange(0, d_model // 2, 2)，位置乘以
# 2i/d_model，再用 torch.cat 拼接 sin 和 cos）计算的是 Vaswani 等人的正弦编码，形状如注释所说为 [1, 512,
# 1024]。
# Reasons / 理由:
#   a) Fact: only the shape comment is off by the batch axis; the values are right.
#      事实：只是形状注释多了 batch 维，数值是对的。
#   b) Myth, but only because sin and cos should be swapped.
#      是误区，但只是因为 sin 和 cos 应该互换。
#   c) Myth: it makes d/4 exponents, multiplies p by 2i/d instead of dividing by 10000^(2i/d), concatenates
#      instead of interleaving, and its shape is not [1, 512, 1024].
#      误区：它只生成 d/4 个指数，用 p 乘以 2i/d 而不是除以 10000^(2i/d)，拼接而非交错，而且形状也不是 [1,
#      512, 1024]。
ANSWERS["myth_sinusoidal_code"] = (False, "c")

# ----------------------------------------------------------------------------------------------------------
# 23. [num_seed_sinusoidal_width] numeric, 1 pt (000 Q1 code example)
# 000's positional_encoding(length=512, d_model=512) prints "torch.Size([1, 512, 1024])" in its comment.
# What is the size of the last dimension it really returns? (exact)
# 000 的 positional_encoding(length=512, d_model=512) 在注释中写着输出 "torch.Size([1, 512, 1024])"。它实际
# 返回的最后一维大小是多少？（精确值）
ANSWERS["num_seed_sinusoidal_width"] = 256

# ----------------------------------------------------------------------------------------------------------
# 24. [myth_added_to_embeddings] myth or fact, with a reason, 1 pt (000 C2 classifier code (src = src +
#   pos_encoding))
# Myth or fact: like the sinusoidal encoding, RoPE is a table added to the token embeddings at the input
# (000's classifier does src = src + pos_encoding).
# 是误区还是事实：与正弦编码一样，RoPE 是在输入处加到词向量上的一张表（000 的分类器写的是 src = src +
# pos_encoding）。
# Reasons / 理由:
#   a) Myth: RoPE rotates q and k inside every attention layer; adding a table to the embeddings is an
#      absolute encoding.
#      误区：RoPE 在每一层注意力中旋转 q 和 k；把表加到词向量上是绝对位置编码。
#   b) Fact: RoPE is the sinusoidal table with a rotated phase.
#      事实：RoPE 就是相位旋转过的正弦表。
#   c) Myth: RoPE is added to the values v, not to the embeddings.
#      误区：RoPE 是加到 value v 上，而不是加到词向量上。
ANSWERS["myth_added_to_embeddings"] = (False, "a")

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
ANSWERS["myth_groups_of_positions"] = (False, "b")

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
ANSWERS["seed_code_bugs"] = {"a", "b", "c"}

# ----------------------------------------------------------------------------------------------------------
# 27. [why_base_10000] single choice, 1 pt (interviewer: why 10000)
# Why is the base 10000 in θ_i = 10000^(−2i/d)?
# 为什么 θ_i = 10000^(−2i/d) 中的 base 取 10000？
#   a) A design choice: the wavelengths then span 2π to about 2π·10000 tokens, longer than the contexts of
#      the time, so slow pairs do not wrap around.
#      一种设计选择：这样波长从 2π 到约 2π·10000 个词，比当时的上下文更长，低频对不会绕回。
#   b) It is the vocabulary size of the original Transformer.
#      它是原始 Transformer 的词表大小。
#   c) The relative property (R_mᵀR_n = R_{n−m}) only holds for base 10000.
#      只有 base = 10000 时相对性质 R_mᵀR_n = R_{n−m} 才成立。
#   d) It makes every pair periodic with a period of exactly 10000 tokens.
#      它使每一对的周期恰好是 10000 个词。
ANSWERS["why_base_10000"] = "a"

# ----------------------------------------------------------------------------------------------------------
# 28. [num_longest_wavelength] numeric, 2 pts (interviewer: why 10000; interviewer: larger base)
# For head dimension d = 128 and base 10000, what is the wavelength, in tokens, of the slowest RoPE pair
# (the last pair, i = d/2 − 1), i.e. the distance after which its angle has turned by 2π? (relative
# tolerance 0.1 %)
# 头维度 d = 128、base = 10000 时，最慢的一对 RoPE（最后一对，i = d/2 − 1）的波长是多少个词，即其角度转过 2π
# 所需的距离？（相对误差 0.1 %）
ANSWERS["num_longest_wavelength"] = 54410.14

# ----------------------------------------------------------------------------------------------------------
# 29. [why_only_qk] single choice, 1 pt (interviewer: why only q and k)
# Why does RoPE rotate the queries and keys but not the values?
# 为什么 RoPE 只旋转 query 和 key，而不旋转 value？
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
ANSWERS["why_only_qk"] = "b"

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
ANSWERS["larger_base"] = {"a", "b", "c"}

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
#      ALiBi 把 query 旋转一个与斜率成正比的角度。
ANSWERS["rope_vs_alibi"] = {"a", "b", "d"}

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
#      误区：因果掩码打破了对称性（第 t 个词恰好看到 t 个词），模型可以推断位置。
#   c) Myth: the feed-forward layers learn positions from the token ids.
#      误区：前馈层从词的 id 中学到位置。
ANSWERS["nope_causal"] = (False, "b")

# ----------------------------------------------------------------------------------------------------------
# 33. [kv_cache] single choice, 1 pt (interviewer: KV cache)
# During incremental decoding with a KV cache, how does RoPE work?
# 使用 KV cache 增量解码时，RoPE 如何工作？
#   a) RoPE cannot be used with a KV cache, because every position changes as the sequence grows.
#      RoPE 不能与 KV cache 一起用，因为序列变长时每个位置都会变。
#   b) Rotate the new token at position 0, since it is the only token in the current input.
#      把新词放在位置 0 旋转，因为它是当前输入中唯一的词。
#   c) Cache the values rotated too, so that all cached tensors are consistent.
#      把 value 也旋转后缓存，使缓存的张量保持一致。
#   d) Cache the keys already rotated; rotate only the new token's q and k, at its absolute position (the
#      cache length).
#      缓存已旋转的 key；每一步只旋转新词的 q 和 k，位置取其绝对位置（即缓存长度）。
ANSWERS["kv_cache"] = "d"

# ----------------------------------------------------------------------------------------------------------
# 34. [num_kv_position] numeric, 1 pt (interviewer: KV cache)
# A prompt of 37 tokens has been processed (positions start at 0) and its keys are in the cache. The model
# has generated 2 tokens since, also cached. Which position is the query of the next (3rd) generated token
# rotated at? (exact)
# 已处理了一个 37 个词的提示（位置从 0 开始），其 key 已在缓存中。此后模型又生成并缓存了 2 个词。下一个（第
# 3 个）生成的词的 query 应按哪个位置旋转？（精确值）
ANSWERS["num_kv_position"] = 40

# ----------------------------------------------------------------------------------------------------------
# 35. [num_angle] numeric, 2 pts (001 FAQ 5: how to implement; interviewer: compute an angle)
# Head dimension d = 64, base 10000, pairs numbered from 0 (pair i holds features 2i and 2i+1 and has θ_i =
# base^(−2i/d)). What is the rotation angle, in radians and not reduced modulo 2π, of pair 3 at position m =
# 100? (absolute tolerance 0.001)
# 头维度 d = 64，base = 10000，特征对从 0 开始编号（第 i 对包含特征 2i 和 2i+1，θ_i = base^(−2i/d)）。位置 m
# = 100 处第 3 对的旋转角是多少弧度（不对 2π 取模）？（绝对误差 0.001）
# (unit: rad)
ANSWERS["num_angle"] = 42.16965

# ----------------------------------------------------------------------------------------------------------
# 36. [num_flops] numeric, 2 pts (000 advantage: lower complexity (wrong); 001 FAQ 7 and 8)
# One attention head, T = 1024 tokens, head dimension d = 128, cos/sin tables precomputed. Rotating one
# feature pair costs 4 multiplications and 2 additions (x1·cos − x2·sin, x2·cos + x1·sin). How many FLOPs
# does applying RoPE to the queries and the keys of this head add? (exact)
# 一个注意力头，T = 1024 个词，头维度 d = 128，cos/sin 表已预先算好。旋转一个特征对需要 4 次乘法和 2 次加法
# （x1·cos − x2·sin，x2·cos + x1·sin）。对该头的 query 和 key 应用 RoPE 共增加多少次浮点运算？（精确值）
# (unit: FLOPs)
ANSWERS["num_flops"] = 786432

# ----------------------------------------------------------------------------------------------------------
# 37. [num_score_2d] numeric, 1 pt (000 Q3; interviewer: show the relative property)
# d = 2 (one pair) with θ = 1 rad per position. q = k = (1, 0); the query is at position m = 5 and the key
# at position n = 2. What is the score (R_m q)·(R_n k)? (absolute tolerance 0.001)
# d = 2（一对特征），θ = 每个位置 1 弧度。q = k = (1, 0)；query 位于位置 m = 5，key 位于位置 n = 2。分数
# (R_m q)·(R_n k) 是多少？（绝对误差 0.001）
ANSWERS["num_score_2d"] = -0.98999

# ----------------------------------------------------------------------------------------------------------
# 38. [num_yarn_factor] numeric, 1 pt (000 Q4; interviewer: YaRN)
# YaRN recommends scaling q and k by √(1/t) = 0.1·ln(s) + 1 (natural logarithm) when extending the context
# by a factor s. What is this factor for s = 16? (absolute tolerance 0.001)
# YaRN 建议在把上下文扩展 s 倍时，将 q 和 k 乘以 √(1/t) = 0.1·ln(s) + 1（自然对数）。s = 16 时该系数是多少？
# （绝对误差 0.001）
ANSWERS["num_yarn_factor"] = 1.27726
ANSWERS["seed_worked_example"] = {"a", "b", "c"}

# maintainer: the Track E items, added after this case was written, answered as the reference sheet does
ANSWERS["gqa_rope"] = "b"
ANSWERS["num_gqa_cache_bytes"] = 131072
ANSWERS["left_padding_positions"] = {"b", "c", "a"}
ANSWERS["num_left_pad_position"] = 21
ANSWERS["sliding_window_offsets"] = "b"
ANSWERS["cache_shift_rotation"] = (False, "a")
ANSWERS["num_streaming_position"] = 1024
ANSWERS["num_dynamic_ntk_base"] = 51293.78726815244
ANSWERS["dynamic_ntk_cache"] = "c"
ANSWERS["packed_sequences"] = {"b", "c", "a"}
ANSWERS["alibi_slopes_12_heads"] = "b"
ANSWERS["xpos_decay"] = "a"
ANSWERS["nope_recover_position"] = "a"
ANSWERS["mla_decoupled_rope"] = "a"
ANSWERS["roformer_derivation"] = "a"
ANSWERS["num_bf16_spacing"] = 256
ANSWERS["angle_precision"] = "b"
ANSWERS["num_men_first_negative"] = 1707
ANSWERS["xiong_abf"] = "a"
ANSWERS["myth_base_training_length"] = (False, "b")
