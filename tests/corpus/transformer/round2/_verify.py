"""Independent checks of the transformer corpus cases (run from the repository root)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from _load import load_case, load_reference  # noqa: E402

HERE = Path(__file__).resolve().parent
ref = load_reference("transformer")
results = []
torch.set_num_threads(2)


def report(name, ok, what):
    results.append(bool(ok))
    print(("OK" if ok else "FAIL"), name, what)


def cfg(**kw):
    base = dict(vocab_size=50, d_model=32, n_heads=4, n_layers=2, max_len=64)
    base.update(kw)
    return ref.TransformerConfig(**base)


def pair(m, c, cls="Transformer"):
    torch.manual_seed(0)
    r = getattr(ref, cls)(c).double().eval()
    torch.manual_seed(1)
    k = getattr(m, cls)(c).double().eval()
    k.load_state_dict(r.state_dict())
    return r, k


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def raises(fn):
    try:
        fn()
    except ValueError:
        return True
    return False


g = torch.Generator().manual_seed(0)
idx7 = torch.randint(0, 50, (2, 7), generator=g)


def incremental(model, idx, chunks, positions=None):
    """Run model over idx split into chunk sizes, with the cache; return concatenated logits, caches, weights."""
    cache, outs, weights, start = None, [], [], 0
    for n in chunks:
        pos = None if positions is None else positions[..., start : start + n]
        logits, cache, w = model(idx[:, start : start + n], pos, cache)
        outs.append(logits)
        weights.append(w)
        start += n
    return torch.cat(outs, 1), cache, weights


with torch.no_grad():
    # 1
    m = load_case(HERE / "wrong_chunk_mask_ignores_cache_r2.py")
    r, k = pair(m, cfg())
    full = r(idx7)[0]
    chunk, _, ws = incremental(k, idx7, [4, 3])
    steps = incremental(k, idx7, [4, 1, 1, 1])[0]
    d_chunk, d_steps = maxdiff(chunk, full), maxdiff(steps, full)
    w_cached = ws[1][0][..., :4].abs().min().item()
    report("wrong_chunk_mask_ignores_cache_r2.py", d_chunk > 1e-3 and d_steps < 1e-9 and w_cached == 0.0,
           f"prefill 4 + chunk 3: logits off the full forward by {d_chunk:.3f}, chunk weights on cached keys include 0; one-token steps exact ({d_steps:.1e})")

    # 2
    m = load_case(HERE / "wrong_causal_mask_from_positions_r2.py")
    r, k = pair(m, cfg())
    idx6 = idx7[:, :6]
    pos = torch.arange(10, 16)
    lk, _, wk = k(idx6, pos)
    lr, _, wr = r(idx6, pos)
    d = maxdiff(lk, lr)
    future = wk[0][0, :, 0, 5].max().item()  # weight of token 0 on token 5
    future_ref = wr[0][0, :, 0, 5].abs().max().item()
    dflt = maxdiff(k(idx6)[0], r(idx6)[0])
    report("wrong_causal_mask_from_positions_r2.py", d > 1e-3 and future > 0 and future_ref == 0 and dflt < 1e-9,
           f"positions 10..15: token 0 attends to token 5 (weight {future:.2f}, reference 0), logits off by {d:.3f}; default positions exact")

    # 3
    m = load_case(HERE / "wrong_cache_keeps_unrotated_keys_r2.py")
    r, k = pair(m, cfg())
    idx6 = idx7[:, :6]
    pos = torch.arange(10, 16)
    lr, cr, _ = r(idx6, pos)
    lk, ck, _ = k(idx6, pos)
    d = maxdiff(lk, lr)
    dk = maxdiff(ck[0][0], cr[0][0])
    dflt = maxdiff(k(idx6)[0], r(idx6)[0])
    report("wrong_cache_keeps_unrotated_keys_r2.py", d > 1e-3 and dk > 1e-3 and dflt < 1e-9,
           f"positions 10..15: logits off the reference by {d:.3f}, returned keys off the rotated keys by {dk:.3f}; default positions exact")

    # 4, 5 (Block level)
    for name, scale in (("wrong_parallel_block_r2.py", 1.0), ("wrong_gelu_tanh_r2.py", 3.0)):
        m = load_case(HERE / name)
        r, k = pair(m, cfg(), "Block")
        x = scale * torch.randn(2, 6, 32, generator=g, dtype=torch.float64)
        d = maxdiff(k(x)[0], r(x)[0])
        # independent pre-norm definition with the reference block's own sublayers
        x1 = x + r.attn(r.norm1(x))[0]
        want = x1 + r.mlp(r.norm2(x1))
        gelu_exact = isinstance(r.mlp[1], torch.nn.GELU) and r.mlp[1].approximate == "none"
        report(name, d > 1e-4 and maxdiff(r(x)[0], want) < 1e-9 and gelu_exact,
               f"Block output off the pre-norm, exact-GELU definition by {d:.2e} (reference exact)")

    # 6
    m = load_case(HERE / "wrong_default_positions_ignore_cache_r2.py")
    r, k = pair(m, cfg())
    full = r(idx7[:, :6])[0]
    inc = incremental(k, idx7[:, :6], [5, 1])[0]
    explicit = incremental(k, idx7[:, :6], [5, 1], positions=torch.arange(6))[0]
    d = maxdiff(inc, full)
    report("wrong_default_positions_ignore_cache_r2.py", d > 1e-3 and maxdiff(explicit, full) < 1e-9,
           f"prefill 5 + 1 step, default positions: logits off the full forward by {d:.3f}; explicit positions exact")

    # 7
    m = load_case(HERE / "wrong_negative_positions_accepted_r2.py")
    ok = True
    for scheme in ("learned", "sinusoidal"):
        r, k = pair(m, cfg(pos_scheme=scheme))
        p = torch.tensor([-1, 0, 1])
        ok &= not raises(lambda: k(idx7[:, :3], p)) and raises(lambda: r(idx7[:, :3], p))
        ok &= raises(lambda: k(idx7[:, :3], torch.tensor([62, 63, 64])))
    report("wrong_negative_positions_accepted_r2.py", ok,
           "learned/sinusoidal, positions [-1, 0, 1]: no ValueError (reference raises); >= max_len still raises")

    # 8
    m = load_case(HERE / "wrong_table_rows_ignore_positions_r2.py")
    r, k = pair(m, cfg(pos_scheme="sinusoidal"))
    full = r(idx7[:, :6])[0]
    d = maxdiff(incremental(k, idx7[:, :6], [5, 1])[0], full)
    shifted_same = maxdiff(k(idx7[:, :5], torch.arange(3, 8))[0], k(idx7[:, :5])[0])
    report("wrong_table_rows_ignore_positions_r2.py", d > 1e-3 and shifted_same < 1e-12,
           f"sinusoidal, prefill 5 + 1 step: logits off the full forward by {d:.3f}; positions 3..7 give the logits of 0..4")

    # valid cases
    for name in ("valid_fused_qkv_sdpa_r2.py", "valid_head_loop_rotate_half_r2.py"):
        m = load_case(HERE / name)
        ok, worst = True, 0.0
        for scheme in ("rope", "sinusoidal", "learned", "none"):
            for causal in (True, False):
                c = cfg(pos_scheme=scheme, causal=causal, rope_base=500.0)
                r, k = pair(m, c)
                idx = torch.randint(0, 50, (4, 7), generator=g)
                pos_rows = torch.stack([torch.arange(7) + 3 * b for b in range(4)])
                gap = torch.tensor([0, 2, 3, 9, 10, 20, 21])
                for positions in (None, pos_rows, gap):
                    for chunks in ([7], [4, 3], [3, 1, 1, 2]):
                        a = incremental(k, idx, chunks, positions)
                        b = incremental(r, idx, chunks, positions)
                        errs = [maxdiff(a[0], b[0])]
                        errs += [maxdiff(x, y) for ca, cb in zip(a[1], b[1]) for x, y in zip(ca, cb)]
                        errs += [maxdiff(x, y) for wa, wb in zip(a[2], b[2]) for x, y in zip(wa, wb)]
                        ok &= all(x.shape == y.shape for wa, wb in zip(a[2], b[2]) for x, y in zip(wa, wb))
                        worst = max(worst, max(errs))
        ok &= worst < 1e-9
        ok &= raises(lambda: m.Transformer(cfg(pos_scheme="alibi")))
        ok &= raises(lambda: m.Transformer(cfg(d_model=30)))
        ok &= raises(lambda: m.Transformer(cfg(d_model=36, n_heads=4)))  # head_dim 9, odd, with RoPE
        r, k = pair(m, cfg(pos_scheme="learned"))
        ok &= raises(lambda: k(idx7[:, :3], torch.tensor([-1, 0, 1])))
        ok &= raises(lambda: k(idx7[:, :3], torch.tensor([62, 63, 64])))
        # gradients reach every parameter
        with torch.enable_grad():
            k.train()
            k(idx7)[0].sum().backward()
            ok &= all(p.grad is not None for p in k.parameters())
        report(name, ok,
               f"4 schemes x causal/not x positions default/[B,T] rows/gaps x chunkings [7], [4,3], [3,1,1,2]: logits, caches, weights match the reference (worst {worst:.1e}); ValueErrors; all params get grads")

sys.exit(0 if all(results) else 1)
