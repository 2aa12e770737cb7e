"""The reference solutions are right: checked in float64 against the papers' formulas and against
data nobody on this project wrote (Stanford CS336's snapshot)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conftest import ROOT

from solutions.rope import apply_rope, apply_rope_complex, rope_cos_sin
from solutions.sinusoidal import sinusoidal_encoding

PEER = ROOT.parent / "shared" / "peer" / "cs336"


def paper_rotation_matrix(m: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """RoFormer eq. (15): block diagonal; block i, on features (2i, 2i+1), rotates by m * theta_i."""
    R = np.zeros((dim, dim))
    for i in range(dim // 2):
        angle = m * base ** (-2 * i / dim)
        R[2 * i : 2 * i + 2, 2 * i : 2 * i + 2] = [
            [math.cos(angle), -math.sin(angle)],
            [math.sin(angle), math.cos(angle)],
        ]
    return R


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def test_sinusoidal_matches_vaswani_formula_elementwise():
    length, d = 17, 12
    pe = sinusoidal_encoding(length, d).double().numpy()
    for p in range(length):
        for i in range(d // 2):
            assert pe[p, 2 * i] == pytest.approx(math.sin(p / 10000 ** (2 * i / d)), abs=1e-6)
            assert pe[p, 2 * i + 1] == pytest.approx(math.cos(p / 10000 ** (2 * i / d)), abs=1e-6)
    assert sinusoidal_encoding(3, 4).dtype == torch.float32


@pytest.mark.parametrize("dim", [2, 8, 64])
def test_interleaved_rope_equals_paper_matrix_float64(dim):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, dim, generator=g, dtype=torch.float64)
    positions = torch.tensor([0, 1, 7, 1000, 60000])
    out = apply_rope(x, positions, interleaved=True)
    for t, m in enumerate(positions.tolist()):
        expected = x[:, t].numpy() @ paper_rotation_matrix(m, dim).T
        np.testing.assert_allclose(out[:, t].numpy(), expected, atol=1e-10)


def test_relative_position_norm_and_identity_float64():
    g = torch.Generator().manual_seed(1)
    q, k = torch.randn(2, 1, 128, generator=g, dtype=torch.float64)
    for interleaved in (False, True):

        def rope(v, m, interleaved=interleaved):
            return apply_rope(v, torch.tensor([m]), interleaved=interleaved)

        for m, n in ((0, 5), (17, 3), (1000, 1031), (59000, 60000)):
            assert float((rope(q, m) * rope(k, n)).sum()) == pytest.approx(
                float((q * rope(k, n - m)).sum()), abs=1e-9
            )
        assert torch.allclose(rope(q, 12345).norm(), q.norm(), atol=1e-12)
        assert torch.equal(rope(q, 0), q)


def test_forms_agree_float64():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(2, 4, 9, 32, generator=g, dtype=torch.float64)
    positions = torch.arange(9) * 997
    perm = torch.cat([torch.arange(0, 32, 2), torch.arange(1, 32, 2)])
    interleaved = apply_rope(x, positions, interleaved=True)
    torch.testing.assert_close(apply_rope_complex(x, positions), interleaved, atol=1e-10, rtol=0)
    torch.testing.assert_close(
        apply_rope(x[..., perm], positions), interleaved[..., perm], atol=1e-10, rtol=0
    )


def test_half_split_equals_hugging_face_rotate_half_form():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(2, 3, 10, 16, generator=g, dtype=torch.float64)
    positions = torch.arange(10) + 40
    cos, sin = rope_cos_sin(positions, 16, dtype=torch.float64)
    torch.testing.assert_close(apply_rope(x, positions), x * cos + rotate_half(x) * sin, atol=1e-12, rtol=0)


def test_partial_rotary_matches_rotating_the_slice():
    g = torch.Generator().manual_seed(4)
    x = torch.randn(5, 24, generator=g, dtype=torch.float64)
    positions = torch.arange(5)
    out = apply_rope(x, positions, rotary_dim=8)
    torch.testing.assert_close(out[..., :8], apply_rope(x[..., :8], positions))
    assert torch.equal(out[..., 8:], x[..., 8:])


def test_bf16_tables_are_exact_to_bf16_rounding_at_large_positions():
    positions = torch.arange(60000, 60064)
    cos, _ = rope_cos_sin(positions, 64, dtype=torch.bfloat16)
    exact, _ = rope_cos_sin(positions, 64, dtype=torch.float64)
    assert (cos.double() - exact).abs().max() <= 2**-9


@pytest.mark.skipif(not (PEER / "test_rope.npz").exists(), reason="shared/peer/cs336 not beside the repo")
def test_matches_cs336_rope_snapshot():
    """CS336's snapshot: adjacent-pair RoPE of manual_seed(4); randn(4, 12, 64) at positions 0..11."""
    expected = np.load(PEER / "test_rope.npz")["array"]
    torch.manual_seed(4)
    x = torch.randn(4, 12, 64)
    for out in (apply_rope(x, torch.arange(12), interleaved=True), apply_rope_complex(x, torch.arange(12))):
        np.testing.assert_allclose(out.numpy(), expected, atol=1e-6, rtol=1e-4)
