"""Track E (derive_rope): the derivation's measurements on the rotation and on encodings that break a
step, the 2-D solution against Hugging Face's RoPE (d = 2) and the kit's complex RoPE, and realistic
wrong versions failing the check meant for them."""

from __future__ import annotations

import cmath

import pytest
import torch
from conftest import assert_caught, grade_wrong, mutate, solution_source

from solutions import derive_rope, rope

THETA = 0.9


def rotation(z, m):
    return z * cmath.exp(1j * m * THETA)


def _complex(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.complex(
        torch.randn(*shape, generator=g, dtype=torch.float64),
        torch.randn(*shape, generator=g, dtype=torch.float64),
    )


def test_the_rotation_meets_every_step():
    q, k = _complex(6, seed=1), _complex(6, seed=2)
    for m, n, shift in ((0, 0, 5), (3, 11, -2), (40, 1, 100)):
        assert float(derive_rope.requirement_gap(rotation, q, k, m, n, shift).max()) < 1e-12
    modulus, phase = derive_rope.polar_parts(rotation, q, 3)
    assert torch.allclose(modulus, q.abs(), rtol=1e-14)
    expected = torch.full_like(phase, cmath.phase(cmath.exp(3j * THETA)))
    assert torch.allclose(phase, expected, atol=1e-12)
    steps = derive_rope.phase_increments(rotation, q, 6)
    assert steps.shape == (6, 5) and torch.allclose(steps, torch.full_like(steps, THETA), atol=1e-12)


def test_encodings_that_break_a_step_are_measured_as_breaking_it():
    q, k = _complex(4, seed=3), _complex(4, seed=4)

    def added(z, m):  # the absolute encoding: requirement fails
        return z + 0.5 * cmath.exp(1j * m)

    def growing(z, m):  # relative scores need a constant modulus
        return z * (1 + 0.1 * m) * cmath.exp(1j * m * THETA)

    def quadratic(z, m):  # phase steps not constant
        return z * cmath.exp(0.2j * m * m)

    assert float(derive_rope.requirement_gap(added, q, k, 2, 0, 3).min()) > 1e-3
    assert float(derive_rope.requirement_gap(growing, q, k, 2, 0, 3).min()) > 1e-3
    modulus, _ = derive_rope.polar_parts(growing, q, 5)
    assert torch.allclose(modulus, 1.5 * q.abs())
    steps = derive_rope.phase_increments(quadratic, q, 4)
    assert torch.allclose(steps[0], torch.tensor([0.2, 0.6, 1.0], dtype=torch.float64), atol=1e-12)


def test_the_solution_is_the_kits_complex_rope_and_the_matrix_form():
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    positions = torch.tensor([0, 1, 7, 100, 4096])
    z = torch.complex(x[:, 0], x[:, 1])
    rotated = derive_rope.rope_2d(z, positions, 1.0)  # d = 2: theta_0 = base ** 0 = 1
    via_kit = rope.apply_rope_complex(x, positions)
    assert torch.allclose(torch.view_as_real(rotated), via_kit, atol=1e-12)
    for m, column in zip(positions.tolist(), x, strict=True):
        assert torch.allclose(
            derive_rope.rotation_matrix(m, 1.0) @ column, via_kit[positions.tolist().index(m)]
        )


def test_the_solution_matches_hugging_face_rope_in_two_dimensions():
    llama = pytest.importorskip("transformers.models.llama.modeling_llama")
    x = torch.randn(1, 1, 4, 2, generator=torch.Generator().manual_seed(6), dtype=torch.float64)
    positions = torch.tensor([3, 50, 999, 12345])
    angles = positions.to(torch.float64)[:, None] * torch.ones(
        1, dtype=torch.float64
    )  # theta_0 = 1 for d = 2
    emb = torch.cat((angles, angles), dim=-1)  # HF's half-split table
    q, _ = llama.apply_rotary_pos_emb(x, x, emb.cos()[None], emb.sin()[None])
    ours = derive_rope.rope_2d(torch.complex(x[..., 0], x[..., 1]), positions, 1.0)
    assert torch.allclose(torch.view_as_real(ours), q, atol=1e-12)


MISTAKES = [
    (
        "score without the conjugate",
        [("return (q * k.conj()).real.to(torch.float64)", "return (q * k).real.to(torch.float64)")],
        "complex_score",
        "conjugates k",
    ),
    (
        "only the query moves",
        [
            (
                "after = complex_score(f(q, m + shift), f(k, n + shift))",
                "after = complex_score(f(q, m + shift), f(k, n))",
            )
        ],
        "requirement_gap",
        "only the query moved",
    ),
    (
        "phase not wrapped",
        [
            (
                "return w.abs().to(torch.float64), torch.angle(w * z.conj()).to(torch.float64)",
                "return w.abs().to(torch.float64), (torch.angle(w) - torch.angle(z)).to(torch.float64)",
            )
        ],
        "polar_parts: the phase",
        "wrapped",
    ),
    (
        "increments backwards",
        [("torch.angle(f(z, m + 1) * f(z, m).conj())", "torch.angle(f(z, m) * f(z, m + 1).conj())")],
        "phase_increments",
        "sign is flipped",
    ),
    (
        "rotation the wrong way",
        [
            (
                "angles = torch.as_tensor(positions).to(torch.float64) * theta",
                "angles = -torch.as_tensor(positions).to(torch.float64) * theta",
            )
        ],
        "rope_2d",
        "wrong way",
    ),
    (
        "matrix transposed",
        [("[[c, -s], [s, c]]", "[[c, s], [-s, c]]")],
        "rotation_matrix",
        "transpose",
    ),
]


@pytest.mark.parametrize(
    ("name", "replacements", "check_name", "words"), MISTAKES, ids=[m[0] for m in MISTAKES]
)
def test_derive_rope_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "derive_rope", mutate(solution_source("derive_rope"), replacements))
    assert_caught(result, check_name, words)
