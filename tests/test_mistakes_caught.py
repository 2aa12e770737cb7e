"""Every realistic wrong implementation fails the check meant for it, with a message naming the mistake.

Each wrong version is the reference solution with one deliberate mistake (a text replacement), or a
hand-written file in tests/wrong/. The grader runs it in isolation exactly as for a learner.
"""

from __future__ import annotations

import pytest
from conftest import WRONG, assert_caught, grade_wrong, mutate, solution_source

SWAP = "    if interleaved:  # adjacent pairs: flip each one"
PER_FEATURE = "torch.stack((first, second), -1).flatten(-2) if interleaved else"
ANGLES = "angles = torch.as_tensor(positions, device=x.device)[..., None] * theta"
COS_SIN_ANGLES = "angles = positions.to(torch.float64)[..., None] * theta  # [..., dim/2]"
TABLE = "c, s = angles.cos().to(x.dtype), angles.sin().to(x.dtype)"
THETAS = [  # theta in rope_cos_sin and in apply_rope's constants: a learner writes it the same way twice
    "-torch.arange(0, dim, 2, dtype=torch.float64, device=positions.device) / dim",
    "-torch.arange(0, r, 2, dtype=torch.float64, device=device) / r",
]
WRONG_WAY = ("signs = torch.tensor([-1.0, 1.0]", "signs = torch.tensor([1.0, -1.0]")
CONSTANTS = "_rotation_constants(r, float(base), interleaved, x.dtype, x.device)"
TABLE_LAYOUT = "if interleaved:  # pair i's angle in columns 2i and 2i + 1"
MATRIX_VERSION = """
    idx = torch.arange(0, r, 2, device=x.device)
    a = torch.as_tensor(positions, device=x.device).to(torch.float64)[..., None] * theta
    cos_f, sin_f = a.cos(), a.sin()
    R = torch.zeros(*cos_f.shape[:-1], r, r, dtype=torch.float64, device=x.device)  # [..., T, r, r]
    i, j = (idx, idx + 1) if interleaved else (idx // 2, idx // 2 + half)
    R[..., i, i], R[..., i, j], R[..., j, i], R[..., j, j] = cos_f, -sin_f, sin_f, cos_f
    out = x.clone()
    out[..., :r] = (R @ x[..., :r, None].to(torch.float64))[..., 0].to(x.dtype)
    return out
"""
OUT_KWARG_VERSION = """
    out = torch.empty_like(x)
    torch.mul(x, cos, out=out)
    torch.addcmul(out, swapped, sin, out=out)
    return out
"""

