"""Hidden checks for exercises/rope.py: rope_cos_sin, apply_rope, apply_rope_complex."""

from __future__ import annotations

import numpy as np
import torch

from ..checking import call, call_inside, check, expect_raises, fail, tensor_result, tolerance
from ..i18n import tr
from ._rotations import differs_from_definition, expect_norms_kept, expect_rope, measure, rotate, theta


def _apply(impl, **fixed):
    return lambda x, positions, **kw: call(impl, "apply_rope", x, positions, **fixed, **kw)


def _random(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)


def _close(mine: torch.Tensor, expected: np.ndarray, dtype, what: str, scale: float = 1.0) -> None:
    rtol, atol = tolerance(dtype)
    got = mine.to(torch.float64).numpy()
    if got.shape != expected.shape:
        fail(
            "{what}: shape {got_shape}, expected {expected_shape}",
            what=what,
            got_shape=got.shape,
            expected_shape=expected.shape,
        )
    bad = ~np.isclose(got, expected, rtol=rtol * scale, atol=atol * scale)
    if bad.any():
        fail(differs_from_definition(what, got, expected, bad))


@check(1, "returns a tensor of x's shape, dtype and device")
def test_shape_dtype(impl):
    x = _random(2, 3, 7, 16)
    out = tensor_result(call(impl, "apply_rope", x, torch.arange(7)), "apply_rope(x, positions)")
    if tuple(out.shape) != tuple(x.shape):
        fail(
            "x of shape {x_shape} gave shape {out_shape}; RoPE keeps x's shape",
            x_shape=tuple(x.shape),
            out_shape=tuple(out.shape),
        )
    if out.dtype != x.dtype or out.device != x.device:
        fail(
            "float32 x gave {out_dtype} on {out_device}; keep x's dtype and device",
            out_dtype=out.dtype,
            out_device=out.device,
        )


@check(2, "position 0 is the identity (R_0 = I)")
def test_identity_at_zero(impl):
    x = _random(4, 16, dtype=torch.float64)
    out = tensor_result(call(impl, "apply_rope", x.clone(), torch.zeros(4, dtype=torch.long)), "apply_rope")
    if out.dtype != x.dtype or tuple(out.shape) != tuple(x.shape):
        fail(
            "float64 x {x_shape} gave {out_dtype} {out_shape}; keep x's dtype and shape",
            x_shape=tuple(x.shape),
            out_dtype=out.dtype,
            out_shape=tuple(out.shape),
        )
    if not torch.allclose(out, x, atol=1e-12):
        if torch.allclose(out.abs().sum(-1), torch.zeros(4, dtype=torch.float64)):
            fail("at position 0 the output is all zeros; R_0 must be the identity (cos 0 = 1)")
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        for signs, shown in (
            ((-1, 1), tr("(-x2, x1), a quarter turn")),
            ((1, 1), "(x2, x1)"),
            ((1, -1), "(x2, -x1)"),
        ):
            swapped = torch.cat([signs[0] * x2, signs[1] * x1], dim=-1)  # cos 0 and sin 0 trade places
            if torch.allclose(out, swapped, atol=1e-9):
                fail(
                    "with positions [0, 0, 0, 0] each pair (x1, x2) comes out as {shown}: sin and "
                    "cos swapped (cos 0 = 1, sin 0 = 0 must give x unchanged)",
                    cause="sin and cos swapped",
                    shown=shown,
                )
        by_index = rotate(x.numpy(), np.arange(4), 10000.0, interleaved=False)
        if np.allclose(out.numpy(), by_index, atol=1e-9):
            fail(
                "with positions [0, 0, 0, 0] the rows are rotated by 0, 1, 2, 3: the `positions` "
                "argument is not used as given",
                cause="positions",
            )
        error = float((out - x).abs().max())
        fail(
            "with positions [0, 0, 0, 0] RoPE must return x unchanged (cos 0 = 1, sin 0 = 0); "
            "yours differs from x by up to {error:.3g}",
            error=error,
        )


