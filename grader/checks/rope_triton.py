"""Hidden checks for exercises/rope_triton.py: apply_rope_qk, RoPE for q and k in one Triton launch.

Without a CUDA device the learner's kernel runs under Triton's interpreter (numpy on the CPU): this
module sets TRITON_INTERPRET=1 when it is imported, in the grader, before the learner's module (imported
later, in the forked child) imports triton and decorates its kernel. With a CUDA device it runs compiled.
The judge keeps its tensors on the CPU (CUDA is never initialised before a fork): `_qk_in_child` moves
them to the device, builds non-contiguous views and counts kernel launches in the learner's process.
Without triton every check fails with TRITON_MISSING: the exercise is never reported as passed.

Expected values come from the definition, never from a reference implementation: the rotation that
apply_rope_qk applies is measured on basis vectors (see _rotations.py) and compared with RoPE's angles,
and random inputs are compared with the float64 complex construction `rotate`.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import torch

from ..checking import Mistake, call_inside, check, fail, tensor_result, tolerance, type_name, unfinished
from ..i18n import N_, tr
from ._rotations import differs_from_definition, expect_rope, pairs, rotate, theta, wrap

TRITON_MISSING = N_("triton is not installed: pip install 'ropekit[gpu]' (or triton) to grade this exercise")


def _cuda_present() -> bool:
    # device_count() asks NVML and leaves CUDA uninitialised in the grader (is_available() would
    # initialise it, and a forked child could not use CUDA afterwards).
    return torch.cuda.device_count() > 0


INTERPRET = os.environ.get("TRITON_INTERPRET") == "1" or not _cuda_present()
if INTERPRET:
    os.environ["TRITON_INTERPRET"] = "1"  # before the learner's module imports triton
DEVICE = "cpu" if INTERPRET else "cuda"


def _angle_budget(positions, dtype) -> np.ndarray:
    """Allowed angle error (rad): float32 angles (theta and the product rounded: ~2**-23 * m, with
    margin) plus the output's rounding, as measured through cos/sin stored in `dtype`."""
    rounding = {torch.float32: 1e-6, torch.float16: 1.5e-3, torch.bfloat16: 8e-3}[dtype]
    return 1e-5 + 3e-7 * np.abs(np.asarray(positions, dtype=np.float64)) + rounding


def _needs_triton() -> None:
    if importlib.util.find_spec("triton") is None:
        fail(TRITON_MISSING)


