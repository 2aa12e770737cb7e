"""Verify the rope_2d corpus: each wrong case breaks the docstring's contract in the function it names
(and only there); each valid case meets the whole contract.

Run from the repository root: python tests/corpus/rope_2d/_verify.py
Expected values: a per-pair float64 loop of the module docstring's definitions (written here), the
documented identities (one row == 1-D RoPE of the column, text tokens == 1-D RoPE), and the reference
solution as a black box for a cross-check.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402

GEN = torch.Generator().manual_seed(0)


def randn(*shape, dtype=torch.float64):
    return torch.randn(*shape, generator=GEN, dtype=torch.float64).to(dtype)


# ------------------------------------------------------------------ independent definitions
def grid_def(h, w):
    rows = [t // w for t in range(h * w)]
    cols = [t % w for t in range(h * w)]
    return np.array(rows), np.array(cols)


def rope2d_def(x, rows, cols, base=100.0):
    x = x.double().numpy()
    d = x.shape[-1]
    rows = np.broadcast_to(rows.numpy(), x.shape[:-1]).astype(np.float64)
    cols = np.broadcast_to(cols.numpy(), x.shape[:-1]).astype(np.float64)
    out = np.empty_like(x)
    for p in range(d // 2):
        j = p % (d // 4)
        pos = cols if p < d // 4 else rows
        a = pos * base ** (-4.0 * j / d)
        x1, x2 = x[..., 2 * p], x[..., 2 * p + 1]
        out[..., 2 * p] = x1 * np.cos(a) - x2 * np.sin(a)
        out[..., 2 * p + 1] = x1 * np.sin(a) + x2 * np.cos(a)
    return out


def mrope_def(x, positions, sections, base=10000.0):
    x = x.double().numpy()
    d = x.shape[-1]
    h = d // 2
    pos = positions.double().numpy()
    out = np.empty_like(x)
    s_t, s_h, _ = sections
    for j in range(h):
        k = 0 if j < s_t else 1 if j < s_t + s_h else 2
        a = np.broadcast_to(pos[k], x.shape[:-1]) * base ** (-2.0 * j / d)
        x1, x2 = x[..., j], x[..., j + h]
        out[..., j] = x1 * np.cos(a) - x2 * np.sin(a)
        out[..., j + h] = x1 * np.sin(a) + x2 * np.cos(a)
    return out


def agree(out, exp, x_dtype):
    """Does out have x's dtype and shape and equal exp (float64) up to x's rounding?"""
    if not isinstance(out, torch.Tensor) or out.dtype != x_dtype or tuple(out.shape) != exp.shape:
        return False, f"dtype/shape {getattr(out, 'dtype', type(out))}/{tuple(getattr(out, 'shape', ()))}, want {x_dtype}/{exp.shape}"
    tol = {torch.float64: (1e-12, 1e-12), torch.float32: (1e-5, 1e-5), torch.bfloat16: (0.04, 0.02)}[x_dtype]
    err = np.abs(out.double().numpy() - exp)
    ok = bool(np.all(err <= tol[0] + tol[1] * np.abs(exp)))
    return ok, f"max |error| {err.max():.3g}"


def raises_value_error(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except ValueError:
        return True
    except Exception:  # noqa: BLE001
        return False
    return False


def contract_failures(mod, rope1d) -> dict[str, list[str]]:
    fails: dict[str, list[str]] = {}

    def bad(fn, msg):
        fails.setdefault(fn, []).append(msg)

    f = "grid_positions"
    for h, w in [(1, 1), (2, 3), (3, 2), (4, 4), (1, 7), (5, 1)]:
        rows, cols = mod.grid_positions(h, w)
        er, ec = grid_def(h, w)
        if rows.dtype != torch.int64 or cols.dtype != torch.int64 or tuple(rows.shape) != (h * w,) or tuple(cols.shape) != (h * w,):
            bad(f, f"dtype/shape for {h}x{w}")
        elif not (np.array_equal(rows.numpy(), er) and np.array_equal(cols.numpy(), ec)):
            bad(f, f"{h}x{w}: rows {rows.tolist()} cols {cols.tolist()}")
    for h, w in [(0, 3), (3, 0), (-1, 2), (2, -1)]:
        if not raises_value_error(mod.grid_positions, h, w):
            bad(f, f"no ValueError for {h} x {w}")

    f = "apply_rope_2d"
    r35, c35 = (torch.tensor(a) for a in grid_def(3, 5))
    r44, c44 = (torch.tensor(a) for a in grid_def(4, 4))
    rb = torch.randint(0, 20, (2, 15), generator=GEN)
    cb = torch.randint(0, 20, (2, 15), generator=GEN)
    tests = [
        (randn(15, 16), r35, c35, {}),
        (randn(2, 3, 15, 16), r35, c35, {}),
        (randn(2, 16, 8), r44, c44, {"base": 10000.0}),
        (randn(2, 15, 16), rb, cb, {}),  # a different grid for each batch row
        (randn(2, 4, 15, 8), rb[:, None, :], cb[:, None, :], {"base": 7.0}),
        (randn(15, 4), r35, c35, {}),
        (randn(15, 16, dtype=torch.float32), r35, c35, {}),
        (randn(2, 15, 16, dtype=torch.bfloat16), r35 * 40, c35 * 60, {}),
    ]
    for x, r, c, kw in tests:
        x_before = x.clone()
        try:
            out = mod.apply_rope_2d(x, r, c, **kw)
        except Exception as exc:  # noqa: BLE001
            bad(f, f"x {tuple(x.shape)} {x.dtype}, rows {tuple(r.shape)}, {kw}: raises {type(exc).__name__}: {exc}")
            continue
        ok, msg = agree(out, rope2d_def(x, r, c, kw.get("base", 100.0)), x.dtype)
        if not ok:
            bad(f, f"x {tuple(x.shape)} {x.dtype}, rows {tuple(r.shape)}, {kw}: {msg}")
        if not torch.equal(x, x_before):
            bad(f, "modifies its input")
    x = randn(3, 16)
    cols = torch.tensor([0, 5, 9])
    one_row = mod.apply_rope_2d(x, torch.zeros(3, dtype=torch.long), cols)
    ref1d = rope1d.apply_rope(x, cols, base=100.0, interleaved=True, rotary_dim=8)
    if one_row.dtype != ref1d.dtype or not torch.allclose(one_row, ref1d, atol=1e-12):
        bad(f, f"one row != 1-D RoPE of the column (max diff {(one_row - ref1d).abs().max():.3g})")
    for d in (6, 2, 7, 10):
        if not raises_value_error(mod.apply_rope_2d, randn(5, d), torch.zeros(5, dtype=torch.long), torch.arange(5)):
            bad(f, f"no ValueError for d = {d}")

    f = "apply_mrope"
    T = 8
    text = torch.arange(T).expand(3, T)
    img = torch.randint(0, 30, (3, T), generator=GEN)
    tests = [
        (randn(T, 16), text, (2, 3, 3), {}),
        (randn(2, T, 16), img, (2, 3, 3), {}),
        (randn(1, 2, T, 128), torch.randint(0, 64, (3, T), generator=GEN), (16, 24, 24), {}),
        (randn(2, T, 16), torch.randint(0, 30, (3, 2, T), generator=GEN), (2, 3, 3), {"base": 500.0}),
        (randn(2, 4, T, 16), torch.randint(0, 30, (3, 2, 1, T), generator=GEN), (0, 4, 4), {}),
        (randn(T, 16), img, (8, 0, 0), {}),
        (randn(T, 16, dtype=torch.float32), img, (2, 3, 3), {}),
        (randn(1, 64, 16, dtype=torch.bfloat16), torch.arange(1000, 1064).expand(3, 64), (2, 3, 3), {}),
    ]
    for x, pos, sec, kw in tests:
        x_before = x.clone()
        try:
            out = mod.apply_mrope(x, pos, sec, **kw)
        except Exception as exc:  # noqa: BLE001
            bad(f, f"x {tuple(x.shape)} {x.dtype}, positions {tuple(pos.shape)}, sections {sec}: raises {type(exc).__name__}: {exc}")
            continue
        ok, msg = agree(out, mrope_def(x, pos, sec, kw.get("base", 10000.0)), x.dtype)
        if not ok:
            bad(f, f"x {tuple(x.shape)} {x.dtype}, positions {tuple(pos.shape)}, sections {sec}: {msg}")
        if not torch.equal(x, x_before):
            bad(f, "modifies its input")
    x = randn(2, T, 16)
    text_out = mod.apply_mrope(x, text, (2, 3, 3))
    if text_out.dtype != x.dtype or not torch.allclose(text_out, rope1d.apply_rope(x, torch.arange(T)), atol=1e-12):
        bad(f, "text tokens != 1-D RoPE")
    for x, pos, sec in [(randn(T, 15), text, (2, 3, 2)), (randn(T, 16), text[:2], (2, 3, 3)),
                        (randn(T, 16), torch.arange(T).expand(4, T), (2, 3, 3)),
                        (randn(T, 128), text, (16, 24, 20)), (randn(T, 128), text, (16, 24, 32))]:
        if not raises_value_error(mod.apply_mrope, x, pos, sec):
            bad(f, f"no ValueError for d {x.shape[-1]}, positions {tuple(pos.shape)}, sections {sec}")
    return fails


EXPECTED = {
    "wrong_grid_column_major": "grid_positions", "wrong_grid_width_not_checked": "grid_positions",
    "wrong_2d_rows_first": "apply_rope_2d", "wrong_2d_half_split_in_halves": "apply_rope_2d",
    "wrong_2d_theta_full_dim": "apply_rope_2d", "wrong_2d_ignores_base": "apply_rope_2d",
    "wrong_2d_float32_output": "apply_rope_2d", "wrong_2d_outer_positions": "apply_rope_2d",
    "wrong_2d_only_even_check": "apply_rope_2d",
    "wrong_mrope_noncumulative_sections": "apply_mrope", "wrong_mrope_adjacent_pairs": "apply_mrope",
    "wrong_mrope_per_section_frequencies": "apply_mrope", "wrong_mrope_no_leading_size_check": "apply_mrope",
    "wrong_mrope_no_sections_check": "apply_mrope", "wrong_mrope_angles_in_input_dtype": "apply_mrope",
}


def outcome(fn, *args, **kw):
    try:
        out = fn(*args, **kw)
    except Exception as exc:  # noqa: BLE001
        return type(exc).__name__
    return f"tensor {tuple(out.shape)}" if isinstance(out, torch.Tensor) else repr(out)


def specific_evidence(name, mod, rope1d):
    g = torch.Generator().manual_seed(1)
    if name == "wrong_grid_column_major":
        r, c = mod.grid_positions(2, 3)
        return f"2x3 rows {r.tolist()} cols {c.tolist()}"
    if name == "wrong_grid_width_not_checked":
        return f"(3, 0) -> {outcome(mod.grid_positions, 3, 0)}, (3, -1) -> {outcome(mod.grid_positions, 3, -1)}"
    if name.startswith("wrong_2d"):
        x = torch.randn(2, 15, 16, generator=g, dtype=torch.float64)
        r, c = (torch.tensor(a) for a in grid_def(3, 5))
        if name == "wrong_2d_only_even_check":
            z = torch.zeros(5, dtype=torch.long)
            return f"d 6 -> {outcome(mod.apply_rope_2d, torch.randn(5, 6), z, z)}, d 2 -> {outcome(mod.apply_rope_2d, torch.randn(5, 2), z, z)}"
        if name == "wrong_2d_outer_positions":
            return f"[2, 15] positions -> {outcome(mod.apply_rope_2d, x, r.expand(2, 15), c.expand(2, 15))}"
        if name == "wrong_2d_rows_first":
            xs, cols = x[0, :3], torch.tensor([0, 5, 9])
            out = mod.apply_rope_2d(xs, torch.zeros(3, dtype=torch.long), cols)
            ref = rope1d.apply_rope(xs, cols, base=100.0, interleaved=True, rotary_dim=8)
            return f"one row vs 1-D RoPE: max diff {(out - ref).abs().max():.3g}, first half unchanged: {torch.equal(out[..., :8], xs[..., :8])}"
        base = 10000.0 if name == "wrong_2d_ignores_base" else 100.0
        out = mod.apply_rope_2d(x, r, c, base=base)
        return f"dtype {out.dtype}, max diff vs definition {np.abs(out.double().numpy() - rope2d_def(x, r, c, base)).max():.3g}"
    if name == "wrong_mrope_no_leading_size_check":
        x = torch.randn(8, 16, generator=g)
        return f"[4, 8] -> {outcome(mod.apply_mrope, x, torch.arange(8).expand(4, 8), (2, 3, 3))}, [2, 8] -> {outcome(mod.apply_mrope, x, torch.arange(8).expand(2, 8), (2, 3, 3))}"
    if name == "wrong_mrope_no_sections_check":
        return f"(16, 24, 20) -> {outcome(mod.apply_mrope, torch.randn(8, 128, generator=g), torch.arange(8).expand(3, 8), (16, 24, 20))}"
    if name == "wrong_mrope_angles_in_input_dtype":
        x = torch.randn(1, 64, 16, generator=g).to(torch.bfloat16)
        pos = torch.arange(1000, 1064).expand(3, 64)
        exp = mrope_def(x, pos, (2, 3, 3))
        good = np.abs(torch.tensor(exp).to(torch.bfloat16).double().numpy() - exp).max()
        return f"bf16 max err {np.abs(mod.apply_mrope(x, pos, (2, 3, 3)).double().numpy() - exp).max():.3g} (rounding alone {good:.3g})"
    if name == "wrong_mrope_noncumulative_sections":
        x = torch.randn(1, 128, generator=g, dtype=torch.float64)
        pos = torch.tensor([[0], [3], [9]])
        return f"(0,3,9) d 128: max diff {np.abs(mod.apply_mrope(x, pos, (16, 24, 24)).numpy() - mrope_def(x, pos, (16, 24, 24))).max():.3g}, w*theta30 {9 * 1e4 ** (-60 / 128):.3g}, h*theta30 {3 * 1e4 ** (-60 / 128):.3g}"
    x = torch.randn(8, 16, generator=g, dtype=torch.float64)
    out = mod.apply_mrope(x, torch.arange(8).expand(3, 8), (2, 3, 3))
    return f"text tokens vs 1-D RoPE: max diff {(out - rope1d.apply_rope(x, torch.arange(8))).abs().max():.3g}"


def main() -> int:
    ref = load_reference("rope_2d")
    rope1d = load_reference("rope")
    assert not contract_failures(ref, rope1d), contract_failures(ref, rope1d)
    failed = 0
    for path in cases("rope_2d"):
        name = path.stem
        try:
            mod = load_case(path)
            fails = contract_failures(mod, rope1d)
        except Exception as exc:  # noqa: BLE001
            print(f"FAIL {path.name} crashed: {type(exc).__name__}: {exc}")
            failed += 1
            continue
        if name.startswith("valid_"):
            if fails:
                print(f"FAIL {path.name} valid case breaks the contract: {fails}")
                failed += 1
            else:
                print(f"OK {path.name} meets every contract check (6 grids, 8 apply_rope_2d and 8 apply_mrope inputs, both 1-D identities, all ValueErrors)")
            continue
        target = EXPECTED.get(name)
        if target is None or set(fails) != {target}:
            print(f"FAIL {path.name} expected failures only in {target}, got {fails}")
            failed += 1
        else:
            print(f"OK {path.name} {target}: {fails[target][0]} | {specific_evidence(name, mod, rope1d)}")
    print(f"{len(cases('rope_2d', 'wrong'))} wrong, {len(cases('rope_2d', 'valid'))} valid, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
