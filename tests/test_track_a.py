"""Track A (issue 3): attention, absolute_vs_relative, rope_numpy, rotation_bug.

1. The reference solutions are right: float64 comparisons with independent constructions (torch's fused
   attention, the paper's rotation matrix written out) and with Stanford CS336's snapshots.
2. Every listed mistake fails the check meant for it, with a message naming the mistake: each wrong
   version is the reference solution with one deliberate change, graded exactly as a learner's file.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import ROOT, mutate, solution_source

from grader.catalog import get_exercise
from grader.loading import from_folder
from grader.runner import grade_exercise
from solutions import absolute_vs_relative, attention, rope_numpy, rotation_bug

PEER = ROOT.parent / "shared" / "peer" / "cs336"

# ----------------------------------------------------------------------------------------------
# 1. The references are right
# ----------------------------------------------------------------------------------------------


def test_attention_equals_torch_fused_attention_float64():
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 3, 5, 16, generator=g, dtype=torch.float64)
    k = torch.randn(2, 3, 7, 16, generator=g, dtype=torch.float64)
    v = torch.randn(2, 3, 7, 4, generator=g, dtype=torch.float64)
    mask = torch.rand(2, 1, 5, 7, generator=g) > 0.3
    mask[..., 0] = True
    for m in (None, mask):
        out, weights = attention.scaled_dot_product_attention(q, k, v, m)
        expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
        torch.testing.assert_close(out, expected, atol=1e-12, rtol=0)
        torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 5, dtype=torch.float64))
    scores = (q[0, 0] @ k[0, 0].T).numpy() / math.sqrt(16)  # by hand, one head
    w = np.exp(scores - scores.max(1, keepdims=True))
    w /= w.sum(1, keepdims=True)
    np.testing.assert_allclose(
        attention.scaled_dot_product_attention(q, k, v)[1][0, 0].numpy(), w, atol=1e-12
    )


def _cs336_inputs():
    torch.manual_seed(1)
    q = torch.randn(4, 12, 64)
    torch.manual_seed(2)
    k = torch.randn(4, 16, 64)
    torch.manual_seed(3)
    v = torch.randn(4, 16, 64)
    torch.manual_seed(5)
    mask = torch.randn(4, 12, 16) > 0.5
    return q, k, v, mask


@pytest.mark.skipif(not (PEER / "test_sdpa.npz").exists(), reason="shared/peer/cs336 not beside the repo")
def test_attention_matches_cs336_snapshot():
    expected = np.load(PEER / "test_sdpa.npz")["array"]
    out, _ = attention.scaled_dot_product_attention(*_cs336_inputs())
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6, rtol=1e-4)


@pytest.mark.skipif(not (PEER / "test_4d_sdpa.npz").exists(), reason="shared/peer/cs336 not beside the repo")
def test_attention_matches_cs336_4d_snapshot():
    expected = np.load(PEER / "test_4d_sdpa.npz")["array"]
    # "(batch head) seq d -> batch head seq d" with head = 2
    q, k, v, mask = (t.reshape(2, 2, *t.shape[1:]) for t in _cs336_inputs())
    out, _ = attention.scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 2, 12, 64)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-6, rtol=1e-4)


def test_permutation_equivariance_demo():
    g = torch.Generator().manual_seed(1)
    W = torch.randn(3, 8, 8, generator=g, dtype=torch.float64)
    x = torch.randn(2, 6, 8, generator=g, dtype=torch.float64)
    perm = torch.tensor([2, 0, 1, 5, 3, 4])

    def attend(x, causal=False):
        T = x.shape[-2]
        mask = torch.ones(T, T, dtype=torch.bool).tril() if causal else None
        return attention.scaled_dot_product_attention(x @ W[0], x @ W[1], x @ W[2], mask)[0]

    assert attention.is_permutation_equivariant(attend, x, perm) is True
    assert attention.is_permutation_equivariant(lambda x: attend(x, causal=True), x, perm) is False
    assert (
        attention.is_permutation_equivariant(lambda x: attend(x + torch.arange(6.0)[:, None]), x, perm)
        is False
    )


def paper_rotation_matrix(m: float, dim: int, base: float = 10000.0) -> np.ndarray:
    """RoFormer eq. (15), written out block by block."""
    R = np.zeros((dim, dim))
    for i in range(dim // 2):
        a = m * base ** (-2 * i / dim)
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    return R


@pytest.mark.parametrize("dim", [2, 6, 64])
def test_rope_numpy_equals_paper_float64(dim):
    rng = np.random.default_rng(2)
    positions = np.array([0, 1, 7, 1000, 60000])
    x = rng.standard_normal((3, len(positions), dim))
    out = rope_numpy.apply_rope(x, positions)
    for t, m in enumerate(positions):
        R = paper_rotation_matrix(m, dim)
        np.testing.assert_allclose(rope_numpy.rotation_matrix(m, dim), R, atol=1e-12)
        np.testing.assert_allclose(out[:, t], x[:, t] @ R.T, atol=1e-10)
        np.testing.assert_allclose(rotation_bug.fixed_matrix_at(m, dim), R, atol=1e-12)
    np.testing.assert_allclose(
        rope_numpy.rope_frequencies(dim), [10000 ** (-2 * i / dim) for i in range(dim // 2)]
    )


@pytest.mark.skipif(not (PEER / "test_rope.npz").exists(), reason="shared/peer/cs336 not beside the repo")
def test_rope_numpy_matches_cs336_snapshot():
    expected = np.load(PEER / "test_rope.npz")["array"]
    torch.manual_seed(4)
    x = torch.randn(4, 12, 64).numpy()
    np.testing.assert_allclose(rope_numpy.apply_rope(x, np.arange(12)), expected, atol=1e-6, rtol=1e-4)


def test_rope_numpy_relative_property_float64():
    for m, n in ((3, 10), (1000, 1031), (59000, 60000), (17, 3)):
        Rm, Rn = rope_numpy.rotation_matrix(m, 32), rope_numpy.rotation_matrix(n, 32)
        np.testing.assert_allclose(Rm.T @ Rn, rope_numpy.rotation_matrix(n - m, 32), atol=1e-9)


def test_measurements_on_the_three_schemes():
    d = 8
    pe = np.stack(
        [
            np.sin(np.arange(1024)[:, None] * rope_numpy.rope_frequencies(d)),
            np.cos(np.arange(1024)[:, None] * rope_numpy.rope_frequencies(d)),
        ],
        -1,
    ).reshape(1024, d)
    learned = np.random.default_rng(3).standard_normal((512, d))

    def rope(x, m):
        return rope_numpy.apply_rope(x[None], np.array([m]))[0]

    assert absolute_vs_relative.depends_only_on_offset(rope, d)
    assert not absolute_vs_relative.depends_only_on_offset(lambda x, m: x + pe[m], d)
    assert absolute_vs_relative.can_score(rope, 10**6, d)
    assert not absolute_vs_relative.can_score(lambda x, m: x + learned[m], 512, d)
    assert absolute_vs_relative.can_score(lambda x, m: x + learned[m], 511, d)


def test_document_matrix_is_what_the_document_prints_the_formula_of():
    """Eq. (4.2) of source 001; its printed numbers do not follow from it (row 1 must be uniform)."""
    R = rotation_bug.document_matrix(3)
    np.testing.assert_allclose(
        R[0], [1 / 3, 1 / 3, 1 / 3]
    )  # pos_1 = [1, 1, 1]; the document prints 0.4519...
    e = np.exp(0.1 * np.array([2.0, 4.0, 8.0]))  # pos_2 = [2, 4, 8] (the document prints [4, 2, 8])
    np.testing.assert_allclose(R[1], e / e.sum())
    assert not rotation_bug.is_rotation(R)
    assert not rotation_bug.preserves_norms(R)
    assert not rotation_bug.is_relative(lambda p: rotation_bug.document_matrix_at(p, 3))
    assert rotation_bug.is_relative(lambda p: rotation_bug.fixed_matrix_at(p, 4))
    with pytest.raises(ValueError, match="even"):
        rope_numpy.rotation_matrix(1, 3)


# ----------------------------------------------------------------------------------------------
# 2. Every listed mistake is caught, with a message naming it
# ----------------------------------------------------------------------------------------------

SCORES = "scores = q @ k.transpose(-2, -1) / math.sqrt(d)  # [..., Tq, Tk]"
MASK = 'scores = scores.masked_fill(~mask.to(torch.bool), float("-inf"))'
SOFTMAX = "weights = torch.softmax(scores, dim=-1)"
OUTPUT = "output = weights @ v  # [..., Tq, dv]"

# (wrong version, replacements in the solution, check name prefix that must fail, words in its message)
ATTENTION_MISTAKES = [
    ("missing 1/sqrt(d)", [(SCORES, "scores = q @ k.transpose(-2, -1)")], "scores scaled", "not scaled"),
    (
        "1/d instead of 1/sqrt(d)",
        [(SCORES, "scores = q @ k.transpose(-2, -1) / d")],
        "scores scaled",
        "divided by d",
    ),
    (
        "inverted mask",
        [(MASK, MASK.replace("~mask", "mask"))],
        "boolean mask",
        "mask is inverted",
    ),
    ("softmax over the wrong axis", [(SOFTMAX, SOFTMAX.replace("-1", "-2"))], "scores scaled", "wrong axis"),
    (
        "softmax over the wrong axis (rows check)",
        [(SOFTMAX, SOFTMAX.replace("-1", "-2"))],
        "each row of weights",
        "over the queries",
    ),
    (
        "mask applied after softmax",
        [
            (MASK, "pass"),
            (OUTPUT, "weights = weights if mask is None else weights.masked_fill(~mask, 0.0)\n    " + OUTPUT),
        ],
        "boolean mask",
        "after the softmax",
    ),
    (
        "rows not summing to 1 (exp without normalising)",
        [(SOFTMAX, "weights = torch.exp(scores)")],
        "each row of weights",
        "sum to 1 over the keys",
    ),
    (
        "batch/head broadcasting broken (transpose(1, 2))",
        [(SCORES, SCORES.replace("transpose(-2, -1)", "transpose(1, 2)"))],
        "broadcasts over batch and heads",
        "transpose only the last two axes",
    ),
    (
        "batch/head broadcasting broken (bmm)",
        [(SCORES, "scores = torch.bmm(q, k.transpose(-2, -1)) / math.sqrt(d)")],
        "broadcasts over batch and heads",
        "use @ rather than bmm",
    ),
    (
        "Tq != Tk unsupported",
        [
            (
                "d = q.shape[-1]",
                "d = q.shape[-1]\n    if q.shape[-2] != k.shape[-2]:\n"
                '        raise ValueError("q and k must have the same length")',
            )
        ],
        "Tq != Tk",
        "nothing in the formula needs them equal",
    ),
    (
        "torch's fused attention",
        [(OUTPUT, "output = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)")],
        "written by hand",
        "calls torch.nn.functional.scaled_dot_product_attention",
    ),
    (
        "nn.MultiheadAttention",
        [
            (
                OUTPUT,
                "mha = torch.nn.MultiheadAttention(d, 1, bias=False, batch_first=True).to(q.dtype)\n"
                "    mha(q, k, v)\n    " + OUTPUT,
            )
        ],
        "written by hand",
        "calls nn.MultiheadAttention",
    ),
    (
        "exp overflows (no max subtraction)",
        [(SOFTMAX, "e = scores.exp()\n    weights = e / e.sum(-1, keepdim=True)")],
        "float32 in, float32 out",
        "overflow",
    ),
    (
        "equivariance test that always says yes",
        [("return bool(torch.allclose(shuffled_first, shuffled_after, atol=atol, rtol=0))", "return True")],
        "is_permutation_equivariant: right verdict",
        "but your function says it is",
    ),
    (
        "equivariance test with a loose fixed tolerance",
        [("atol=atol, rtol=0", "atol=1e-2, rtol=0")],
        "is_permutation_equivariant: right verdict",
        "a layer adding a small position signal",
    ),
    (
        "equivariance test without shuffling the output",
        [("shuffled_after = layer(x)[..., perm, :]", "shuffled_after = layer(x)")],
        "is_permutation_equivariant: right verdict",
        "shuffle the unshuffled run's output by the same perm",
    ),
    (
        "equivariance test shuffling the output by the inverse permutation",
        [
            (
                "shuffled_after = layer(x)[..., perm, :]",
                "shuffled_after = layer(x)[..., torch.argsort(perm), :]",
            )
        ],
        "is_permutation_equivariant: right verdict",
        "shuffle the unshuffled run's output by the same perm",
    ),
    (
        "equivariance test permuting the batch axis",
        [("layer(x[..., perm, :])", "layer(x[perm])"), ("layer(x)[..., perm, :]", "layer(x)[perm]")],
        "is_permutation_equivariant: permutes the token axis",
        "shuffles the batch axis",
    ),
]

MATRIX_INSIDE = """
    R = np.stack([rotation_matrix(p, x.shape[-1], base) for p in positions])  # [T, d, d]
    return np.einsum("tij,...tj->...ti", R, x)
