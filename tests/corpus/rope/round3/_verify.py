"""Independent checks of the round-3 rope cases (layouts: large tensors and transposed views), against
a float64 definition written from the docstrings (run from the repository root)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from _load import load_case  # noqa: E402

HERE = Path(__file__).resolve().parent
torch.manual_seed(0)


def ref_rope(x, pos, base=10000.0, interleaved=False, r=None):
    xd = x.detach().to(torch.float64)
    dim = xd.shape[-1]
    r = dim if r is None else r
    h = r // 2
    theta = torch.tensor([base ** (-2.0 * i / r) for i in range(h)], dtype=torch.float64)
    ang = pos.to(torch.float64)[..., None] * theta
    c, s = torch.cos(ang), torch.sin(ang)
    if interleaved:
        i1 = torch.arange(0, r, 2); i2 = i1 + 1
    else:
        i1 = torch.arange(h); i2 = i1 + h
    a, b = xd[..., i1], xd[..., i2]
    out = xd.clone()
    out[..., i1] = a * c - b * s
    out[..., i2] = b * c + a * s
    return out


def ref_table(pos, dim, base=10000.0):
    h = dim // 2
    theta = torch.tensor([base ** (-2.0 * j / dim) for j in range(h)], dtype=torch.float64)
    ang = pos.to(torch.float64)[..., None] * theta
    ang = torch.cat([ang, ang], -1)
    return ang.cos(), ang.sin()


def same(out, x, ref, tol):
    return (out.shape == x.shape and out.dtype == x.dtype
            and torch.allclose(out.double(), ref, atol=tol, rtol=0))


def core_cases():
    c = []
    f64 = torch.float64
    # contiguous x of several ranks and positions shapes
    c.append(("contig 4D pos[T]", torch.randn(2, 4, 8, 16, dtype=f64), torch.arange(8), {}))
    c.append(("contig 3D pos[T]", torch.randn(4, 8, 16, dtype=f64), torch.arange(8) + 5, {}))
    c.append(("contig 2D pos[T]", torch.randn(8, 16, dtype=f64), torch.arange(8) * 3, {}))
    c.append(("contig 4D pos[B,1,T]", torch.randn(2, 3, 8, 16, dtype=f64), torch.randint(0, 500, (2, 1, 8)), {}))
    big = lambda: torch.randn(2, 64, 32, 32, dtype=f64).transpose(1, 2)
    c.append(("transposed", big(), torch.arange(64), {}))
    c.append(("interleaved contig", torch.randn(2, 4, 8, 16, dtype=f64), torch.arange(8), {"interleaved": True}))
    c.append(("interleaved transposed", big(), torch.arange(64), {"interleaved": True}))
    c.append(("rotary16 contig", torch.randn(2, 4, 8, 32, dtype=f64), torch.arange(8), {"rotary_dim": 16}))
    c.append(("rotary16 transposed", big(), torch.arange(64), {"rotary_dim": 16}))
    c.append(("rotary16 interleaved transposed", big(), torch.arange(64), {"rotary_dim": 16, "interleaved": True}))
    return c


def run_core(m):
    fails = []
    for name, x, pos, kw in core_cases():
        x0 = x.clone()
        try:
            out = m.apply_rope(x, pos, **kw)
            ref = ref_rope(x0, pos, interleaved=kw.get("interleaved", False), r=kw.get("rotary_dim"))
            if not torch.equal(x, x0):
                fails.append(f"{name}: x modified")
            elif not same(out, x0, ref, 1e-10):
                fails.append(f"{name}: wrong values/shape/dtype")
        except Exception as e:
            fails.append(f"{name}: raised {type(e).__name__}: {str(e)[:80]}")
    # complex variant, contiguous and transposed
    for name, x, pos in [("complex contig", torch.randn(3, 8, 16, dtype=torch.float64), torch.arange(8)),
                         ("complex transposed", torch.randn(2, 64, 32, 32, dtype=torch.float64).transpose(1, 2), torch.arange(64))]:
        x0 = x.clone()
        try:
            out = m.apply_rope_complex(x, pos)
            if not torch.equal(x, x0) or not same(out, x0, ref_rope(x0, pos, interleaved=True), 1e-10):
                fails.append(f"{name}: wrong")
        except Exception as e:
            fails.append(f"{name}: raised {type(e).__name__}: {str(e)[:80]}")
    return fails


def run_extra(m):
    fails = []
    def chk(name, fn):
        try:
            if not fn():
                fails.append(name)
        except Exception as e:
            fails.append(f"{name}: raised {type(e).__name__}: {str(e)[:80]}")
    # table
    def table():
        pos = torch.arange(20)
        c, s = m.rope_cos_sin(pos, 8)
        rc, rs = ref_table(pos, 8)
        ok = c.shape == (20, 8) and c.dtype == torch.float32 and torch.allclose(c.double(), rc, atol=1e-6)
        c64, s64 = m.rope_cos_sin(torch.arange(6).reshape(2, 3), 12, 500.0, dtype=torch.float64)
        rc, rs = ref_table(torch.arange(6).reshape(2, 3), 12, 500.0)
        ok &= c64.shape == (2, 3, 12) and torch.allclose(c64, rc, atol=1e-12) and torch.allclose(s64, rs, atol=1e-12)
        pbig = torch.tensor([60000, 65535, 123457])
        cb, sb = m.rope_cos_sin(pbig, 64, dtype=torch.bfloat16)
        rc, rs = ref_table(pbig, 64)
        ok &= cb.dtype == torch.bfloat16 and torch.equal(cb, rc.to(torch.bfloat16)) and torch.equal(sb, rs.to(torch.bfloat16))
        return ok
    chk("rope_cos_sin values/dtypes/float64 angles", table)
    def errors():
        bad = 0
        for f in [lambda: m.rope_cos_sin(torch.arange(4), 7),
                  lambda: m.apply_rope(torch.randn(4, 7), torch.arange(4)),
                  lambda: m.apply_rope(torch.randn(4, 8), torch.arange(4), rotary_dim=3),
                  lambda: m.apply_rope(torch.randn(4, 8), torch.arange(4), rotary_dim=10),
                  lambda: m.apply_rope(torch.randn(4, 8), torch.arange(4), rotary_dim=-2),
                  lambda: m.apply_rope_complex(torch.randn(4, 7), torch.arange(4))]:
            try:
                f()
            except ValueError:
                continue
            bad += 1
        return bad == 0
    chk("ValueErrors", errors)
    def table_arg():
        x = torch.randn(2, 4, 8, 32, dtype=torch.float64)
        pos = torch.arange(8) + 100
        cs = m.rope_cos_sin(pos, 16, dtype=torch.float64)
        out = m.apply_rope(x, pos, rotary_dim=16, cos_sin=cs)
        return same(out, x, ref_rope(x, pos, r=16), 1e-10)
    chk("cos_sin argument", table_arg)
    def table_used():
        # a table of other positions must be used as given
        x = torch.randn(2, 8, 16, dtype=torch.float64)
        cs = m.rope_cos_sin(torch.arange(8) + 7, 16, dtype=torch.float64)
        out = m.apply_rope(x, torch.arange(8), cos_sin=cs)
        return same(out, x, ref_rope(x, torch.arange(8) + 7), 1e-10)
    chk("cos_sin table is used", table_used)
    def dtypes():
        ok = True
        for dt, tol in [(torch.float32, 1e-4), (torch.bfloat16, 0.1), (torch.float16, 1e-2)]:
            x = torch.randn(2, 3, 8, 16).to(dt)
            for kw in [{}, {"interleaved": True}, {"rotary_dim": 8}]:
                out = m.apply_rope(x, torch.arange(8), **kw)
                ok &= same(out, x, ref_rope(x, torch.arange(8), interleaved=kw.get("interleaved", False), r=kw.get("rotary_dim")), tol)
            out = m.apply_rope_complex(x, torch.arange(8))
            ok &= same(out, x, ref_rope(x, torch.arange(8), interleaved=True), tol)
        return ok
    chk("float32/bf16/fp16 dtype out", dtypes)
    def grad():
        ok = True
        for kw in [{}, {"interleaved": True}, {"rotary_dim": 4}]:
            x = torch.randn(2, 5, 3, 8, dtype=torch.float64).transpose(1, 2).requires_grad_()
            ok &= torch.autograd.gradcheck(lambda t: m.apply_rope(t, torch.arange(5), **kw), (x,))
        x = torch.randn(3, 5, 8, dtype=torch.float64, requires_grad=True)
        ok &= torch.autograd.gradcheck(lambda t: m.apply_rope_complex(t, torch.arange(5)), (x,))
        return ok
    chk("gradcheck", grad)
    def large():
        x = torch.randn(4, 512, 16, 128).transpose(1, 2)  # 4M float32, strided
        pos = torch.arange(512) + 30000
        ok = True
        for kw in [{}, {"interleaved": True}, {"rotary_dim": 64}]:
            out = m.apply_rope(x, pos, **kw)
            ok &= same(out, x, ref_rope(x, pos, interleaved=kw.get("interleaved", False), r=kw.get("rotary_dim")), 1e-4)
        return ok
    chk("large strided float32", large)
    return fails


for path in sorted(HERE.glob("*_r3.py")):
    m = load_case(path)
    core, extra = run_core(m), run_extra(m)
    ok = not core and not extra if path.stem.startswith("valid_") else bool(core)
    print("OK" if ok else "FAIL", path.stem, f"core fails={len(core)} extra fails={len(extra)}", *core[:2])
