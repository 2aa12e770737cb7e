"""Independent checks of the long_context corpus cases (run from the repository root)."""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from _load import load_case, load_reference  # noqa: E402

HERE = Path(__file__).resolve().parent
ref = load_reference("long_context")
results = []


def report(name, ok, what):
    results.append(ok)
    print(("OK" if ok else "FAIL"), name, what)


def raises(fn):
    try:
        fn()
    except ValueError:
        return True
    return False


def llama3_def(dim, base, factor, L, lo, hi):
    out = []
    for i in range(dim // 2):
        th = base ** (-2 * i / dim)
        w = 2 * math.pi / th
        if w < L / hi:
            out.append(th)
        elif w > L / lo:
            out.append(th / factor)
        else:
            s = (L / w - lo) / (hi - lo)
            out.append((1 - s) * th / factor + s * th)
    return torch.tensor(out, dtype=torch.float64)


m = load_case(HERE / "wrong_interp_float32_r2.py")
p = torch.tensor([1_000_001, 16_777_217])
got = m.interpolate_positions(p, 3.0)
exact = torch.tensor([1_000_001 / 3, 16_777_217 / 3], dtype=torch.float64)
d = (got.double() - exact).abs().max().item()
report("wrong_interp_float32_r2.py", got.dtype != torch.float64 and d > 1e-3,
       f"dtype {got.dtype} (float64 required), off by {d:.3f} from the float64 quotient")

m = load_case(HERE / "wrong_yarn_factor_below_one_r2.py")
_, f = m.yarn_inv_freq(64, 1e4, 0.5, 2048)
_, f4 = m.yarn_inv_freq(128, 1e4, 4.0, 4096)
report("wrong_yarn_factor_below_one_r2.py", abs(f - 1.0) > 0.05 and abs(f4 - 1.138629) < 1e-6,
       f"scale 0.5: attention_factor {f:.6f} instead of 1; scale 4 correct ({f4:.6f})")

m = load_case(HERE / "wrong_llama3_blend_hardcoded_factors_r2.py")
got = m.llama3_inv_freq(128, 5e5, 8.0, 8192, low_freq_factor=2.0, high_freq_factor=8.0)
want = llama3_def(128, 5e5, 8.0, 8192, 2.0, 8.0)
rel = ((got - want).abs() / want).max().item()
dflt = ((m.llama3_inv_freq(128, 5e5, 8.0, 8192) - llama3_def(128, 5e5, 8.0, 8192, 1.0, 4.0)).abs() / want).max().item()
report("wrong_llama3_blend_hardcoded_factors_r2.py", rel > 0.05 and dflt < 1e-12,
       f"low/high factors 2/8: up to {rel:.1%} of theta_i off the docstring formula; default factors exact")

m = load_case(HERE / "valid_loops_and_clamped_blend_r2.py")
ok, worst = True, 0.0


def close(a, b):
    global worst
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    err = ((a - b).abs() / b.abs().clamp(min=1e-300)).max().item() if a.numel() else 0.0
    worst = max(worst, err)
    return a.shape == b.shape and err < 1e-12


for p in (torch.arange(10), torch.tensor([[3, 17], [1_000_001, 5]]), torch.tensor([0.5, 2.25])):
    for s in (0.5, 4.0, 3.0):
        r = m.interpolate_positions(p, s)
        ok &= r.dtype == torch.float64 and close(r, ref.interpolate_positions(p, s))
for dim, base, s in ((4, 1e4, 2.0), (64, 1e4, 8.0), (128, 5e5, 0.5)):
    b = m.ntk_scaled_base(base, s, dim)
    ok &= isinstance(b, float) and close(b, ref.ntk_scaled_base(base, s, dim))
for dim, base, s, L, bf, bs in ((128, 1e4, 4.0, 4096, 32.0, 1.0), (64, 1e4, 0.5, 2048, 32.0, 1.0),
                                (32, 5e5, 16.0, 1024, 8.0, 2.0), (16, 1e4, 1.0, 64, 32.0, 1.0), (8, 10.0, 2.0, 10**6, 32.0, 1.0)):
    a, fa = m.yarn_inv_freq(dim, base, s, L, beta_fast=bf, beta_slow=bs)
    b, fb = ref.yarn_inv_freq(dim, base, s, L, beta_fast=bf, beta_slow=bs)
    ok &= a.dtype == torch.float64 and close(a, b) and abs(fa - fb) < 1e-12
_, fex = m.yarn_inv_freq(128, 1e4, 4.0, 4096)
ok &= abs(fex - 1.138629) < 1e-6
for args in ((128, 5e5, 8.0, 8192, 1.0, 4.0), (128, 5e5, 8.0, 8192, 2.0, 8.0), (64, 1e4, 4.0, 2048, 1.5, 3.0), (32, 1e4, 2.0, 100, 1.0, 4.0)):
    a = m.llama3_inv_freq(*args[:4], low_freq_factor=args[4], high_freq_factor=args[5])
    ok &= a.dtype == torch.float64 and close(a, ref.llama3_inv_freq(*args[:4], low_freq_factor=args[4], high_freq_factor=args[5]))
    ok &= close(a, llama3_def(*args))
for dim, R, base in ((8, 0, 1e4), (64, 300, 1e4), (128, 50, 500.0)):
    a = m.long_term_decay_bound(dim, R, base)
    ok &= a.dtype == torch.float64 and close(a, ref.long_term_decay_bound(dim, R, base))
    ok &= abs(a[0].item() - (dim / 2 + 1) / 2) < 1e-12
ok &= raises(lambda: m.interpolate_positions(torch.arange(3), 0))
ok &= raises(lambda: m.interpolate_positions(torch.arange(3), -1.0))
ok &= all(raises(lambda a=a: m.ntk_scaled_base(1e4, *a)) for a in ((2.0, 7), (2.0, 2), (0.0, 64), (-1.0, 64)))
ok &= raises(lambda: m.yarn_inv_freq(63, 1e4, 2.0, 4096)) and raises(lambda: m.yarn_inv_freq(64, 1e4, 0.0, 4096))
ok &= raises(lambda: m.llama3_inv_freq(63, 1e4, 8.0, 8192))
ok &= raises(lambda: m.llama3_inv_freq(64, 1e4, 8.0, 8192, low_freq_factor=4.0, high_freq_factor=4.0))
ok &= raises(lambda: m.long_term_decay_bound(63, 10)) and raises(lambda: m.long_term_decay_bound(64, -1))
report("valid_loops_and_clamped_blend_r2.py", bool(ok),
       f"all five functions match the reference (worst rel {worst:.1e}) and the docstring definitions on several dims/bases/scales/factors; example factor 1.138629; documented ValueErrors raised")

sys.exit(0 if all(results) else 1)