# (wrong version, replacements in solutions/rope.py, check that must fail, words its message must hold)
ROPE_MISTAKES = [
    (
        "exponent -i/d",
        [
            (
                t,
                t.replace("arange(0, dim, 2", "arange(0, dim // 2").replace(
                    "arange(0, r, 2", "arange(0, r // 2"
                ),
            )
            for t in THETAS
        ],
        "angles m * theta_i",
        "exponent is -2i/d",
    ),
    (
        "rotation the wrong way",
        [WRONG_WAY],
        "half-split pairs",
        "wrong way",
    ),
    (
        "sin and cos swapped",
        [
            (TABLE, "c, s = angles.sin().to(x.dtype), angles.cos().to(x.dtype)"),
            (
                "return angles.cos().to(dtype), angles.sin().to(dtype)",
                "return angles.sin().to(dtype), angles.cos().to(dtype)",
            ),
        ],
        "position 0 is the identity",
        "sin and cos swapped",
    ),
    (
        "half-split pairs when interleaved=True is asked (interleaved ignored)",
        [
            (CONSTANTS, CONSTANTS.replace("interleaved", "False")),
            (SWAP, SWAP.replace("interleaved", "False")),
            (PER_FEATURE, PER_FEATURE.replace("interleaved", "False")),
            (TABLE_LAYOUT, "if False:"),
        ],
        "adjacent pairs",
        "rotates half-split pairs",
    ),
    (
        "adjacent pairs when interleaved=False is asked",
        [
            (CONSTANTS, CONSTANTS.replace("interleaved", "True")),
            (SWAP, SWAP.replace("interleaved", "True")),
            (PER_FEATURE, PER_FEATURE.replace("interleaved", "True")),
            (TABLE_LAYOUT, "if True:"),
        ],
        "half-split pairs",
        "rotates adjacent pairs",
    ),
    (
        "positions off by one",
        [
            (
                ANGLES,
                ANGLES.replace(
                    "torch.as_tensor(positions, device=x.device)[..., None]",
                    "(torch.as_tensor(positions, device=x.device)[..., None] + 1)",
                ),
            )
        ],
        "positions used as given",
        "off by one",
    ),
    (
        "positions ignored (arange(T))",
        [
            (
                ANGLES,
                ANGLES.replace("torch.as_tensor(positions, device=x.device)", "torch.arange(x.shape[-2])"),
            )
        ],
        "positions used as given",
        "`positions` argument is ignored",
    ),
    (
        "base ignored",
        [("theta = base ** (", "theta = 10000.0 ** (")],
        "the base argument is used",
        "`base` argument is ignored",
    ),
    (
        "rotary_dim ignored",
        [("r = dim if rotary_dim is None else rotary_dim", "r = dim")],
        "partial rotary",
        "rotary_dim is ignored",
    ),
    (
        "pass-through features zeroed",
        [("torch.cat((out, x[..., r:]), dim=-1)", "torch.cat((out, torch.zeros_like(x[..., r:])), dim=-1)")],
        "partial rotary",
        "pass through unchanged",
    ),
    (
        "dtype not preserved (float32 out)",
        [
            (TABLE, "c, s = angles.cos().float(), angles.sin().float()"),
            ("out = swapped.mul_(sin)", "out = swapped.float().mul_(sin)"),
        ],
        "bf16 in, bf16 out",
        "bf16 x gave torch.float32",
    ),
    (
        "angles in low precision",
        [
            (
                ANGLES,
                ANGLES.replace("[..., None] * theta", "[..., None].to(x.dtype) * theta.to(x.dtype)"),
            )
        ],
        "angles precise at large positions",
        "low precision",
    ),
    (
        "input modified in place",
        [("out = swapped.mul_(sin).addcmul_(rot, cos)", "out = rot.mul_(cos).addcmul_(swapped, sin)")],
        "x is not modified in place",
        "changed its input x",
    ),
    (
        "[T, dim, dim] matrix built",
        [
            (
                "    rot = x if r == dim else x[..., :r]\n",
                MATRIX_VERSION + "    rot = x if r == dim else x[..., :r]\n",
            )
        ],
        "no [T, dim, dim]",
        "rotation matrix is O(T d^2)",
    ),
    (
        "out= writes break autograd",
        [("    out = swapped.mul_(sin).addcmul_(rot, cos)\n", OUT_KWARG_VERSION)],
        "gradients flow through apply_rope",
        "out= arguments",
    ),
    (
        "no ValueError for odd sizes",
        [("if dim % 2 != 0 or r % 2 != 0:", "if False:"), ("if dim % 2 != 0:", "if False:")],
        "ValueError for odd dim",
        "odd dim 7: expected ValueError",
    ),
    (
        "rope_cos_sin interleaved table",
        [("angles = torch.cat((angles, angles), dim=-1)", "angles = angles.repeat_interleave(2, dim=-1)")],
        "rope_cos_sin",
        "half-split layout",
    ),
    (
        "a precomputed table read as (sin, cos)",
        [("        cos, sin = cos_sin", "        sin, cos = cos_sin")],
        "cos_sin: a precomputed table gives the same rotation",
        "differ from RoPE by the definition",
    ),
    (
        "complex form rotating backwards",
        [("torch.polar(torch.ones_like(angles), angles)", "torch.polar(torch.ones_like(angles), -angles)")],
        "apply_rope_complex",
        "wrong way",
    ),
    (
        "complex form not cast back",
        [("flatten(-2).to(x.dtype)", "flatten(-2)")],
        "apply_rope_complex",
        "cast back to x.dtype",
    ),
]