@check(2, "each pair is rotated (norms preserved)")
def test_norm_preserved(impl):
    x = _random(3, 9, 32, dtype=torch.float64, seed=1)
    positions = torch.tensor([0, 1, 2, 7, 50, 128, 999, 4096, 60000])
    out = tensor_result(call(impl, "apply_rope", x, positions), "apply_rope")
    expect_norms_kept(x, out, atol=1e-6)


@check(2, "half-split pairs (i, i + d/2) when interleaved=False")
def test_half_split(impl):
    positions = list(range(8))
    m = measure(_apply(impl, interleaved=False), 16, positions, "apply_rope(interleaved=False)")
    expect_rope(m, positions, 10000.0, False, "interleaved=False")


@check(2, "adjacent pairs (2i, 2i+1) when interleaved=True")
def test_interleaved(impl):
    positions = list(range(8))
    m = measure(_apply(impl, interleaved=True), 16, positions, "apply_rope(interleaved=True)")
    expect_rope(m, positions, 10000.0, True, "interleaved=True")


@check(3, "angles m * theta_i with theta_i = base**(-2i/d)")
def test_frequencies(impl):
    for dim, positions in ((64, [0, 1, 2, 3, 10, 100]), (2, [0, 1, 5]), (6, [3, 4])):
        m = measure(_apply(impl), dim, positions, f"apply_rope (dim {dim})")
        expect_rope(m, positions, 10000.0, False, f"dim {dim}")


@check(1, "the base argument is used")
def test_base(impl):
    positions = [0, 1, 2, 9]
    for base in (500.0, 1e6):
        m = measure(_apply(impl, base=base), 16, positions, f"apply_rope(base={base:g})")
        expect_rope(m, positions, base, False, f"base={base:g}")


@check(2, "positions used as given (offsets, gaps)")
def test_positions_as_given(impl):
    positions = [5, 6, 9, 30, 31, 100]
    m = measure(_apply(impl), 8, positions, tr("apply_rope with positions [5, 6, 9, 30, 31, 100]"))
    expect_rope(m, positions, 10000.0, False, "positions [5, 6, 9, 30, 31, 100]")


@check(1, "positions broadcast over batch and heads, and may differ per row")
def test_broadcast(impl):
    x = _random(2, 3, 5, 8, dtype=torch.float64, seed=2)  # [B, H, T, d]
    for positions in (torch.arange(5) + 3, torch.tensor([[[0, 1, 2, 3, 4]], [[10, 20, 30, 40, 50]]])):
        out = tensor_result(call(impl, "apply_rope", x.clone(), positions), "apply_rope")
        expected = rotate(x.numpy(), positions.numpy(), 10000.0, interleaved=False)
        _close(
            out,
            expected,
            torch.float64,
            tr("positions of shape {positions_shape}", positions_shape=tuple(positions.shape)),
            scale=1e5,
        )
    # x [B, T, d] with positions [B, T] that differ per row (not by a constant shift)
    x3 = _random(3, 5, 8, dtype=torch.float64, seed=3)
    per_row = torch.tensor([[0, 1, 2, 3, 4], [0, 2, 4, 6, 8], [7, 3, 9, 1, 100]])
    for interleaved in (False, True):
        what = tr(
            "x [3, 5, 8] with positions [3, 5] that differ per row (interleaved={interleaved})",
            interleaved=interleaved,
        )
        out = tensor_result(call(impl, "apply_rope", x3.clone(), per_row, interleaved=interleaved), what)
        _close(out, rotate(x3.numpy(), per_row.numpy(), 10000.0, interleaved), torch.float64, what, scale=1e5)