"""
MATRIX_INLINE = """
    d = x.shape[-1]
    R = np.zeros((len(positions), d, d))  # [T, d, d]
    c, s = np.cos(angles), np.sin(angles)
    R[:, 0::2, 0::2] = np.eye(d // 2) * c[:, None, :]
    R[:, 1::2, 1::2] = np.eye(d // 2) * c[:, None, :]
    R[:, 0::2, 1::2] = -np.eye(d // 2) * s[:, None, :]
    R[:, 1::2, 0::2] = np.eye(d // 2) * s[:, None, :]
    return np.einsum("tij,...tj->...ti", R, x)
"""
ANGLES_NP = "angles = np.asarray(positions, dtype=np.float64)[:, None] * theta  # [T, dim/2]"

ROPE_NUMPY_MISTAKES = [
    (
        "transposed rotation",
        [
            ("R[even, even], R[even, odd] = cos, -sin", "R[even, even], R[even, odd] = cos, sin"),
            ("R[odd, even], R[odd, odd] = sin, cos", "R[odd, even], R[odd, odd] = -sin, cos"),
        ],
        "rotation_matrix: block i",
        "wrong way",
    ),
    (
        "exponent i/d",
        [
            (
                "base ** (-np.arange(0, dim, 2, dtype=np.float64) / dim)",
                "base ** (-np.arange(0, dim // 2, dtype=np.float64) / dim)",
            )
        ],
        "rope_frequencies",
        "exponent is -2i/dim",
    ),
    (
        "half-split pairs in apply_rope",
        [
            (
                "x1, x2 = x[..., 0::2], x[..., 1::2]",
                "h = x.shape[-1] // 2\n    x1, x2 = x[..., :h], x[..., h:]",
            ),
            ("out[..., 0::2] =", "out[..., :h] ="),
            ("out[..., 1::2] =", "out[..., h:] ="),
        ],
        "apply_rope equals",
        "rotates half-split pairs",
    ),
    (
        "non-orthogonal matrix",
        [("R[even, even], R[even, odd] = cos, -sin", "R[even, even], R[even, odd] = cos, -cos")],
        "rotation_matrix is a rotation",
        "not orthogonal",
    ),
    (
        "apply_rope calls rotation_matrix",
        [
            (
                "    cos, sin = np.cos(angles), np.sin(angles)  # broadcast",
                MATRIX_INSIDE + "    cos, sin = np.cos(angles), np.sin(angles)  # broadcast",
            )
        ],
        "apply_rope never builds",
        "apply_rope calls rotation_matrix",
    ),
    (
        "apply_rope builds [T, d, d] inline",
        [
            (
                "    cos, sin = np.cos(angles), np.sin(angles)  # broadcast",
                MATRIX_INLINE + "    cos, sin = np.cos(angles), np.sin(angles)  # broadcast",
            )
        ],
        "apply_rope never builds",
        "a d x d rotation matrix is",
    ),
    (
        "odd dim accepted",
        [("if dim % 2 != 0 or dim < 2:", "if dim < 2:")],
        "ValueError for an odd dim",
        "odd dim 7",
    ),
    (
        "base ignored",
        [("return base ** (", "return 10000.0 ** (")],
        "rope_frequencies",
        "`base` argument is ignored",
    ),
    (
        "positions ignored (arange(T))",
        [
            (
                ANGLES_NP,
                ANGLES_NP.replace(
                    "np.asarray(positions, dtype=np.float64)", "np.arange(x.shape[-2], dtype=np.float64)"
                ),
            )
        ],
        "apply_rope equals",
        "`positions` argument is ignored",
    ),
    (
        "positions not broadcast over batch",
        [(ANGLES_NP, ANGLES_NP + "\n    angles = angles if x.ndim == 2 else angles[:1]")],
        "apply_rope: batch and head axes",
        "broadcast the [T, d/2] angles",
    ),
]

ABSOLUTE_MISTAKES = [
    ("only q moves", [("encode(k, n + s)", "encode(k, n)")], "shift_scores", "only one token moves"),
    (
        "measurement that always says same",
        [("                return False\n    return True", "                pass\n    return True")],
        "depends_only_on_offset: False for absolute",
        "but it changes when both tokens shift",
    ),
    (
        "exact comparison (no tolerance for rounding)",
        [("<= rtol * scale", "<= 0")],
        "depends_only_on_offset: True for relative",
        "allow float rounding",
    ),
    (
        "small shifts only",
        [("shift_scores(encode, q, k, m, n, SHIFTS)", "shift_scores(encode, q, k, m, n, [0, 1, 2, 5, 17])")],
        "depends_only_on_offset: shifts reach far",
        "shifts of several hundred",
    ),
    (
        "measurement ignores the rtol argument",
        [("<= rtol * scale", "<= 1e-9 * scale")],
        "depends_only_on_offset: True for relative",
        "with the `rtol` argument",
    ),
    (
        "can_score lets the IndexError escape",
        [("except (IndexError, ValueError, KeyError):", "except KeyError:")],
        "can_score",
        "can_score answers False there",
    ),
    (
        "can_score ignores NaN",
        [("return bool(np.isfinite(out).all())", "return True")],
        "can_score",
        "finite",
    ),
]

ORTHOGONAL = "orthogonal = np.abs(m.T @ m - np.eye(m.shape[0])).max() <= tol"
ROTATION_BUG_MISTAKES = [
    (
        "is_rotation tests det only",
        [(ORTHOGONAL, "orthogonal = True")],
        "is_rotation: False",
        "det alone is not enough",
    ),
    (
        "is_rotation accepts mirrors",
        [("abs(np.linalg.det(m) - 1.0) <= tol", "True")],
        "is_rotation: False",
        "det(m) = +1",
    ),
    (
        "is_rotation raises on non-square input",
        [
            (
                "if m.ndim != 2 or m.shape[0] != m.shape[1] or not np.isfinite(m).all():",
                "if not np.isfinite(m).all():",
            )
        ],
        "is_rotation: False",
        "do not raise",
    ),
    (
        "is_rotation compares floats exactly",
        [(ORTHOGONAL, "orthogonal = np.array_equal(m.T @ m, np.eye(m.shape[0]))")],
        "is_rotation: True for rotations",
        "within the tolerance",
    ),
    (
        "is_rotation ignores tol",
        [(".max() <= tol", ".max() <= 1e-8"), ("- 1.0) <= tol", "- 1.0) <= 1e-8")],
        "is_rotation: the tol argument",
        "compare the errors with `tol`",
    ),
    (
        "preserves_norms tests |det| = 1",
        [
            (
                "return bool(np.all(np.abs(after - before) <= tol * before))",
                "return bool(abs(abs(np.linalg.det(m)) - 1) <= tol)",
            )
        ],
        "preserves_norms",
        "changes the length of some x",
    ),
    (
        "is_relative always says yes",
        [("                    return False\n    return True", "                    pass\n    return True")],
        "is_relative",
        "changes when m and n shift together",
    ),
    (
        "is_relative compares with R(n - m)",
        [("B = matrices[m + s].T @ matrices[n + s]", "B = matrices[n - m] if n >= m else matrices[m - n].T")],
        "is_relative",
        "not with R(n-m)",
    ),
    (
        "fix rotates the wrong way (transposed)",
        [
            (
                "[[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]",
                "[[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]",
            )
        ],
        "fixed_matrix_at: RoPE",
        "wrong way",
    ),
    (
        "fix with exponent i/d",
        [("base ** (-np.arange(0, dim, 2) / dim)", "base ** (-np.arange(0, dim // 2) / dim)")],
        "fixed_matrix_at: RoPE",
        "exponent is -2i/d",
    ),
    (
        "the 'fix' is still the document's matrix",
        [
            (
                "    angles = position * base",
                "    return document_matrix_at(position, dim)\n    angles = position * base",
            )
        ],
        "fixed_matrix_at: RoPE",
        "mixed outside their pair",
    ),
    (
        "odd dim without a clear ValueError",
        [("if dim % 2 != 0 or dim < 2:", "if dim < 2:")],
        "fixed_matrix_at: ValueError",
        "should say why",
    ),
]

TABLES = {
    "attention": ATTENTION_MISTAKES,
    "rope_numpy": ROPE_NUMPY_MISTAKES,
    "absolute_vs_relative": ABSOLUTE_MISTAKES,
    "rotation_bug": ROTATION_BUG_MISTAKES,
}
CASES = [(exercise, *mistake) for exercise, table in TABLES.items() for mistake in table]


@pytest.mark.parametrize(
    "exercise_id, name, replacements, check_name, words", CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES]
)
def test_mistake_is_caught(tmp_path, exercise_id, name, replacements, check_name, words):
    exercise = get_exercise(exercise_id)
    source = mutate(solution_source(exercise.module), replacements)
    (tmp_path / f"{exercise.module}.py").write_text(source, encoding="utf-8")
    result = grade_exercise(exercise, from_folder(tmp_path))
    failed = {c.name: c.message for c in result.checks if not c.passed}
    assert failed, "the wrong version passed every check"
    matching = [n for n in failed if n.startswith(check_name)]
    assert matching, f"check '{check_name}...' passed; failures: {failed}"
    assert words in failed[matching[0]], f"message does not name the mistake: {failed[matching[0]]!r}"


@pytest.mark.parametrize("exercise_id", list(TABLES))
def test_reference_gets_full_marks(exercise_id):
    result = grade_exercise(get_exercise(exercise_id), from_folder(ROOT / "solutions"))
    assert result.all_passed, [(c.name, c.message) for c in result.checks if not c.passed]