def _random(*shape, dtype=torch.float32, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def _strided(q, k):
    """q [B, T, H, d] viewed as [B, H, T, d] (transposed); every other head of k, with stride 2 on d."""
    return q.transpose(1, 2), k[:, ::2, :, ::2]


def _qk_in_child(apply_rope_qk, q, k, positions, strided: bool, kwargs: dict):
    """In the learner's process: q, k and positions moved to DEVICE (q and k viewed by `_strided` when
    asked), then apply_rope_qk(q, k, positions, **kwargs). Returns (the result on the CPU, facts): the
    Triton kernels launched, whether each output is its input's memory, q and k after the call."""
    q, k, positions = q.to(DEVICE), k.to(DEVICE), positions.to(DEVICE)
    if strided:
        q, k = _strided(q, k)
    launches: list[str] = []
    try:
        from triton.runtime.jit import KernelInterface
    except ImportError:
        KernelInterface = None
    if KernelInterface is not None:
        original = KernelInterface.__getitem__

        def counting(self, grid):
            launches.append(getattr(self, "__name__", type(self).__name__))
            return original(self, grid)

        KernelInterface.__getitem__ = counting
    try:
        result = apply_rope_qk(q, k, positions, **kwargs)
    finally:
        if KernelInterface is not None:
            KernelInterface.__getitem__ = original
    same = []
    if isinstance(result, (tuple, list)) and len(result) == 2:
        same = [
            isinstance(r, torch.Tensor) and r.data_ptr() == x.data_ptr()
            for r, x in zip(result, (q, k), strict=True)
        ]
        result = tuple(r.cpu() if isinstance(r, torch.Tensor) else r for r in result)
    return result, {"launches": launches, "same": same, "q": q.cpu(), "k": k.cpu()}


def _run(impl, q, k, positions, *, strided: bool = False, **kwargs):
    """(result, facts) of the learner's apply_rope_qk on the device (see _qk_in_child)."""
    _needs_triton()
    positions = torch.as_tensor(positions)
    return call_inside(_qk_in_child, impl, "apply_rope_qk", q, k, positions, strided, kwargs)


def _apply(impl, q, k, positions, what: str, strided: bool = False, **kwargs):
    """The learner's (q_out, k_out) as CPU tensors, after checking it is a pair of tensors of the
    inputs' shapes and dtypes; with strided=True q and k are first viewed by `_strided`."""
    return _apply_facts(impl, q, k, positions, what, strided, **kwargs)[:2]


def _apply_facts(impl, q, k, positions, what: str, strided: bool = False, **kwargs):
    result, facts = _run(impl, q, k, positions, strided=strided, **kwargs)
    if strided:
        q, k = _strided(q, k)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(
            "{what}: apply_rope_qk must return a pair (q_out, k_out), got {type_name}",
            what=what,
            type_name=type_name(result),
        )
    q_out, k_out = (tensor_result(t, f"{what}: {n}") for t, n in zip(result, ("q_out", "k_out"), strict=True))
    for out, x, name in ((q_out, q, "q"), (k_out, k, "k")):
        if tuple(out.shape) != tuple(x.shape):
            fail(
                "{what}: {name}_out has shape {out_shape}, expected {name}'s {x_shape}",
                what=what,
                name=name,
                out_shape=tuple(out.shape),
                x_shape=tuple(x.shape),
            )
        if out.dtype != x.dtype:
            fail(
                "{what}: {x_dtype} {name} gave {name}_out in {out_dtype}; keep {name}'s dtype",
                what=what,
                x_dtype=x.dtype,
                name=name,
                out_dtype=out.dtype,
            )
    return q_out, k_out, facts


def _measure_qk(impl, dim: int, positions: list[int], what: str, dtype=torch.float32, measure_k=True, **kw):
    """The matrices applied to q and to k at each position, [T, dim, dim] each (float64 numpy).

    Head j of q holds the basis vector e_j at every position, so q_out[0, j, t] is column j of the
    matrix at position t; k holds 2 e_j (its result is halved), so swapped outputs are told apart.
    measure_k=False (faster under the interpreter): k is one random head; (k_out, k) is returned in
    place of its matrices, for the caller to compare with `rotate` after judging q.
    """
    T = len(positions)
    basis = torch.eye(dim, dtype=torch.float64)[None, :, None, :].repeat(1, 1, T, 1)  # [1, dim, T, dim]
    q = basis.to(dtype)
    k = (2 * basis).to(dtype) if measure_k else _random(1, 1, T, dim, dtype=dtype, seed=dim)
    q_out, k_out = _apply(impl, q, k, torch.tensor(positions), what, **kw)
    mq = q_out.to(torch.float64).numpy()[0].transpose(1, 2, 0)  # M[t, a, j] = q_out[0, j, t, a]
    if not np.isfinite(mq).all():
        fail("{what}: q_out contains NaN or inf", what=what)
    if not measure_k:
        _unrotated(mq, positions, "q", what)
        return mq, (k_out, k)
    mk = k_out.to(torch.float64).numpy()[0].transpose(1, 2, 0) / 2
    if not np.isfinite(mk).all():
        fail("{what}: k_out contains NaN or inf", what=what)
    scale_q, scale_k = np.linalg.norm(mq, axis=1).mean(), np.linalg.norm(mk, axis=1).mean()
    if abs(scale_q - 2) < 0.1 and abs(scale_k - 0.5) < 0.05:
        fail("{what}: q_out holds rotated k and k_out rotated q: the outputs are swapped", what=what)
    _unrotated(mq, positions, "q", what)
    _unrotated(mk, positions, "k", what)
    return mq, mk


def _unrotated(m: np.ndarray, positions: list[int], name: str, what: str) -> None:
    if any(p != 0 for p in positions) and np.allclose(m, np.eye(m.shape[-1]), atol=1e-6):
        fail(
            "{what}: {name} is returned unrotated: apply RoPE to q AND k (one launch whose grid "
            "covers the head blocks of both)",
            what=what,
            name=name,
        )
    if np.abs(m).max() < 1e-6:
        fail("{what}: {name}_out is all zeros: the kernel never stores {name}'s result", what=what, name=name)


def _mismatch(
    mine: torch.Tensor, x: torch.Tensor, positions, interleaved: bool, what: str, base=10000.0
) -> str | None:
    """What is wrong with `mine` as RoPE(x) by the definition (float64), allowing rounding to the
    output's dtype and float32 angles; None when it is right."""
    x64 = x.detach().cpu().to(torch.float64)
    pos = torch.as_tensor(positions).cpu().numpy()
    pos = pos[:, None, :] if pos.ndim == 2 else pos  # [B, T] broadcasts over heads
    expected = rotate(x64.numpy(), pos, base, interleaved)
    got = mine.to(torch.float64).numpy()
    rtol, atol = tolerance(x.dtype)
    first, second = np.array(pairs(x.shape[-1], interleaved)).T
    norm = np.sqrt(x64.numpy()[..., first] ** 2 + x64.numpy()[..., second] ** 2)  # [..., T, d/2]
    budget_pair = _angle_budget(np.broadcast_to(pos, x.shape[:-1])[..., None], torch.float32) * norm
    budget = np.empty(x.shape)
    budget[..., first], budget[..., second] = budget_pair, budget_pair
    bad = np.abs(got - expected) > atol + rtol * np.abs(expected) + budget
    if not bad.any():
        return None
    return differs_from_definition(what, got, expected, bad)


def _close(
    mine: torch.Tensor, x: torch.Tensor, positions, interleaved: bool, what: str, base=10000.0
) -> None:
    message = _mismatch(mine, x, positions, interleaved, what, base)
    if message:
        fail(message)


@check(1, "returns (q_out, k_out): shapes and dtypes kept, inputs untouched")
def test_outputs(impl):
    _needs_triton()
    q, k = _random(2, 4, 3, 16, seed=1), _random(2, 2, 3, 16, seed=2)
    q0, k0 = q.clone(), k.clone()
    q_out, k_out, facts = _apply_facts(impl, q, k, torch.arange(3) + 1, "q [2, 4, 3, 16], k [2, 2, 3, 16]")
    if not (torch.equal(facts["q"], q0) and torch.equal(facts["k"], k0)):
        fail("with inplace=False (the default) q and k must not change; write into new tensors")
    if torch.equal(q_out, q0) and torch.equal(k_out, k0):
        fail("q_out and k_out equal q and k at positions 1..3: nothing was rotated")


@check(3, "q AND k rotated in one call (half-split pairs)")
def test_q_and_k(impl):
    _needs_triton()
    positions = [0, 1, 2, 7]
    what = tr("apply_rope_qk(interleaved=False), d=16")
    mq, mk = _measure_qk(impl, 16, positions, what)
    expect_rope(mq, positions, 10000.0, False, f"{what}, q")
    expect_rope(mk, positions, 10000.0, False, f"{what}, k")


@check(2, "adjacent pairs (2i, 2i+1) when interleaved=True")
def test_interleaved(impl):
    _needs_triton()
    positions = [0, 1, 3, 8]
    what = tr("apply_rope_qk(interleaved=True), d=16")
    mq, mk = _measure_qk(impl, 16, positions, what, interleaved=True)
    expect_rope(mq, positions, 10000.0, True, f"{what}, q")
    expect_rope(mk, positions, 10000.0, True, f"{what}, k")


@check(2, "angles m * theta_i: head dims 64 and 128, base, positions as given")
def test_frequencies(impl):
    _needs_triton()
    for dim, positions, base in ((64, [5, 6, 9, 30, 31, 100], 10000.0), (128, [0, 1, 2, 9], 500.0)):
        what = tr(
            "apply_rope_qk(base={base:g}), d={dim}, positions {positions}",
            base=base,
            dim=dim,
            positions=positions,
        )
        mq, (k_out, k) = _measure_qk(impl, dim, positions, what, measure_k=False, base=base)
        expect_rope(mq, positions, base, False, f"{what}, q")
        _close(k_out, k, positions, False, f"{what}: k_out", base)


@check(1, "head dims that are not a power of two (d = 6, d = 96)")
def test_odd_block_sizes(impl):
    _needs_triton()
    try:
        positions = [0, 1, 4]
        mq, mk = _measure_qk(impl, 6, positions, "d=6 (3 pairs)")
        expect_rope(mq, positions, 10000.0, False, "d=6, q")
        expect_rope(mk, positions, 10000.0, False, "d=6, k")
        q, k = _random(1, 3, 5, 96, seed=3), _random(1, 1, 5, 96, seed=4)
        q_out, k_out = _apply(impl, q, k, torch.arange(5) * 3, "d=96 (48 pairs)")
        _close(q_out, q, torch.arange(5) * 3, False, "d=96, q")
        _close(k_out, k, torch.arange(5) * 3, False, "d=96, k")
    except Mistake as exc:
        if " raised " not in str(exc):
            raise
        fail(
            "{exc} -- a block over the d/2 pairs must be a power of two (tl.arange): pad it with "
            "triton.next_power_of_2(d // 2) and mask the pairs >= d/2",
            exc=exc,
        )


@check(2, "random q, k vs float64 RoPE: fp32, bf16, fp16, both layouts, GQA")
def test_random(impl):
    _needs_triton()
    positions = torch.tensor([0, 1, 2, 5, 17, 100, 999])
    for seed, (dtype, interleaved) in enumerate(
        ((torch.float32, False), (torch.bfloat16, False), (torch.float32, True), (torch.float16, True))
    ):
        q, k = _random(2, 8, 7, 64, dtype=dtype, seed=10 + seed), _random(2, 2, 7, 64, dtype=dtype, seed=20)
        what = tr(
            "{dtype} q [2, 8, 7, 64], k [2, 2, 7, 64], interleaved={interleaved}",
            dtype=str(dtype)[6:],
            interleaved=interleaved,
        )
        q_out, k_out = _apply(impl, q, k, positions, what, interleaved=interleaved)
        _close(q_out, q, positions, interleaved, f"{what}: q_out")
        _close(k_out, k, positions, interleaved, f"{what}: k_out")


def _strided_inputs(dtype=torch.float32):
    """What `_strided` views: q [B, T, Hq, d] (transposed to [2, 4, 5, 32], strides (640, 32, 128, 1))
    and k [2, 4, 5, 64] (every other head, d stride 2: [2, 2, 5, 32]); neither view is contiguous."""
    return _random(2, 5, 4, 32, dtype=dtype, seed=30), _random(2, 4, 5, 64, dtype=dtype, seed=31)


@check(2, "non-contiguous q and k: the tensors' strides are used")
def test_strides(impl):
    _needs_triton()
    positions = torch.tensor([3, 4, 5, 6, 40])
    q_src, k_src = _strided_inputs()
    q0, k0 = (x.contiguous() for x in _strided(q_src, k_src))  # the values the views hold
    for interleaved in (False, True):
        q_out, k_out, facts = _apply_facts(
            impl, q_src, k_src, positions, "non-contiguous q, k", strided=True, interleaved=interleaved
        )
        wrong = _mismatch(
            q_out, q0, positions, interleaved, f"q = x.transpose(1, 2), interleaved={interleaved}"
        ) or _mismatch(k_out, k0, positions, interleaved, f"k = x[:, ::2, :, ::2], interleaved={interleaved}")
        if wrong:  # is it the strides? the same values, contiguous
            cq, ck = _apply(impl, q0, k0, positions, "", interleaved=interleaved)
            _close(cq, q0, positions, interleaved, f"contiguous q, interleaved={interleaved}")
            _close(ck, k0, positions, interleaved, f"contiguous k, interleaved={interleaved}")
            fail(
                "{wrong} (right for contiguous copies of the same q and k) -- address every "
                "element through the strides: x_ptr + b*stride_b + h*stride_h + t*stride_t + "
                "d*stride_d with x.stride() (and the output's own strides)",
                wrong=wrong,
            )
        if not (torch.equal(facts["q"], q0) and torch.equal(facts["k"], k0)):
            fail("non-contiguous q and k changed although inplace=False")


@check(2, "inplace=True writes into q and k (also non-contiguous views) and returns them")
def test_inplace(impl):
    _needs_triton()
    positions = torch.tensor([1, 2, 3, 50, 600])
    q_src, k_src = _strided_inputs(torch.bfloat16)
    q0, k0 = (x.contiguous() for x in _strided(q_src, k_src))
    result, facts = _run(impl, q_src, k_src, positions, strided=True, inplace=True)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail("apply_rope_qk(..., inplace=True) must return the pair (q, k)")
    q, k = facts["q"], facts["k"]
    if torch.equal(q, q0) or torch.equal(k, k0):
        which = "q" if torch.equal(q, q0) else "k"
        fail(
            "with inplace=True {which} itself must hold the result, but it is unchanged (a "
            ".contiguous() copy, or a new output tensor, is written instead of the caller's memory)",
            which=which,
        )
    if not (facts["same"] and all(facts["same"])):
        fail("with inplace=True return q and k themselves (the same tensors), not copies")
    _close(q, q0, positions, False, "inplace=True, bf16 q = x.transpose(1, 2)")
    _close(k, k0, positions, False, "inplace=True, bf16 k = x[:, ::2, :, ::2]")


@check(1, "positions [B, T]: one row of positions per sequence")
def test_batched_positions(impl):
    _needs_triton()
    positions = torch.tensor([[0, 1, 2, 3], [100, 101, 102, 103], [7, 9, 11, 13]])  # [B=3, T=4]
    q, k = _random(3, 2, 4, 16, seed=40), _random(3, 1, 4, 16, seed=41)
    q_out, k_out = _apply(impl, q, k, positions, tr("positions of shape [3, 4]"))
    for out, x, name in ((q_out, q, "q_out"), (k_out, k, "k_out")):
        wrong = _mismatch(out, x, positions, False, f"positions [B, T]: {name}")
        if wrong and not _mismatch(out[:1], x[:1], positions[:1], False, ""):
            fail(
                "{wrong} (sequence 0 is right) -- sequence b uses row b of positions, not row 0 for all",
                wrong=wrong,
            )
        if wrong:
            fail(wrong)


@check(2, "angles precise at positions ~60 000 (float32 math, never bf16/fp16)")
def test_large_positions(impl):
    _needs_triton()
    positions = [1, 2, 3, 60000, 60001, 60002, 60003, 60004, 60005]
    p = np.asarray(positions, dtype=np.float64)[:, None]
    a, b = np.array(pairs(64, False)).T
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        what = tr("{dtype} q and k at positions 1, 2, 3, 60000..60005", dtype=str(dtype)[6:])
        for m, name in zip(_measure_qk(impl, 64, positions, what, dtype=dtype), "qk", strict=True):
            measured = np.arctan2(m[:, b, a], m[:, a, a])  # [T, 32]: the angle of pair i at position t
            error = np.abs(wrap(measured - p * theta(64, 10000.0)))  # [T, 32]
            bad = error > _angle_budget(p, dtype)
            if bad[:3].any() and error[:3].max() > 0.05:  # not imprecision: a wrong formula
                fail(
                    "{what}: {name}'s angles are wrong already at positions 1..3 (see the other checks)",
                    what=what,
                    name=name,
                )
            if bad.any():
                fail(
                    "{what}: {name}'s angles at 60 000 are off by up to {error_max:.3g} rad "
                    "(float32 angles: < {angle_budget:.2g}): positions or angles were computed in "
                    "low precision; load the positions, multiply by theta and take cos/sin in "
                    "float32, cast only the result",
                    what=what,
                    name=name,
                    error_max=error.max(),
                    angle_budget=float(_angle_budget(60000, dtype)),
                )


def _raises_value_error(apply_rope_qk, q, k, positions) -> str:
    """In the learner's process: "" when apply_rope_qk(q, k, positions) on DEVICE raises ValueError,
    else what happened instead (other exceptions propagate, NotImplementedError included)."""
    try:
        apply_rope_qk(q.to(DEVICE), k.to(DEVICE), positions.to(DEVICE))
    except ValueError:
        return ""
    return tr("returned normally")


def _expect_value_error(impl, q, k, positions, why: str) -> None:
    try:
        outcome = call_inside(_raises_value_error, impl, "apply_rope_qk", q, k, positions)
    except Mistake as exc:
        if unfinished(exc):
            raise
        fail("{why}: expected ValueError, but {exc}", why=why, exc=exc)
    if outcome:
        fail("{why}: expected ValueError, but `apply_rope_qk` {outcome}", why=why, outcome=outcome)


@check(1, "ValueError for odd d, q/k shape mismatch, bad positions")
def test_errors(impl):
    _needs_triton()
    pos = torch.arange(3)
    q, k = _random(1, 2, 3, 8), _random(1, 2, 3, 8)
    _expect_value_error(impl, _random(1, 2, 3, 7), _random(1, 2, 3, 7), pos, why=tr("odd d 7"))
    _expect_value_error(impl, q, _random(1, 2, 4, 8), pos, why=tr("q with T=3 and k with T=4"))
    _expect_value_error(impl, q, _random(1, 2, 3, 6), pos, why=tr("q with d=8, k with d=6"))
    _expect_value_error(impl, q, k, torch.arange(4), why=tr("4 positions, T=3"))
    _expect_value_error(impl, q[0], k[0], pos, why=tr("3-D q and k (expected [B, H, T, d])"))


@check(1, "q and k in ONE Triton kernel launch")
def test_one_launch(impl):
    _needs_triton()
    q, k = _random(1, 4, 3, 16, seed=50), _random(1, 2, 3, 16, seed=51)
    q_out, k_out, facts = _apply_facts(impl, q, k, torch.arange(3), "q [1, 4, 3, 16], k [1, 2, 3, 16]")
    launches = facts["launches"]
    if not launches:
        fail("apply_rope_qk launched no Triton kernel (kernel[grid](...)): write the rotation in Triton")
    if len(launches) > 1:
        fail(
            "apply_rope_qk launched {n_launches} Triton kernels ({join}); rotate q and k in ONE "
            "launch: a grid over the head blocks of q and then of k, both reading the same angles",
            n_launches=len(launches),
            join=", ".join(launches),
        )
    _close(q_out, q, torch.arange(3), False, "q_out")
    _close(k_out, k, torch.arange(3), False, "k_out")