@check(2, "relative position: <R_m q, R_n k> = <q, R_(n-m) k>")
def test_relative(impl):
    q, k = _random(1, 64, dtype=torch.float64, seed=3), _random(1, 64, dtype=torch.float64, seed=4)
    for interleaved in (False, True):
        for m, n in ((3, 10), (100, 107), (5000, 5007), (7, 2)):
            rq = tensor_result(
                call(impl, "apply_rope", q, torch.tensor([m]), interleaved=interleaved), "apply_rope"
            )
            rk = tensor_result(
                call(impl, "apply_rope", k, torch.tensor([n]), interleaved=interleaved), "apply_rope"
            )
            rel = tensor_result(
                call(impl, "apply_rope", k, torch.tensor([n - m]), interleaved=interleaved), "apply_rope"
            )
            score, relative = float((rq * rk).sum()), float((q * rel).sum())
            same = tensor_result(
                call(impl, "apply_rope", k, torch.tensor([m]), interleaved=interleaved), "apply_rope"
            )
            if abs(float((rq * same).sum()) - float((q * k).sum())) > 1e-3 * float(q.norm() * k.norm()):
                fail(
                    "q and k both at position {m} must score exactly q.k (the same rotation "
                    "cancels), but yours differ: is each pair really rotated (not scaled or "
                    "zeroed)?",
                    m=m,
                )
            if abs(score - relative) > 1e-3 * float(q.norm() * k.norm()):
                fail(
                    "q.k at positions ({m}, {n}) is {score:.5g} but q.(R_(n-m) k) is "
                    "{relative:.5g}: the score must depend only on n - m (same angle formula for q "
                    "and k, a true rotation per pair)",
                    m=m,
                    n=n,
                    score=score,
                    relative=relative,
                )


def _fresh_input(apply_rope, shape, seed: int, positions, **kwargs):
    """In the learner's process: apply_rope on x = randn(shape) drawn right here, so that no freed
    buffer of this process holds x's values (memory the function allocates but never writes, such as
    torch.empty_like, cannot pass for the input: a freed copy of an earlier input could)."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return apply_rope(x, positions, **kwargs)


@check(2, "partial rotary: rotary_dim rotates the first r features only")
def test_rotary_dim(impl):
    positions = [0, 1, 3, 17]
    for interleaved in (False, True):
        m = measure(
            _apply(impl, rotary_dim=8, interleaved=interleaved),
            12,
            positions,
            f"apply_rope(rotary_dim=8, interleaved={interleaved})",
        )
        expect_rope(
            m, positions, 10000.0, interleaved, f"rotary_dim=8, interleaved={interleaved}", rotary_dim=8
        )
        # random values past rotary_dim, drawn in the learner's process (see _fresh_input)
        shape, seed = (len(positions), 12), 13 + interleaved
        x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        what = tr("apply_rope(rotary_dim=8, interleaved={interleaved})", interleaved=interleaved)
        kw = dict(rotary_dim=8, interleaved=interleaved)
        out = tensor_result(
            call_inside(_fresh_input, impl, "apply_rope", shape, seed, torch.tensor(positions), **kw), what
        )
        if tuple(out.shape) == tuple(x.shape) and not torch.equal(out[..., 8:], x[..., 8:]):
            fail(
                "{what}: features 8..11 differ from the input's; the features past rotary_dim pass "
                "through unchanged (out[..., r:] = x[..., r:])",
                what=what,
            )


@check(1, "bf16 in, bf16 out")
def test_bf16(impl):
    x = _random(2, 6, 32, dtype=torch.bfloat16, seed=5)
    positions = torch.arange(6) * 7
    out = tensor_result(call(impl, "apply_rope", x, positions), "apply_rope(bf16 x)")
    if out.dtype != torch.bfloat16:
        fail("bf16 x gave {out_dtype}; cast the result (or cos/sin) to x.dtype", out_dtype=out.dtype)
    expected = rotate(x.to(torch.float64).numpy(), positions.numpy(), 10000.0, interleaved=False)
    _close(out, expected, torch.bfloat16, "bf16 x")


@check(2, "angles precise at large positions (~60 000) in bf16 and fp16")
def test_large_positions(impl):
    positions = list(range(60000, 60008))
    # float64 x first: a wrong formula shows here and is named; float32 angles are still allowed
    m = measure(_apply(impl), 16, positions, "apply_rope (float64 x at positions ~60 000)")
    expect_rope(m, positions, 10000.0, False, "float64 x at positions ~60 000", angle_tol=1e-2)
    for dtype in (torch.bfloat16, torch.float16):
        x = _random(3, 8, 64, dtype=dtype, seed=6)
        out = tensor_result(call(impl, "apply_rope", x, torch.tensor(positions)), f"apply_rope({dtype} x)")
        expected = rotate(x.to(torch.float64).numpy(), np.array(positions), 10000.0, interleaved=False)
        got = out.to(torch.float64).numpy()
        if got.shape != expected.shape or not np.isfinite(got).all():
            fail("{dtype} x at positions ~60 000: wrong shape or NaN/inf in the output", dtype=dtype)
        error = np.abs(got - expected).max()
        if error > 0.06:
            fail(
                "{dtype} x at positions ~60 000 is off by up to {error:.2g}, although float64 x at "
                "the same positions is right: the angles depend on x's dtype, so they were "
                "computed in {replace} (low precision); compute positions * theta in float32 or "
                "float64, then cast cos/sin",
                cause="low precision",
                dtype=dtype,
                error=error,
                replace=str(dtype).replace("torch.", ""),
            )


def _gradient(apply_rope, x, positions, w):
    """In the learner's process: (what happened, d<apply_rope(x, positions), w>/dx)."""
    out = apply_rope(x, positions)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        return "no graph", None
    try:
        (out * w).sum().backward()
    except RuntimeError as exc:
        return tr(
            "backward through apply_rope failed ({splitlines})", splitlines=str(exc).splitlines()[0][:120]
        ), None
    return "", x.grad


