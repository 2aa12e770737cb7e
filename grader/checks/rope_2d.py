"""Hidden checks for exercises/rope_2d.py: grid_positions, axial 2-D RoPE, Qwen2-VL's M-RoPE.

The 2-D map is measured on basis vectors (as for 1-D RoPE) and compared with the definition: with one
row it must be 1-D RoPE on the first half of the features (adjacent pairs, theta_j = base**(-4j/d)),
with one column the same on the second half; scores must depend only on (delta row, delta col).
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import Mistake, call, check, expect_raises, fail, tensor_result, unfinished
from ..i18n import N_, tr
from ._rotations import expect_norms_kept, expect_rope, measure, theta

FREQS_2D = N_(
    "each axis has d/4 pairs with theta_j = base**(-4j/d) (the 1-D frequencies of dimension "
    "d/2); yours use base**(-2j/d), the frequencies of the full d"
)


BATCHED = N_(
    "positions with batch axes carry one position per token of each batch element: index the "
    "token and feature axes from the end (cat the angles along dim=-1, not a fixed axis)"
)


def _random(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def _rope_2d(impl, fixed: str, **kw):
    """apply(x, positions) with rows = 0 (fixed='rows') or cols = 0 (fixed='cols')."""

    def apply(x, positions):
        zeros = torch.zeros_like(positions)
        rows, cols = (zeros, positions) if fixed == "rows" else (positions, zeros)
        return call(impl, "apply_rope_2d", x, rows, cols, **kw)

    return apply


def _moves(block: np.ndarray) -> bool:
    """Whether the measured matrices [T, n, n] differ from the identity at some position."""
    return not np.allclose(block, np.eye(block.shape[-1])[None], atol=1e-9)


def _expect_half(matrices, positions, base, what) -> None:
    """The first d/2 features: 1-D RoPE with adjacent pairs over d/2 features; the rest unchanged."""
    try:
        expect_rope(matrices, positions, base, True, what, rotary_dim=matrices.shape[-1] // 2)
    except Mistake as mistake:
        if "frequencies use r" in str(mistake) or "exponent is -2i/d" in str(mistake):
            fail("{what}: {freqs_2d}", what=what, freqs_2d=FREQS_2D)
        if "`base` argument is ignored" in str(mistake) and base == 100.0:
            fail(
                "{what}: the default base is 100 (Heo et al.'s choice for patch grids); yours acts "
                "as base 10000",
                what=what,
            )
        if getattr(mistake, "cause", None) in ("pass-through", "rotary_dim"):
            fail(
                "{what}: half of the features (d/2 of {matrices_shape}) must rotate with this axis "
                "and the other half must not move",
                what=what,
                matrices_shape=matrices.shape[-1],
            )
        raise


@check(1, "returns a tensor of x's shape, dtype and device")
def test_shape_dtype(impl):
    rows, cols = torch.tensor([0, 0, 1, 1, 2]), torch.tensor([0, 1, 0, 1, 0])
    for dtype in (torch.float32, torch.bfloat16):
        x = _random(2, 3, 5, 16, dtype=dtype)
        out = tensor_result(call(impl, "apply_rope_2d", x, rows, cols), "apply_rope_2d(x, rows, cols)")
        if tuple(out.shape) != tuple(x.shape):
            fail(
                "x of shape {x_shape} gave shape {out_shape}; 2-D RoPE keeps x's shape",
                x_shape=tuple(x.shape),
                out_shape=tuple(out.shape),
            )
        if out.dtype != x.dtype or out.device != x.device:
            fail(
                "{dtype} x gave {out_dtype} on {out_device}; keep x's dtype and device",
                dtype=dtype,
                out_dtype=out.dtype,
                out_device=out.device,
            )
    # one grid per batch element: rows, cols [B, N] must act on x[b] as rows[b], cols[b] do alone
    x = _random(2, 5, 16, seed=5)
    rows, cols = (
        torch.tensor([[0, 0, 1, 1, 2], [3, 1, 4, 1, 5]]),
        torch.tensor([[0, 1, 0, 1, 0], [9, 2, 6, 5, 3]]),
    )
    what = tr("apply_rope_2d(x [2, 5, 16], rows [2, 5], cols [2, 5])")
    try:
        out = tensor_result(call(impl, "apply_rope_2d", x, rows, cols), what)
    except Mistake as exc:
        if unfinished(exc):
            raise
        fail("{what}: {exc}: {batched}", what=what, exc=exc, batched=BATCHED)
    each = [
        tensor_result(call(impl, "apply_rope_2d", x[b], rows[b], cols[b]), "apply_rope_2d") for b in (0, 1)
    ]
    if tuple(out.shape) != tuple(x.shape) or not torch.allclose(out, torch.stack(each), atol=1e-10):
        fail(
            "{what} differs from rotating each x[b] by rows[b], cols[b]: {batched}",
            what=what,
            batched=BATCHED,
        )


@check(3, "one row: 1-D RoPE of the column on the first half of the features")
def test_one_row(impl):
    positions = [0, 1, 2, 5, 9, 13]
    for dim in (16, 8, 4):
        what = tr("apply_rope_2d with rows = 0 (d = {dim})", dim=dim)
        m = measure(_rope_2d(impl, "rows"), dim, positions, what)
        half = dim // 2
        if not _moves(m[:, :half, :half]) and _moves(m[:, half:, half:]):
            fail(
                "{what}: the column rotates the second half of the features; the layout is column "
                "(x) first, row (y) second: features [0, d/2) turn with cols, [d/2, d) with rows",
                what=what,
            )
        _expect_half(m, positions, 100.0, what)


@check(2, "one column: 1-D RoPE of the row on the second half")
def test_one_column(impl):
    positions = [0, 1, 3, 4, 10]
    dim = 16
    what = tr("apply_rope_2d with cols = 0 (d = {dim})", dim=dim)
    m = measure(_rope_2d(impl, "cols"), dim, positions, what)
    half = dim // 2
    if not _moves(m[:, half:, half:]) and _moves(m[:, :half, :half]):
        fail(
            "{what}: the row rotates the first half of the features; the layout is column (x) "
            "first, row (y) second: features [0, d/2) turn with cols, [d/2, d) with rows",
            what=what,
        )
    order = np.r_[half:dim, 0:half]  # move the row half to the front
    _expect_half(m[:, order][:, :, order], positions, 100.0, what)


@check(1, "the base argument is used (default 100)")
def test_base(impl):
    x = _random(6, 16, seed=1)
    rows, cols = torch.tensor([0, 1, 2, 3, 4, 5]), torch.tensor([5, 3, 1, 0, 2, 4])
    default = tensor_result(call(impl, "apply_rope_2d", x, rows, cols), "apply_rope_2d")
    other = tensor_result(call(impl, "apply_rope_2d", x, rows, cols, base=1000.0), "apply_rope_2d(base=1000)")
    if torch.allclose(default, other):
        fail("base=1000 gives the same result as the default: the `base` argument is ignored")
    positions = [0, 1, 4, 7]
    m = measure(
        _rope_2d(impl, "rows", base=1000.0), 16, positions, tr("apply_rope_2d(base=1000) with rows = 0")
    )
    _expect_half(m, positions, 1000.0, tr("apply_rope_2d(base=1000) with rows = 0"))


@check(2, "the score of two patches depends only on (Δrow, Δcol)")
def test_relative(impl):
    q, k = _random(1, 32, seed=2), _random(1, 32, seed=3)

    def score(r1, c1, r2, c2):
        rq = tensor_result(
            call(impl, "apply_rope_2d", q, torch.tensor([r1]), torch.tensor([c1])), "apply_rope_2d"
        )
        rk = tensor_result(
            call(impl, "apply_rope_2d", k, torch.tensor([r2]), torch.tensor([c2])), "apply_rope_2d"
        )
        return float((rq * rk).sum())

    scale = float(q.norm() * k.norm())
    for (dr, dc), starts in (((2, 3), [(0, 0), (5, 1), (13, 40)]), ((-4, 1), [(4, 0), (9, 9), (50, 2)])):
        scores = [score(r, c, r + dr, c + dc) for r, c in starts]
        if max(scores) - min(scores) > 1e-9 * scale:
            fail(
                "patches {starts} and {value} score {scores:.6g}, but the same offset (Δrow, Δcol) "
                "= ({dr}, {dc}) from {starts2} scores {scores2:.6g}: q and k must get the same "
                "rotation rule (a true rotation per pair, angles linear in row and col)",
                starts=starts[0],
                value=(starts[0][0] + dr, starts[0][1] + dc),
                scores=scores[0],
                dr=dr,
                dc=dc,
                starts2=starts[1],
                scores2=scores[1],
            )
    base_score = score(0, 0, 0, 0)
    for delta in ((0, 3), (3, 0)):
        if abs(score(0, 0, *delta) - base_score) < 1e-9 * scale:
            fail(
                "(Δrow, Δcol) = {delta} scores the same as (0, 0): that axis is not encoded (rows "
                "rotate half of the pairs, cols the other half)",
                delta=delta,
            )
    if abs(score(0, 0, 0, 3) - score(0, 0, 3, 0)) < 1e-9 * scale:
        fail("(Δrow, Δcol) = (0, 3) and (3, 0) score the same: rows and cols must rotate different pairs")


@check(1, "norms preserved (each pair is rotated)")
def test_norm(impl):
    x = _random(3, 7, 32, seed=4)
    rows, cols = torch.tensor([0, 1, 2, 30, 99, 500, 7]), torch.tensor([0, 5, 2, 1, 3, 250, 1000])
    out = tensor_result(call(impl, "apply_rope_2d", x, rows, cols), "apply_rope_2d")
    expect_norms_kept(x, out, atol=1e-9)


@check(1, "grid_positions: row-major rows and columns")
def test_grid_positions(impl):
    for height, width in ((2, 3), (4, 1), (1, 5), (3, 3)):
        result = call(impl, "grid_positions", height, width)
        if not isinstance(result, tuple) or len(result) != 2:
            fail("grid_positions must return a tuple (rows, cols)")
        rows, cols = (tensor_result(t, "grid_positions") for t in result)
        n = height * width
        if tuple(rows.shape) != (n,) or tuple(cols.shape) != (n,):
            fail(
                "grid_positions({height}, {width}): rows and cols must have shape [{n}]",
                height=height,
                width=width,
                n=n,
            )
        if rows.is_floating_point() or cols.is_floating_point():
            fail("grid_positions must return integer tensors")
        t = list(range(n))
        want_rows, want_cols = [i // width for i in t], [i % width for i in t]
        if rows.tolist() == want_cols and cols.tolist() == want_rows and height != width:
            fail("rows and cols are swapped: patch t sits at row t // width, column t % width")
        if rows.tolist() != want_rows or cols.tolist() != want_cols:
            fail(
                "grid_positions({height}, {width}) is not raster order: patch t must sit at row t "
                "// width and column t % width (a row of the image first, then the next row)",
                height=height,
                width=width,
            )
    expect_raises(ValueError, impl, "grid_positions", 0, 4, why=tr("grid_positions(0, 4)"))
    expect_raises(ValueError, impl, "grid_positions", 3, 0, why=tr("grid_positions(3, 0)"))
    expect_raises(ValueError, impl, "grid_positions", -1, 2, why=tr("grid_positions(-1, 2)"))
    expect_raises(ValueError, impl, "grid_positions", 2, -3, why=tr("grid_positions(2, -3)"))


@check(1, "ValueError for d not divisible by 4, bad M-RoPE sections")
def test_value_errors(impl):
    rows, cols = torch.zeros(3, dtype=torch.long), torch.arange(3)
    for dim in (6, 7, 10):
        expect_raises(
            ValueError,
            impl,
            "apply_rope_2d",
            _random(3, dim),
            rows,
            cols,
            why=tr("d = {dim} (not a multiple of 4)", dim=dim),
        )
    positions = torch.arange(3).expand(3, 3)
    expect_raises(
        ValueError,
        impl,
        "apply_mrope",
        _random(3, 16),
        positions,
        (2, 3, 4),
        why=tr("sections adding up to 9 != d/2 = 8"),
    )
    expect_raises(
        ValueError,
        impl,
        "apply_mrope",
        _random(3, 16),
        positions[:2],
        (2, 3, 3),
        why=tr("positions with 2 rows, not 3"),
    )
    expect_raises(
        ValueError,
        impl,
        "apply_mrope",
        _random(3, 7),
        positions,
        (1, 1, 1),
        why=tr("apply_mrope with an odd d = 7 (sections adding up to d // 2 = 3)"),
    )


@check(2, "M-RoPE: text tokens (t = h = w) get 1-D RoPE")
def test_mrope_text(impl):
    positions = [0, 1, 2, 7, 30, 100]
    for dim, sections in ((16, (2, 3, 3)), (32, (4, 6, 6))):
        what = tr("apply_mrope (d = {dim}, sections {sections}, t = h = w)", dim=dim, sections=sections)
        apply = lambda x, p, s=sections: call(impl, "apply_mrope", x, p.expand(3, -1), s)  # noqa: E731
        m = measure(apply, dim, positions, what)
        try:
            expect_rope(m, positions, 10000.0, False, what)
        except Mistake as mistake:
            if "wrong pair layout" in str(mistake):
                fail(
                    "{what}: M-RoPE pairs features (j, j + d/2) like Qwen2-VL's Hugging Face code, "
                    "but your code rotates adjacent pairs (2j, 2j+1)",
                    what=what,
                )
            raise


@check(2, "M-RoPE: each pair rotates with its section's position")
def test_mrope_sections(impl):
    dim, sections = 16, (2, 3, 3)
    pos = torch.tensor([[5, 5, 5, 6], [0, 1, 2, 3], [7, 3, 11, 2]])  # temporal, height, width
    T, half = pos.shape[1], dim // 2
    basis = torch.eye(dim, dtype=torch.float64)[:, None, :].repeat(1, T, 1)  # [dim, T, dim]: e_j at t
    out = tensor_result(call(impl, "apply_mrope", basis, pos, sections), "apply_mrope")
    if tuple(out.shape) != (dim, T, dim):
        fail(
            "apply_mrope: x of shape {basis_shape} gave {out_shape}",
            basis_shape=tuple(basis.shape),
            out_shape=tuple(out.shape),
        )
    m = out.numpy().transpose(1, 2, 0)  # [T, dim, dim]
    i = np.arange(half)
    measured = np.arctan2(m[:, i + half, i], m[:, i, i])  # [T, d/2]: angle of half-split pair i
    th = theta(dim, 10000.0)
    per_kind = pos.numpy()[:, :, None] * th  # [3, T, d/2]
    kind = np.repeat(np.arange(3), sections)  # the section of each pair
    wrap = lambda a: (a + np.pi) % (2 * np.pi) - np.pi  # noqa: E731
    names = ("temporal", "height", "width")
    for j in range(half):
        if np.abs(wrap(measured[:, j] - per_kind[kind[j], :, j])).max() < 1e-6:
            continue
        follows = [k for k in range(3) if np.abs(wrap(measured[:, j] - per_kind[k, :, j])).max() < 1e-6]
        seen = (
            tr("it follows the {names} position", names=names[follows[0]])
            if follows
            else tr("its angle matches none of the three")
        )
        fail(
            "apply_mrope with sections {sections}: pair {j} (features {j}, {value}) must rotate "
            "with the {names} position, but {seen}: the first sections[0] pairs use t, the next "
            "sections[1] h, the last sections[2] w (pairs, not features)",
            sections=sections,
            j=j,
            value=j + half,
            names=names[kind[j]],
            seen=seen,
        )
    expected = np.cos(per_kind[kind, :, i].T)  # [T, d/2]
    if not np.allclose(m[:, i, i], expected, atol=1e-6):
        fail("apply_mrope: each pair must be a rotation [[cos, -sin], [sin, cos]] of its angle")
    # batched positions [3, B, T] and x [B, T, d]: batch element b rotates by positions[:, b]
    x = _random(2, T, dim, seed=6)
    batched = torch.stack((pos, pos.flip(-1)), dim=1)  # [3, 2, T]
    what = tr(
        "apply_mrope(x [2, {t}, {dim}], positions [3, 2, {t}], sections {sections})",
        t=T,
        dim=dim,
        sections=sections,
    )
    try:
        out = tensor_result(call(impl, "apply_mrope", x, batched, sections), what)
    except Mistake as exc:
        if unfinished(exc):
            raise
        fail("{what}: {exc}: {batched}", what=what, exc=exc, batched=BATCHED)
    each = [tensor_result(call(impl, "apply_mrope", x[b], batched[:, b], sections), what) for b in (0, 1)]
    if tuple(out.shape) != tuple(x.shape) or not torch.allclose(out, torch.stack(each), atol=1e-10):
        fail(
            "{what} differs from rotating each x[b] by positions[:, b]: {batched}", what=what, batched=BATCHED
        )
    # positions [3] (*batch empty): one (t, h, w) shared by every token
    what = tr("apply_mrope(x [{t}, {dim}], positions [3] = (5, 2, 7))", t=T, dim=dim)
    try:
        out = tensor_result(call(impl, "apply_mrope", x[0], torch.tensor([5, 2, 7]), sections), what)
    except Mistake as exc:
        if unfinished(exc):
            raise
        fail(
            "{what}: {exc}: positions of shape [3, *batch] with no batch axes give every token the "
            "same (t, h, w); a ValueError is only for a leading size other than 3",
            what=what,
            exc=exc,
        )
    shared = tensor_result(
        call(impl, "apply_mrope", x[0], torch.tensor([[5], [2], [7]]).expand(3, T), sections), what
    )
    if tuple(out.shape) != tuple(shared.shape) or not torch.allclose(out, shared, atol=1e-10):
        fail(
            "{what}: every token must rotate by the same (t, h, w) = (5, 2, 7): {batched}",
            what=what,
            batched=BATCHED,
        )
    # bf16 x at large positions: compared by value with the float64 definition
    x16 = _random(1, 8, dim, seed=7).to(torch.bfloat16)
    far = torch.arange(1000, 1008).expand(3, 8)  # text tokens far into a sequence: t = h = w
    what = tr("apply_mrope(bf16 x at positions 1000 .. 1007)")
    got = tensor_result(call(impl, "apply_mrope", x16, far, sections), what)
    if got.dtype != torch.bfloat16:
        fail("{what}: returned {got_dtype}; keep x's dtype", what=what, got_dtype=got.dtype)
    exact = tensor_result(call(impl, "apply_mrope", x16.to(torch.float64), far, sections), what)
    error = float((got.to(torch.float64) - exact).abs().max())
    if error > 0.06:
        fail(
            "{what} is off by up to {error:.2g} from your own float64 result at the same "
            "positions: the angles depend on x's dtype, so they were computed in bf16; compute "
            "positions * theta in float32 or float64, then cast",
            what=what,
            error=error,
        )