SINUSOIDAL_MISTAKES = [
    (
        "sin and cos concatenated",
        [
            (
                "pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)",
                "pe = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)",
            )
        ],
        "sin and cos interleaved",
        "concatenated",
    ),
    (
        "multiply instead of divide",
        [("omega = base ** (-torch", "omega = base ** (torch")],
        "frequencies omega_i",
        "multiplied by the power instead of divided",
    ),
    (
        "angles p * 2i/d with no base (source document 000's formula)",
        [
            (
                "omega = base ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)",
                "omega = torch.arange(0, d_model, 2, dtype=torch.float64) / d_model",
            )
        ],
        "frequencies omega_i",
        "no base at all (source document 000's formula)",
    ),
    (
        "shape [1, L, d]",
        [("return pe.to(torch.float32)", "return pe.to(torch.float32).unsqueeze(0)")],
        "shape [length, d_model]",
        "shape is [1, 50, 16]",
    ),
    (
        "odd d_model accepted",
        [("if d_model % 2 != 0:", "if False:")],
        "ValueError for odd d_model",
        "odd d_model 7: expected ValueError",
    ),
    (
        "exponent i/d",
        [("torch.arange(0, d_model, 2, dtype", "torch.arange(0, d_model // 2, dtype")],
        "frequencies omega_i",
        "exponent is 2i/d",
    ),
    (
        "sin and cos swapped",
        [
            (
                "pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)",
                "pe[:, 0::2] = torch.cos(angles)\n    pe[:, 1::2] = torch.sin(angles)",
            )
        ],
        "position 0",
        "sin and cos are swapped",
    ),
    (
        "base ignored",
        [("omega = base ** (", "omega = 10000.0 ** (")],
        "the base argument is used",
        "`base` argument is ignored",
    ),
    (
        "float64 table returned",
        [("return pe.to(torch.float32)", "return pe")],
        "shape [length, d_model]",
        "must be float32",
    ),
]


@pytest.mark.parametrize(
    "name, replacements, check_name, words", ROPE_MISTAKES, ids=[m[0] for m in ROPE_MISTAKES]
)
def test_rope_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "rope", mutate(solution_source("rope"), replacements))
    assert_caught(result, check_name, words)


@pytest.mark.parametrize(
    "name, replacements, check_name, words", SINUSOIDAL_MISTAKES, ids=[m[0] for m in SINUSOIDAL_MISTAKES]
)
def test_sinusoidal_mistake_is_caught(tmp_path, name, replacements, check_name, words):
    result = grade_wrong(tmp_path, "sinusoidal", mutate(solution_source("sinusoidal"), replacements))
    assert_caught(result, check_name, words)


def test_source_documents_sinusoidal_code_fails(tmp_path):
    """The seed's positional_encoding, verbatim in tests/wrong/, scores nothing on the shape checks."""
    result = grade_wrong(tmp_path, "sinusoidal", (WRONG / "sinusoidal_seed.py").read_text())
    assert_caught(result, "shape [length, d_model]", "shape")
    assert_caught(result, "frequencies omega_i", "sinusoidal_encoding")


def test_hf_style_float32_angles_are_accepted(tmp_path):
    """Angles computed in float32 (as Hugging Face does) are 'float32 or better': full marks."""
    source = mutate(
        solution_source("rope"),
        [
            (COS_SIN_ANGLES, "angles = positions.to(torch.float32)[..., None] * theta.float()"),
            (
                "angles.cos().to(dtype), angles.sin().to(dtype)",
                "angles.double().cos().to(dtype), angles.double().sin().to(dtype)",
            ),
            (
                ANGLES,
                ANGLES.replace("[..., None] * theta", "[..., None].float() * theta.float()"),
            ),
            (TABLE, TABLE.replace("angles.", "angles.double().")),
        ],
    )
    result = grade_wrong(tmp_path, "rope", source)
    assert result.all_passed, [c for c in result.checks if not c.passed]