@check(1, "gradients flow through apply_rope (training works)")
def test_autograd(impl):
    x = _random(2, 4, 8, dtype=torch.float64, seed=11).requires_grad_(True)
    w = _random(2, 4, 8, dtype=torch.float64, seed=12)
    positions = torch.tensor([0, 3, 9, 40])
    # an out= write fails here, with its own message
    failure, grad = call_inside(_gradient, impl, "apply_rope", x, positions, w)
    if failure == "no graph":
        fail(
            "the output does not require grad when x does: autograd cannot train through apply_rope "
            "(out= arguments and .detach() break the graph; write the result with plain operations)"
        )
    if failure:
        fail("{failure}; functions with out= arguments do not support autograd", failure=failure)
    # The gradient of a rotation is the inverse rotation: d<R(m) x, w>/dx = R(-m) w.
    expected = rotate(w.detach().numpy(), -positions.numpy(), 10000.0, interleaved=False)
    _close(
        tensor_result(grad, tr("the gradient of apply_rope")),
        expected,
        torch.float64,
        tr("the gradient of apply_rope"),
        scale=1e5,
    )


@check(1, "x is not modified in place")
def test_not_in_place(impl):
    x = _random(2, 5, 16, seed=7)
    before = x.clone()
    tensor_result(call(impl, "apply_rope", x, torch.arange(5) + 1), "apply_rope")
    if not torch.equal(x, before):
        fail("apply_rope changed its input x; write the result into a new tensor")


def _drawn(apply_rope, shape, seed, transposed, positions, **kwargs):
    """In the learner's process: apply_rope on x = randn(shape), or on its view x.transpose(1, 2)
    (attention's q [B, T, H, d] seen as [B, H, T, d], not contiguous), built there so that the
    layout reaches the learner's code as it is."""
    x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return apply_rope(x.transpose(1, 2) if transposed else x, positions, **kwargs)


@check(1, "any layout of x: a large tensor, a transposed view")
def test_layouts(impl):
    positions = torch.arange(64)  # x [2, 32, 64, 32]: 131 072 numbers, T = 64
    cases = (  # (shape drawn, transposed, keyword arguments, what)
        ((2, 32, 64, 32), False, {}, tr("a large contiguous x [2, 32, 64, 32]")),
        ((2, 64, 32, 32), True, {}, tr("x = randn(2, 64, 32, 32).transpose(1, 2), a [2, 32, 64, 32] view")),
        ((2, 64, 32, 32), True, {"interleaved": True}, tr("the transposed view with interleaved=True")),
        ((2, 64, 32, 32), True, {"rotary_dim": 16}, tr("the transposed view with rotary_dim=16")),
    )
    for seed, (shape, transposed, kwargs, what) in enumerate(cases, start=20):
        out = call_inside(_drawn, impl, "apply_rope", shape, seed, transposed, positions, **kwargs)
        out = tensor_result(out, what)
        x = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        x = (x.transpose(1, 2) if transposed else x).numpy()
        r = kwargs.get("rotary_dim", x.shape[-1])
        rotated = rotate(x[..., :r], positions.numpy(), 10000.0, kwargs.get("interleaved", False))
        _close(out, np.concatenate((rotated, x[..., r:]), axis=-1), torch.float64, what, scale=1e5)


