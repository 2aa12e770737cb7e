"""Independent checks of the attention corpus cases (run from the repository root)."""
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from _load import load_case, load_reference  # noqa: E402

HERE = Path(__file__).resolve().parent
ref = load_reference("attention")
results = []


def report(name, ok, what):
    results.append(ok)
    print(("OK" if ok else "FAIL"), name, what)


def definition(q, k, v, mask=None):
    q, k, v = q.double(), k.double(), v.double()
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    w = torch.softmax(s, -1)
    return w @ v, w


g = torch.Generator().manual_seed(0)
causal = torch.ones(5, 5, dtype=torch.bool).tril()

m = load_case(HERE / "wrong_mask_fill_minus_1e4_r2.py")
q = -100 * (1 + torch.rand(2, 5, 4, generator=g))  # every score about -2e4 .. -8e4: large but legal
k = 100 * (1 + torch.rand(2, 5, 4, generator=g))
v = torch.randn(2, 5, 4, generator=g)
_, w = m.scaled_dot_product_attention(q, k, v, causal)
leak = w.masked_select(~causal.expand(2, 5, 5)).abs().max().item()
_, wr = ref.scaled_dot_product_attention(q, k, v, causal)
leak_ref = wr.masked_select(~causal.expand(2, 5, 5)).abs().max().item()
small = m.scaled_dot_product_attention(q / 100, k / 100, v, causal)[1]
ok_small = (small.double() - definition(q / 100, k / 100, v, causal)[1]).abs().max().item() < 1e-6
report("wrong_mask_fill_minus_1e4_r2.py", leak > 0.1 and leak_ref == 0 and ok_small,
       f"scores -2e4..-8e4: masked weights reach {leak:.3f} (reference {leak_ref}); unit-scale inputs correct")

m = load_case(HERE / "wrong_scale_by_value_dim_r2.py")
q, k = torch.randn(2, 5, 16, generator=g, dtype=torch.float64), torch.randn(2, 5, 16, generator=g, dtype=torch.float64)
v = torch.randn(2, 5, 4, generator=g, dtype=torch.float64)
d = (m.scaled_dot_product_attention(q, k, v)[1] - definition(q, k, v)[1]).abs().max().item()
v16 = torch.randn(2, 5, 16, generator=g, dtype=torch.float64)
same = (m.scaled_dot_product_attention(q, k, v16)[1] - definition(q, k, v16)[1]).abs().max().item()
report("wrong_scale_by_value_dim_r2.py", d > 0.1 and same < 1e-12,
       f"d 16, dv 4: weights differ from softmax(qk^T/sqrt(16)) by {d:.3f}; dv == d exact")

torch.manual_seed(1)
pos_vec = torch.randn(5, 8, dtype=torch.float64)


def attn_layer(x):
    return definition(x, x, x)[0]


def positional_layer(x):
    return attn_layer(x + pos_vec)


def token_axis_answer(layer, x, perm, atol=1e-6):
    return bool(((layer(x.index_select(-2, perm)) - layer(x).index_select(-2, perm)).abs() <= atol).all())


m = load_case(HERE / "wrong_perm_on_first_axis_r2.py")
x = torch.randn(5, 5, 8, generator=g, dtype=torch.float64)
perm = torch.tensor([2, 0, 4, 1, 3])
got = m.is_permutation_equivariant(positional_layer, x, perm)
want = token_axis_answer(positional_layer, x, perm)
got2d = m.is_permutation_equivariant(positional_layer, x[0], perm)
report("wrong_perm_on_first_axis_r2.py", got is True and want is False and got2d is False,
       f"x [5, 5, 8], positional layer: case says {got}, token-axis definition says {want} (2-D x correct)")

m = load_case(HERE / "valid_einsum_manual_softmax_r2.py")
ok, worst = True, 0.0
for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-5)):
    for scale in (1.0, 100.0):
        q = scale * torch.randn(2, 3, 5, 8, generator=g).to(dtype)
        k = scale * torch.randn(2, 1, 7, 8, generator=g).to(dtype)
        v = torch.randn(2, 3, 7, 4, generator=g).to(dtype)
        for mask in (None, torch.ones(5, 7, dtype=torch.bool).tril(2), torch.rand(2, 1, 5, 7, generator=g) > 0.3):
            if mask is not None:
                mask = mask.clone()
                mask[..., 0] = True
            o1, w1 = m.scaled_dot_product_attention(q, k, v, mask)
            o2, w2 = ref.scaled_dot_product_attention(q, k, v, mask)
            oe, we = definition(q, k, v, mask)
            ok &= o1.dtype == dtype and w1.dtype == dtype and o1.shape == o2.shape and w1.shape == w2.shape
            err = max((o1.double() - oe).abs().max().item(), (w1.double() - we).abs().max().item(),
                      (o1 - o2).abs().max().item())
            worst = max(worst, err / tol)
            ok &= err <= tol * max(1.0, scale)
            if mask is not None:
                ok &= bool((w1.masked_select(~mask.expand_as(w1)) == 0).all())
for layer in (attn_layer, positional_layer):
    for xx in (torch.randn(5, 8, generator=g, dtype=torch.float64), torch.randn(3, 5, 8, generator=g, dtype=torch.float64),
               torch.randn(5, 5, 8, generator=g, dtype=torch.float64)):
        for p in (torch.tensor([2, 0, 4, 1, 3]), torch.arange(5)):
            a = m.is_permutation_equivariant(layer, xx, p)
            ok &= isinstance(a, bool) and a == token_axis_answer(layer, xx, p) == ref.is_permutation_equivariant(layer, xx, p)
report("valid_einsum_manual_softmax_r2.py", bool(ok),
       f"broadcast heads, 3 mask kinds, scale 100, fp32/fp64: matches definition and reference (worst {worst:.2f} of tol); equivariance answers agree on 2-D/3-D x, identity and real perms")

sys.exit(0 if all(results) else 1)
