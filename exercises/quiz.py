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

# ----------------------------------------------------------------------------------------------------------
# 10. [q4_ntk_base] numeric, 2 pts (000 Q4)
# NTK-aware scaling extends a RoPE model by a factor s by replacing the base with base·s^(d/(d−2)). What is
# the new base for base = 10000, s = 4, head dimension d = 128? (relative tolerance 0.1 %)
# NTK-aware 缩放把 RoPE 模型的上下文扩展 s 倍，方法是把 base 换成 base·s^(d/(d−2))。当 base = 10000、s = 4、
# 头维度 d = 128 时，新的 base 是多少？（相对容差 0.1 %）
ANSWERS["q4_ntk_base"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 23. [num_seed_sinusoidal_width] numeric, 1 pt (000 Q1 code example)
# 000's positional_encoding(length=512, d_model=512) prints "torch.Size([1, 512, 1024])" in its comment.
# What is the size of the last dimension it really returns? (exact)
# 000 的 positional_encoding(length=512, d_model=512) 在注释中写着输出 "torch.Size([1, 512, 1024])"。它实际
# 返回的最后一维大小是多少？（精确值）
ANSWERS["num_seed_sinusoidal_width"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 28. [num_longest_wavelength] numeric, 2 pts (interviewer: why 10000; interviewer: larger base)
# For head dimension d = 128 and base 10000, what is the wavelength, in tokens, of the slowest RoPE pair
# (the last pair, i = d/2 − 1), i.e. the distance after which its angle has turned by 2π? (relative
# tolerance 0.1 %)
# 头维度 d = 128、base = 10000 时，最慢的一对 RoPE（最后一对，i = d/2 − 1）的波长是多少个 token，即其角度转
# 过 2π 所需的距离？（相对容差 0.1 %）
ANSWERS["num_longest_wavelength"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 34. [num_kv_position] numeric, 1 pt (interviewer: KV cache)
# A prompt of 37 tokens has been processed (positions start at 0) and its keys are in the cache. The model
# has generated 2 tokens since, also cached. Which position is the query of the next (3rd) generated token
# rotated at? (exact)
# 已处理了一个 37 个 token 的提示（位置从 0 开始），其键已在缓存中。此后模型又生成并缓存了 2 个 token。下一
# 个（第 3 个）生成的 token 的查询应按哪个位置旋转？（精确值）
ANSWERS["num_kv_position"] = None

# ----------------------------------------------------------------------------------------------------------
# 35. [num_angle] numeric, 2 pts (001 FAQ 5: how to implement; interviewer: compute an angle)
# Head dimension d = 64, base 10000, pairs numbered from 0 (pair i holds features 2i and 2i+1 and has θ_i =
# base^(−2i/d)). What is the rotation angle, in radians and not reduced modulo 2π, of pair 3 at position m =
# 100? (absolute tolerance 0.001)
# 头维度 d = 64，base = 10000，特征对从 0 开始编号（第 i 对包含特征 2i 和 2i+1，θ_i = base^(−2i/d)）。位置 m
# = 100 处第 3 对的旋转角是多少弧度（不对 2π 取模）？（绝对容差 0.001）
# (unit: rad)
ANSWERS["num_angle"] = None

# ----------------------------------------------------------------------------------------------------------
# 36. [num_flops] numeric, 2 pts (000 advantage: lower complexity (wrong); 001 FAQ 7 and 8)
# One attention head, T = 1024 tokens, head dimension d = 128, cos/sin tables precomputed. Rotating one
# feature pair costs 4 multiplications and 2 additions (x1·cos − x2·sin, x2·cos + x1·sin). How many FLOPs
# does applying RoPE to the queries and the keys of this head add? (exact)
# 一个注意力头，T = 1024 个 token，头维度 d = 128，cos/sin 表已预先算好。旋转一个特征对需要 4 次乘法和 2 次
# 加法（x1·cos − x2·sin，x2·cos + x1·sin）。对该头的查询和键应用 RoPE 共增加多少次浮点运算？（精确值）
# (unit: FLOPs)
ANSWERS["num_flops"] = None

# ----------------------------------------------------------------------------------------------------------
# 37. [num_score_2d] numeric, 1 pt (000 Q3; interviewer: show the relative property)
# d = 2 (one pair) with θ = 1 rad per position. q = k = (1, 0); the query is at position m = 5 and the key
# at position n = 2. What is the score (R_m q)·(R_n k)? (absolute tolerance 0.001)
# d = 2（一对特征），θ = 每个位置 1 弧度。q = k = (1, 0)；查询位于位置 m = 5，键位于位置 n = 2。分数 (R_m
# q)·(R_n k) 是多少？（绝对容差 0.001）
ANSWERS["num_score_2d"] = None

# ----------------------------------------------------------------------------------------------------------
# 38. [num_yarn_factor] numeric, 1 pt (000 Q4; interviewer: YaRN)
# YaRN recommends scaling q and k by √(1/t) = 0.1·ln(s) + 1 (natural logarithm) when extending the context
# by a factor s. What is this factor for s = 16? (absolute tolerance 0.001)
# YaRN 建议在把上下文扩展 s 倍时，将 q 和 k 乘以 √(1/t) = 0.1·ln(s) + 1（自然对数）。s = 16 时该系数是多少？
# （绝对容差 0.001）
ANSWERS["num_yarn_factor"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 41. [num_gqa_cache_bytes] numeric, 2 pts (Track E)
# A Llama-3-8B-like model: 32 layers, 32 query heads, 8 KV heads (GQA), head_dim = 128, KV cache in
# bfloat16. How many bytes of KV cache does one token take, summed over all layers? (exact)
# 一个类似 Llama-3-8B 的模型：32 层，32 个查询头，8 个 KV 头（GQA），head_dim = 128，键值缓存用 bfloat16 存
# 储。一个 token 在所有层上一共占多少字节的键值缓存？（精确值）
# (unit: bytes)
ANSWERS["num_gqa_cache_bytes"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 43. [num_left_pad_position] numeric, 1 pt (Track E)
# In a left-padded generation batch, one row holds 13 pad tokens followed by a prompt of real tokens; the
# row is 34 columns wide. Position ids come from the attention mask as cumsum(mask) − 1 (positions start at
# 0). At which position must the first generated token of this row be rotated? (exact)
# 在一个左填充的生成批次中，某一行先是 13 个填充 token，后面是提示词中的真实 token；这一行共 34 列。位置 id
# 由注意力掩码按 cumsum(mask) − 1 计算（位置从 0 开始）。这一行生成的第一个 token 应按哪个位置旋转？（精确值
# ）
ANSWERS["num_left_pad_position"] = None

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

# ----------------------------------------------------------------------------------------------------------
# 46. [num_streaming_position] numeric, 1 pt (Track E)
# StreamingLLM setting: the cache keeps the first 4 tokens of the stream (attention sinks) and the 1020 most
# recent tokens; 10 000 tokens have been streamed so far. Positions are assigned within the cache, starting
# at 0. At which position is the query of the next (10 001st) token rotated? (exact)
# StreamingLLM 的设置：缓存保留数据流的前 4 个 token（注意力汇聚 token，即 attention sink）和最近的 1020 个
# token；目前已经流入 10 000 个 token。位置按缓存内的顺序分配，从 0 开始。下一个（第 10 001 个）token 的查询
# 按哪个位置旋转？（精确值）
ANSWERS["num_streaming_position"] = None

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