def _largest_tensor(apply_rope, x, positions):
    """In the learner's process: apply_rope(x, positions) and the most elements of any tensor a torch
    function returned meanwhile."""
    from torch.overrides import TorchFunctionMode  # cheap; TorchDispatchMode imports torch._dynamo

    largest = [0]

    class Largest(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for leaf in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(leaf, torch.Tensor):
                    largest[0] = max(largest[0], leaf.numel())
            return out

    with Largest():
        out = apply_rope(x, positions)
    return out, largest[0]


@check(1, "no [T, dim, dim] rotation matrix is built")
def test_no_matrix(impl):
    T, dim = 64, 64
    x = _random(T, dim, seed=8)
    out, largest = call_inside(_largest_tensor, impl, "apply_rope", x, torch.arange(T))
    tensor_result(out, "apply_rope")
    if not isinstance(largest, int) or largest >= T * dim * dim // 4:
        fail(
            "apply_rope built a tensor of {largest} elements for T={t}, dim={dim}: a [T, dim, dim] "
            "rotation matrix is O(T d^2) memory; rotate the pairs element-wise instead",
            largest=largest,
            t=T,
            dim=dim,
        )


@check(1, "ValueError for odd dim or rotary_dim, or rotary_dim > dim")
def test_odd_sizes(impl):
    positions = torch.arange(3)
    expect_raises(ValueError, impl, "apply_rope", _random(3, 7), positions, why=tr("odd dim 7"))
    expect_raises(
        ValueError, impl, "apply_rope", _random(3, 8), positions, rotary_dim=5, why=tr("odd rotary_dim 5")
    )
    expect_raises(
        ValueError,
        impl,
        "apply_rope",
        _random(3, 8),
        positions,
        rotary_dim=10,
        why=tr("rotary_dim 10 > dim 8"),
    )
    expect_raises(
        ValueError,
        impl,
        "apply_rope",
        _random(3, 7),
        positions,
        rotary_dim=4,
        why=tr("odd dim 7 (rotary_dim 4)"),
    )
    expect_raises(
        ValueError,
        impl,
        "apply_rope",
        _random(3, 8),
        positions,
        rotary_dim=-2,
        why=tr("negative rotary_dim -2"),
    )
    expect_raises(ValueError, impl, "rope_cos_sin", positions, 7, why=tr("rope_cos_sin with odd dim 7"))
    expect_raises(
        ValueError,
        impl,
        "apply_rope_complex",
        _random(3, 7),
        positions,
        why=tr("apply_rope_complex with odd dim 7"),
    )


@check(2, "rope_cos_sin: half-split table, precise angles, dtype")
def test_cos_sin(impl):
    positions = torch.tensor([[0, 1, 2], [7, 100, 60000]])
    dim = 16
    result = call(impl, "rope_cos_sin", positions, dim, 10000.0, dtype=torch.float64)
    if not isinstance(result, tuple) or len(result) != 2:
        fail("rope_cos_sin must return a tuple (cos, sin)")
    cos, sin = (tensor_result(t, "rope_cos_sin") for t in result)
    if tuple(cos.shape) != (2, 3, dim) or tuple(sin.shape) != (2, 3, dim):
        fail(
            "cos and sin must have shape [*positions.shape, dim] = (2, 3, {dim}), got {cos_shape} "
            "and {sin_shape}",
            dim=dim,
            cos_shape=tuple(cos.shape),
            sin_shape=tuple(sin.shape),
        )
    angles = positions.numpy()[..., None].astype(np.float64) * theta(dim, 10000.0)
    half = dim // 2
    if torch.allclose(cos[..., 0::2], cos[..., 1::2]) and not torch.allclose(
        cos[..., :half], cos[..., half:]
    ):
        fail(
            "the table is interleaved (repeat_interleave); rope_cos_sin uses the half-split layout "
            "cat(freqs, freqs): column j and j + dim/2 share an angle"
        )
    if not torch.allclose(cos[..., :half], cos[..., half:]):
        fail("cos[..., j] and cos[..., j + dim/2] must be equal: the table is cat(freqs, freqs)")
    expected = np.concatenate([angles, angles], axis=-1)
    atol = 1e-6 + 1.2e-7 * np.abs(expected)  # angles computed in float32 or better
    for name, table, want in (("cos", cos.numpy(), np.cos(expected)), ("sin", sin.numpy(), np.sin(expected))):
        bad = np.abs(table - want) > atol
        if bad.any():
            if np.all(np.abs(cos.numpy() - np.sin(expected)) <= atol):
                fail("cos and sin are swapped")
            where = tuple(int(i) for i in np.argwhere(bad)[0])
            fail(
                "dtype=float64: {name}[{where}, {where2}, {where3}] (position {positions}, column "
                "{where3}) is {table:.6g}; {name}(positions * theta_j) with theta_j = "
                "base**(-2j/dim) (j = column mod dim/2) is {want:.6g} ({bad_sum} of {size} values "
                "differ)",
                cause="cos/sin table",
                name=name,
                where=where[0],
                where2=where[1],
                where3=where[2],
                positions=int(positions[where[0], where[1]]),
                table=table[where],
                want=want[where],
                bad_sum=bad.sum(),
                size=bad.size,
            )
    result = call(impl, "rope_cos_sin", positions, dim, 500.0, dtype=torch.float64)
    angles500 = positions.numpy()[..., None].astype(np.float64) * theta(dim, 500.0)
    want = np.cos(np.concatenate([angles500, angles500], axis=-1))
    got = tensor_result(result[0], "rope_cos_sin") if isinstance(result, tuple) and len(result) == 2 else None
    tol = 1e-6 + 1.2e-7 * np.abs(np.concatenate([angles500, angles500], axis=-1))  # float32 angles
    if got is None or tuple(got.shape) != want.shape or not np.all(np.abs(got.numpy() - want) <= tol):
        same = (
            got is not None and tuple(got.shape) == want.shape and np.allclose(got.numpy(), np.cos(expected))
        )
        fail(
            tr(
                "rope_cos_sin(positions, 16, base=500): the base argument is ignored (the table is base "
                "10000's)"
            )
            if same
            else tr(
                "rope_cos_sin(positions, 16, base=500): cos differs from cos(positions * 500**(-2j/dim))"
            ),
            cause="base" if same else "cos/sin table",
        )
    cos16, sin16 = call(impl, "rope_cos_sin", positions, dim, dtype=torch.bfloat16)
    if cos16.dtype != torch.bfloat16 or sin16.dtype != torch.bfloat16:
        fail("dtype=torch.bfloat16 must return bf16 tables, got {cos16_dtype}", cos16_dtype=cos16.dtype)
    if not np.allclose(cos16.to(torch.float64).numpy(), np.cos(expected), atol=1.5e-2):
        fail(
            "the float64 table is right, but with dtype=bfloat16 it is wrong at large positions: the "
            "angles depend on `dtype`, so they were computed in it; compute them in float32 or float64 "
            "and cast only cos and sin to the requested dtype",
            cause="low precision",
        )


@check(2, "apply_rope_complex: the complex form of adjacent-pair RoPE")
def test_complex(impl):
    positions = [0, 1, 4, 33]
    apply = lambda x, p, **kw: call(impl, "apply_rope_complex", x, p, **kw)  # noqa: E731
    m = measure(apply, 16, positions, "apply_rope_complex")
    expect_rope(m, positions, 10000.0, True, "apply_rope_complex")
    m = measure(apply, 8, positions, "apply_rope_complex(base=100)", base=100.0)
    expect_rope(m, positions, 100.0, True, "apply_rope_complex(base=100)")
    x3 = _random(2, 3, 8, dtype=torch.float64, seed=14)
    per_row = torch.tensor([[0, 1, 2], [4, 8, 16]])
    what = tr("apply_rope_complex(x [2, 3, 8], positions [2, 3] that differ per row)")
    out = tensor_result(apply(x3, per_row), what)
    _close(out, rotate(x3.numpy(), per_row.numpy(), 10000.0, True), torch.float64, what, scale=1e5)
    x = _random(5, 8, dtype=torch.bfloat16, seed=9)
    out = tensor_result(apply(x, torch.arange(5)), "apply_rope_complex(bf16 x)")
    if out.dtype != torch.bfloat16 or tuple(out.shape) != (5, 8):
        fail(
            "apply_rope_complex: bf16 x of shape (5, 8) gave {out_dtype} {out_shape}; view the "
            "result as real, flatten the pairs and cast back to x.dtype",
            out_dtype=out.dtype,
            out_shape=tuple(out.shape),
        )


@check(1, "the three forms agree (half-split = permuted interleaved = complex)")
def test_forms_agree(impl):
    x = _random(2, 6, 16, dtype=torch.float64, seed=10)
    positions = torch.tensor([0, 3, 8, 21, 400, 1000])
    perm = torch.cat([torch.arange(0, 16, 2), torch.arange(1, 16, 2)])  # adjacent -> half-split order
    adjacent = tensor_result(call(impl, "apply_rope", x, positions, interleaved=True), "apply_rope")
    half = tensor_result(call(impl, "apply_rope", x[..., perm], positions), "apply_rope")
    complex_form = tensor_result(call(impl, "apply_rope_complex", x, positions), "apply_rope_complex")
    if not torch.allclose(half, adjacent[..., perm], atol=1e-3):
        fail(
            "apply_rope(x[..., perm]) must equal apply_rope(x, interleaved=True)[..., perm] where perm "
            "lists even features then odd ones: the two layouts are one map up to a permutation"
        )
    if not torch.allclose(complex_form, adjacent, atol=1e-3):
        fail("apply_rope_complex(x) must equal apply_rope(x, interleaved=True)")


def _takes_table(apply_rope) -> bool:
    """In the learner's process: does apply_rope accept the optional cos_sin table?"""
    import inspect

    try:
        parameters = inspect.signature(apply_rope).parameters
    except (TypeError, ValueError):
        return False
    return "cos_sin" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


@check(1, "cos_sin: a precomputed table gives the same rotation")
def test_cos_sin_table(impl):
    if not call_inside(_takes_table, impl, "apply_rope"):
        return  # the table is an optional extra of the API: an apply_rope without it is complete
    x = _random(2, 3, 1, 16, dtype=torch.float64, seed=15)  # [B, H, T=1, d]: one decoding step
    positions = torch.tensor([[[1000]], [[7]]])  # [B, 1, T]: a late step and an early one
    for interleaved, rotary_dim in ((False, None), (True, None), (False, 8)):
        r = rotary_dim or 16
        table = call(impl, "rope_cos_sin", positions, r, 500.0, dtype=torch.float64)
        what = tr(
            "apply_rope(x [2, 3, 1, 16], interleaved={interleaved}, rotary_dim={rotary_dim}, cos_sin=table)",
            interleaved=interleaved,
            rotary_dim=rotary_dim,
        )
        out = tensor_result(
            call(
                impl,
                "apply_rope",
                x,
                positions,
                base=500.0,
                interleaved=interleaved,
                rotary_dim=rotary_dim,
                cos_sin=table,
            ),
            what,
        )
        expected = x.numpy().copy()
        expected[..., :r] = rotate(x[..., :r].numpy(), positions.numpy(), 500.0, interleaved)
        _close(out, expected, torch.float64, what, scale=1e7)  # float32 angles are allowed
