"""Measure the rotation a learner's RoPE applies, and name what is wrong with it.

Feeding the basis vectors e_j at every position gives the matrix M(m) that the learner's function
applies at position m (it must be linear). The definition (RoFormer, eq. 13-15) says M(m) is block
diagonal with one 2x2 rotation [[cos, -sin], [sin, cos]] of angle m * theta_i, theta_i = base**(-2i/d),
per feature pair. Comparing measured angles with a few realistic wrong formulas names the mistake.
"""

from __future__ import annotations

import numpy as np
import torch

from ..checking import fail, tensor_result
from ..i18n import tr

ANGLE_TOL = 5e-5  # radians; allows angles computed in float32 at positions up to a few hundred


def pairs(dim: int, interleaved: bool) -> list[tuple[int, int]]:
    """Feature pairs (first, second) of each frequency i, for a layout."""
    half = dim // 2
    return [(2 * i, 2 * i + 1) if interleaved else (i, i + half) for i in range(half)]


def layout_name(interleaved: bool) -> str:
    return tr("adjacent pairs (2i, 2i+1)") if interleaved else tr("half-split pairs (i, i + d/2)")


def differs_from_definition(what: str, got: np.ndarray, expected: np.ndarray, bad: np.ndarray) -> str:
    """How many values differ from RoPE's definition (`bad` marks them), and the first of them."""
    where = tuple(int(i) for i in np.argwhere(bad)[0])
    return tr(
        "{what}: {bad_sum} of {size} values differ from RoPE by the definition (first at index "
        "{where}: yours {got:.6g}, off by {value:.3g})",
        what=what,
        bad_sum=bad.sum(),
        size=bad.size,
        where=where,
        got=got[where],
        value=abs(got - expected)[where],
    )


