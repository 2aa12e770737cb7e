"""Independent checks of the rope corpus cases (run from the repository root)."""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from _load import load_case, load_reference  # noqa: E402

HERE = Path(__file__).resolve().parent
ref = load_reference("rope")
results = []


def report(name, ok, what):
    results.append(ok)
    print(("OK" if ok else "FAIL"), name, what)


def definition(x, positions, base=10000.0, interleaved=False, r=None):
    """Per-pair rotation, float64, loops over pairs."""
    x = x.double()
    dim = x.shape[-1]
    r = dim if r is None else r
    out = x.clone()
    pos = positions.double()
    for i in range(r // 2):
        th = base ** (-2 * i / r)
        a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + r // 2)
        ang = pos * th
        c, s = torch.cos(ang), torch.sin(ang)
        out[..., a] = x[..., a] * c - x[..., b] * s
        out[..., b] = x[..., b] * c + x[..., a] * s
    return out


def raises(fn):
    try:
        fn()
    except ValueError:
        return True
    return False


g = torch.Generator().manual_seed(0)

# wrong_cos_sin_angles_in_dtype
m = load_case(HERE / "wrong_cos_sin_angles_in_dtype_r2.py")
pos = torch.tensor([60000, 60001, 70001])
cos, sin = m.rope_cos_sin(pos, 64, dtype=torch.bfloat16)
th = 10000.0 ** (-torch.arange(0, 64, 2, dtype=torch.float64) / 64)
ang = pos.double()[:, None] * th
exp_cos = torch.cat([ang, ang], -1).cos().to(torch.bfloat16)
d = (cos.double() - exp_cos.double()).abs().max().item()
rc, _ = ref.rope_cos_sin(pos, 64, dtype=torch.bfloat16)
dref = (rc.double() - exp_cos.double()).abs().max().item()
c32, _ = m.rope_cos_sin(pos, 64)
d32 = (c32.double() - torch.cat([ang, ang], -1).cos()).abs().max().item()
report("wrong_cos_sin_angles_in_dtype_r2.py", d > 0.5 and dref < 1e-2,
       f"bf16 table at positions 60000+ off by {d:.2f} from cos(float64 angles) in bf16 (reference {dref:.3f}); float32 default off by {d32:.1e}")

# wrong_rotary_dim_freqs_use_full_dim
m = load_case(HERE / "wrong_rotary_dim_freqs_use_full_dim_r2.py")
x = torch.randn(1, 5, 16, generator=g, dtype=torch.float64)
p = torch.arange(5)
d = (m.apply_rope(x, p, rotary_dim=8) - definition(x, p, r=8)).abs().max().item()
full = (m.apply_rope(x, p) - definition(x, p)).abs().max().item()
report("wrong_rotary_dim_freqs_use_full_dim_r2.py", d > 0.1 and full < 1e-12,
       f"rotary_dim 8 of 16: differs from theta_i = base**(-2i/8) by {d:.3f}; full rotary exact ({full:.1e})")

# wrong_interleaved_written_back_half_split
m = load_case(HERE / "wrong_interleaved_written_back_half_split_r2.py")
x = torch.randn(2, 4, 8, generator=g, dtype=torch.float64)
p = torch.arange(4)
d = (m.apply_rope(x, p, interleaved=True) - definition(x, p, interleaved=True)).abs().max().item()
hs = (m.apply_rope(x, p) - definition(x, p)).abs().max().item()
report("wrong_interleaved_written_back_half_split_r2.py", d > 0.5 and hs < 1e-12,
       f"interleaved=True differs from the (2i, 2i+1) definition by {d:.3f}; half-split exact")

# wrong_complex_pairs_half_split
m = load_case(HERE / "wrong_complex_pairs_half_split_r2.py")
x = torch.randn(3, 8, generator=g, dtype=torch.float64)
p = torch.arange(3)
d = (m.apply_rope_complex(x, p) - definition(x, p, interleaved=True)).abs().max().item()
report("wrong_complex_pairs_half_split_r2.py", d > 0.5,
       f"apply_rope_complex differs from the interleaved definition by {d:.3f}")

# valid_permute_rotate_half
m = load_case(HERE / "valid_permute_rotate_half_r2.py")
ok, worst = True, 0.0
for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5), (torch.bfloat16, 3e-2)):
    for shape, pos in (
        ((2, 3, 6, 16), torch.arange(6)),
        ((2, 3, 6, 16), torch.stack([torch.arange(6) + 60000, torch.arange(6) * 3])[:, None, :]),
        ((5, 8), torch.tensor([0, 1, 7, 100, 65000])),
    ):
        x = torch.randn(*shape, generator=g).to(dtype)
        for inter in (False, True):
            for r in (None, 4, 8):
                if r is not None and r > shape[-1]:
                    continue
                a = m.apply_rope(x, pos, interleaved=inter, rotary_dim=r)
                b = ref.apply_rope(x, pos, interleaved=inter, rotary_dim=r)
                e = definition(x, pos.expand(*x.shape[:-1]), interleaved=inter, r=r)
                ok &= a.dtype == dtype and a.shape == x.shape
                err = max((a.double() - b.double()).abs().max().item(), (a.double() - e).abs().max().item() if dtype != torch.bfloat16 else 0)
                worst = max(worst, err / tol)
                ok &= err <= tol * max(1.0, e.abs().max().item())
        a = m.apply_rope_complex(x, pos)
        b = ref.apply_rope_complex(x, pos)
        ok &= a.dtype == dtype and (a.double() - b.double()).abs().max().item() <= tol * 4
        c1, s1 = m.rope_cos_sin(pos, 16, 500.0, dtype=dtype)
        c2, s2 = ref.rope_cos_sin(pos, 16, 500.0, dtype=dtype)
        ok &= c1.shape == (*pos.shape, 16) and c1.dtype == dtype
        ok &= bool((c1.double() - c2.double()).abs().max() <= tol) and bool((s1.double() - s2.double()).abs().max() <= tol)
x = torch.randn(2, 4, 8, generator=g)
x0 = x.clone()
m.apply_rope(x, torch.arange(4), interleaved=True)
ok &= torch.equal(x, x0)
ok &= raises(lambda: m.apply_rope(torch.randn(2, 7), torch.arange(2)))
ok &= raises(lambda: m.apply_rope(torch.randn(2, 8), torch.arange(2), rotary_dim=3))
ok &= raises(lambda: m.apply_rope(torch.randn(2, 8), torch.arange(2), rotary_dim=10))
ok &= raises(lambda: m.apply_rope(torch.randn(2, 8), torch.arange(2), rotary_dim=-2))
ok &= raises(lambda: m.rope_cos_sin(torch.arange(2), 7))
ok &= raises(lambda: m.apply_rope_complex(torch.randn(2, 7), torch.arange(2)))
xg = torch.randn(3, 8, dtype=torch.float64, requires_grad=True)
m.apply_rope(xg, torch.arange(3)).sum().backward()
ok &= xg.grad is not None
report("valid_permute_rotate_half_r2.py", bool(ok),
       f"fp64/fp32/bf16, positions [T], [B,1,T] per row, 65000, both layouts, rotary_dim 4/8/16, complex form and tables agree with reference/definition (worst {worst:.2f} of tol); ValueErrors raised; x unmodified")

sys.exit(0 if all(results) else 1)