def theta(dim: int, base: float, exponent: float = 2.0) -> np.ndarray:
    """theta_i = base ** (-exponent * i / dim), i = 0 .. dim/2 - 1 (exponent 2 is RoPE's)."""
    return base ** (-exponent * np.arange(dim // 2) / dim)


def sinusoidal_table(length: int, dim: int) -> np.ndarray:
    """Vaswani et al.'s table in float64, [length, dim]: PE[p, 2i] = sin, PE[p, 2i+1] = cos of p * theta_i."""
    angles = np.arange(length)[:, None] * theta(dim, 10000.0)  # [L, d/2]
    return np.stack([np.sin(angles), np.cos(angles)], -1).reshape(length, dim)


def measure(apply, dim: int, positions: list[int], what: str, **kwargs) -> np.ndarray:
    """M[t] with out[t] = M[t] @ x[t]: the matrices the learner's function applies, [T, dim, dim]."""
    T = len(positions)
    basis = torch.eye(dim, dtype=torch.float64)[:, None, :].repeat(1, T, 1)  # [dim, T, dim]: e_j at t
    out = tensor_result(apply(basis, torch.tensor(positions), **kwargs), what)
    if tuple(out.shape) != (dim, T, dim):
        fail(
            "{what}: x of shape {basis_shape} gave shape {out_shape}; the output must have x's shape",
            what=what,
            basis_shape=tuple(basis.shape),
            out_shape=tuple(out.shape),
        )
    if out.dtype != torch.float64:
        fail("{what}: float64 input gave {out_dtype}; keep x's dtype", what=what, out_dtype=out.dtype)
    matrices = out.numpy().transpose(1, 2, 0)  # M[t, a, j] = out[j, t, a]
    if not np.isfinite(matrices).all():
        fail("{what}: the output contains NaN or inf", what=what)
    return matrices


def wrap(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def expect_rope(
    matrices: np.ndarray,
    positions: list[int],
    base: float,
    interleaved: bool,
    what: str,
    rotary_dim: int | None = None,
    angle_tol: float = ANGLE_TOL,
) -> None:
    """Fail with a message naming the mistake unless `matrices` are RoPE's rotations.

    Each failure carries its cause (Mistake.cause): a named wrong formula, or "angles" when the angles
    match none of them."""
    dim = matrices.shape[-1]
    r = dim if rotary_dim is None else rotary_dim
    if r < dim:
        rest = matrices[:, r:, :]
        expected_rest = np.zeros_like(rest)
        expected_rest[:, :, r:] = np.eye(dim - r)
        if not np.allclose(rest, expected_rest, atol=1e-6) or not np.allclose(
            matrices[:, :r, r:], 0, atol=1e-6
        ):
            if np.allclose(matrices[:, r:, r:], 0, atol=1e-6):
                fail(
                    "{what}: features {r}..{value} come out as zeros; with rotary_dim={r} the "
                    "features past rotary_dim pass through unchanged (out[..., r:] = x[..., r:])",
                    cause="pass-through",
                    what=what,
                    r=r,
                    value=dim - 1,
                )
            if _is_rope(matrices, positions, base, interleaved):
                fail(
                    "{what}: all {dim} features are rotated; with rotary_dim={r} only the first "
                    "{r} rotate and the other {value} pass through unchanged (rotary_dim is "
                    "ignored)",
                    cause="rotary_dim",
                    what=what,
                    dim=dim,
                    r=r,
                    value=dim - r,
                )
            fail(
                "{what}: with rotary_dim={r} the features {r}..{value} pass through unchanged "
                "(out[..., r:] = x[..., r:]) and the first r depend on nothing else; yours differ",
                cause="pass-through",
                what=what,
                r=r,
                value=dim - 1,
            )
        matrices = matrices[:, :r, :r]
    mine, other = pairs(r, interleaved), pairs(r, not interleaved)

    def off_pair_mass(pair_list):
        mask = np.ones((r, r), dtype=bool)
        for a, b in pair_list:
            for i in (a, b):
                for j in (a, b):
                    mask[i, j] = False
        return np.abs(matrices[:, mask]).max(initial=0.0)

    if off_pair_mass(mine) > 1e-6:
        if r > 2 and off_pair_mass(other) <= 1e-6:
            fail(
                "{what}: wrong pair layout: the pairs are {layout_name}, but your code rotates "
                "{layout_name2}",
                cause=f"layout {interleaved}",
                what=what,
                layout_name=layout_name(interleaved),
                layout_name2=layout_name(not interleaved),
            )
        fail(
            "{what}: features are mixed outside their pair; RoPE only mixes the two features of a "
            "pair ({layout_name})",
            cause="mixing",
            what=what,
            layout_name=layout_name(interleaved),
        )
    a_idx = np.array([a for a, _ in mine])
    b_idx = np.array([b for _, b in mine])
    m_aa, m_ab = matrices[:, a_idx, a_idx], matrices[:, a_idx, b_idx]
    m_ba, m_bb = matrices[:, b_idx, a_idx], matrices[:, b_idx, b_idx]
    if not (
        np.allclose(m_aa, m_bb, atol=1e-6)
        and np.allclose(m_ab, -m_ba, atol=1e-6)
        and np.allclose(m_aa**2 + m_ba**2, 1.0, atol=1e-6)
    ):
        fail(
            "{what}: each pair must be rotated by [[cos, -sin], [sin, cos]]; your pair map is not "
            "a rotation (it changes lengths or mirrors): check the signs (x1' = x1 cos - x2 sin, "
            "x2' = x2 cos + x1 sin) and that cos and sin use the same angle",
            cause="not a rotation",
            what=what,
        )
    measured = np.arctan2(m_ba, m_aa)  # [T, r/2]
    p = np.asarray(positions, dtype=np.float64)[:, None]
    index = np.arange(len(positions), dtype=np.float64)[:, None]
    th = theta(r, base)
    candidates = [
        (None, p * th),
        (
            tr(
                "rotation goes the wrong way (angle -m*theta_i): check the sign of the sin terms, "
                "x1' = x1 cos - x2 sin and x2' = x2 cos + x1 sin"
            ),
            -p * th,
        ),
        (
            tr("sin and cos are swapped: at position 0 RoPE must be the identity (cos 0 = 1, sin 0 = 0)"),
            np.pi / 2 - p * th,
        ),
        (
            tr("sin and cos are swapped: at position 0 RoPE must be the identity (cos 0 = 1, sin 0 = 0)"),
            p * th - np.pi / 2,
        ),
        (
            tr("frequencies use base**(-i/d); the exponent is -2i/d (i counts pairs, 0 .. d/2 - 1)"),
            p * theta(r, base, exponent=1.0),
        ),
        (
            tr("frequencies grow with i: theta_i = base**(-2i/d) has a minus sign in the exponent"),
            p * theta(r, base, exponent=-2.0),
        ),
        (tr("positions are off by one: position m gets the angle of m + 1"), (p + 1) * th),
        (tr("positions are off by one: position m gets the angle of m - 1"), (p - 1) * th),
        (
            tr("the `positions` argument is ignored: your angles use 0 .. T-1, not the positions given"),
            index * th,
        ),
    ]
    if base != 10000.0:
        candidates.append(
            (
                tr(
                    "the `base` argument is ignored: with base={base:g} your angles are those of base 10000",
                    base=base,
                ),
                p * theta(r, 10000.0),
            )
        )
    if r < dim:
        candidates.append(
            (
                tr(
                    "with rotary_dim={r} the frequencies use r, not the full dim: theta_i = base**(-2i/r)",
                    r=r,
                ),
                p * theta(dim, base)[: r // 2],
            )
        )
    for message, angles in candidates:
        if np.abs(wrap(measured - angles)).max() < angle_tol:
            if message is None:
                return
            fail("{what}: {message_}", cause=message, what=what, message_=message)
    error = np.abs(wrap(measured - p * th))
    t, i = np.unravel_index(np.argmax(error), error.shape)
    fail(
        "{what}: the angle of pair i={i} at position m={positions} is off by {error:.3g} rad; "
        "expected m * theta_i with theta_i = base**(-2i/d)",
        cause="angles",
        what=what,
        i=i,
        positions=positions[t],
        error=error[t, i],
    )


def _is_rope(matrices: np.ndarray, positions: list[int], base: float, interleaved: bool) -> bool:
    """Whether `matrices` are exactly RoPE over all their features (rotary_dim ignored)."""
    dim = matrices.shape[-1]
    expected = np.stack([rotate(np.eye(dim), np.full(dim, m), base, interleaved).T for m in positions])
    return bool(np.allclose(matrices, expected, atol=1e-6))


def expect_norms_kept(x: torch.Tensor, out: torch.Tensor, atol: float) -> None:
    """A rotation keeps every vector's length: out must have x's shape and norms (float64 inputs)."""
    if tuple(out.shape) != tuple(x.shape):
        fail(
            "x of shape {x_shape} gave shape {out_shape}", x_shape=tuple(x.shape), out_shape=tuple(out.shape)
        )
    ratio = out.norm(dim=-1) / x.norm(dim=-1)
    if not torch.allclose(ratio, torch.ones_like(ratio), atol=atol):
        fail(
            "a rotation keeps the length of every vector, but yours scales it by up to "
            "{value:.4g}; check the signs of the sin terms",
            value=float((ratio - 1).abs().max()) + 1,
        )


def rotate(x: np.ndarray, positions: np.ndarray, base: float, interleaved: bool) -> np.ndarray:
    """RoPE by the definition, in float64 with complex numbers: the expected output for x [..., T, d].

    positions broadcast against x.shape[:-1].
    """
    dim = x.shape[-1]
    first, second = np.array(pairs(dim, interleaved)).T
    z = x[..., first] + 1j * x[..., second]
    z = z * np.exp(1j * np.asarray(positions, dtype=np.float64)[..., None] * theta(dim, base))
    out = np.empty(np.broadcast_shapes(x.shape, z.shape[:-1] + (dim,)))
    out[..., first], out[..., second] = z.real, z.imag
    return out
