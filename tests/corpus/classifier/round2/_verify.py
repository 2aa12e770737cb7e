"""Independent checks of the classifier corpus cases (run from the repository root)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/corpus, for _load
sys.path.insert(0, str(Path(__file__).resolve().parents[4]))  # the repository root
import torch  # noqa: E402
from torch import nn  # noqa: E402
from _load import load_case, load_reference  # noqa: E402

HERE = Path(__file__).resolve().parent
ref = load_reference("classifier")
results = []
torch.set_num_threads(2)


def report(name, ok, what):
    results.append(bool(ok))
    print(("OK" if ok else "FAIL"), name, what)


def cfg(**kw):
    base = dict(vocab_size=30, d_model=16, n_heads=2, n_layers=2, max_len=32, causal=False)
    base.update(kw)
    return ref.TransformerConfig(**base)


def pair(m, c, n_classes=3, pad_id=0, dtype=torch.float64):
    torch.manual_seed(0)
    r = ref.TextClassifier(c, n_classes, pad_id).to(dtype).eval()
    torch.manual_seed(1)
    k = m.TextClassifier(c, n_classes, pad_id).to(dtype).eval()
    k.load_state_dict(r.state_dict())
    return r, k


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def definition_f1(y, p, n):
    f1 = []
    for c in range(n):
        tp = int(((y == c) & (p == c)).sum())
        fp = int(((y != c) & (p == c)).sum())
        fn = int(((y == c) & (p != c)).sum())
        f1.append(0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1) / n


g = torch.Generator().manual_seed(0)


def padded_ids(B=3, T=7, lengths=(7, 5, 2), pad=0, low=1):
    ids = torch.randint(low, 30, (B, T), generator=g)
    if pad != 0:
        ids[ids == pad] = 0 if low == 0 else low
    for b, n in enumerate(lengths):
        ids[b, n:] = pad
    return ids


with torch.no_grad():
    # 1 masked_mean
    m = load_case(HERE / "wrong_masked_mean_count_no_keepdim_r2.py")
    x = torch.randn(4, 6, 4, generator=g, dtype=torch.float64)
    keep = torch.zeros(4, 6, dtype=torch.bool)
    for b, n in enumerate((6, 5, 3, 1)):
        keep[b, :n] = True
    want = torch.stack([x[b, keep[b]].mean(0) for b in range(4)])
    d = maxdiff(m.masked_mean(x, keep), want)
    one = maxdiff(m.masked_mean(x[1:2], keep[1:2]), want[1:2])
    report("wrong_masked_mean_count_no_keepdim_r2.py", d > 1e-3 and one < 1e-12,
           f"B = d = 4: off the per-row mean of kept tokens by {d:.3f}; batch of one exact")

    # 2 mask queries and keys
    m = load_case(HERE / "wrong_mask_queries_and_keys_r2.py")
    ids = padded_ids()
    r, k = pair(m, cfg(pos_scheme="rope"))
    lk, lr = k(ids), r(ids)
    r1, k1 = pair(m, cfg(pos_scheme="rope", n_layers=1))
    one_layer = maxdiff(k1(ids), r1(ids))
    report("wrong_mask_queries_and_keys_r2.py",
           bool(torch.isnan(lk[1:]).all()) and bool(torch.isfinite(lr).all()) and bool(torch.isfinite(lk[0]).all()) and one_layer < 1e-9,
           "2 layers: padded rows give NaN logits (reference finite); the unpadded row and 1-layer models are exact")

    # 3 pad_id
    m = load_case(HERE / "wrong_pad_id_hardcoded_zero_r2.py")
    r, k = pair(m, cfg(pos_scheme="rope"), pad_id=5)
    ids = padded_ids(pad=5, low=0)
    ids[0, 0] = 0  # a real token with id 0
    ids[1, 1] = 0
    d = maxdiff(k(ids), r(ids))
    more_pad = torch.cat([ids, torch.full((3, 3), 5)], 1)
    ref_inv = maxdiff(r(more_pad), r(ids))
    case_inv = maxdiff(k(more_pad), k(ids))
    report("wrong_pad_id_hardcoded_zero_r2.py", d > 1e-3 and case_inv > 1e-3 and ref_inv < 1e-9,
           f"pad_id 5: logits off the reference by {d:.3f}; 3 more padding columns move them by {case_inv:.3f} (reference {ref_inv:.1e})")

texts, labels = ref.make_order_task(48, seed=3)
vocab = ref.build_vocab(texts)
data_ids = ref.encode(texts, vocab)
data_y = torch.tensor(labels)
small = ref.TransformerConfig(vocab_size=len(vocab), d_model=16, n_heads=2, n_layers=1, max_len=32, causal=False)


def trained(mod, global_seed, cls=None, epochs=1, val=None):
    torch.manual_seed(0)
    model = (cls or ref.TextClassifier)(small, 2)
    torch.manual_seed(global_seed)
    hist = mod.train_classifier(model, data_ids, data_y, epochs=epochs, batch_size=10, seed=0, val=val, progress=False)
    return torch.cat([p.detach().flatten() for p in model.parameters()]), hist


# 4 global RNG
m = load_case(HERE / "wrong_shuffle_global_rng_r2.py")
w1, _ = trained(m, 1)
w2, _ = trained(m, 2)
r1, _ = trained(ref, 1)
r2, _ = trained(ref, 2)
report("wrong_shuffle_global_rng_r2.py", maxdiff(w1, w2) > 1e-4 and maxdiff(r1, r2) == 0,
       f"same init and seed, global seeds 1 vs 2: weights differ by {maxdiff(w1, w2):.2e} (reference identical)")

# 5 macro F1
m = load_case(HERE / "wrong_macro_f1_present_classes_only_r2.py")
y = torch.tensor([0, 1, 0, 1])
got = m.classification_metrics(y, y, 4)["macro_f1"]
want = definition_f1(y, y, 4)
report("wrong_macro_f1_present_classes_only_r2.py", abs(got - want) > 0.1 and abs(ref.classification_metrics(y, y, 4)["macro_f1"] - want) < 1e-12,
       f"y_true = y_pred = [0,1,0,1], n_classes 4: macro_f1 {got} instead of {want}")


class Parity(nn.Module):
    """4-class logits that always predict ids[:, 0] % 2."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, ids):
        return nn.functional.one_hot(ids[:, 0] % 2, 4).float() + self.w


# 6 evaluate n_classes
m = load_case(HERE / "wrong_eval_n_classes_from_labels_r2.py")
ids = torch.arange(10)[:, None].repeat(1, 3)
lab = torch.tensor([0, 1, 1, 1, 0, 1, 0, 0, 0, 1])
got = m.evaluate(Parity(), ids, lab)
preds = ids[:, 0] % 2
want = definition_f1(lab, preds, 4)
report("wrong_eval_n_classes_from_labels_r2.py", tuple(got["confusion"].shape) == (2, 2) and abs(got["macro_f1"] - want) > 0.1
       and tuple(ref.evaluate(Parity(), ids, lab)["confusion"].shape) == (4, 4),
       f"4-class model, classes 2, 3 absent: confusion {tuple(got['confusion'].shape)} instead of (4, 4), macro_f1 {got['macro_f1']:.3f} instead of {want:.3f}")

# 7 valid
m = load_case(HERE / "valid_additive_bias_onehot_metrics_r2.py")
ok, worst = True, 0.0
with torch.no_grad():
    for scheme in ("rope", "sinusoidal", "learned", "none"):
        for pad in (0, 5):
            r, k = pair(m, cfg(pos_scheme=scheme), pad_id=pad)
            ids = padded_ids(pad=pad, low=0 if pad else 1)
            for positions in (None, torch.arange(3, 10), torch.stack([torch.arange(7) + 4 * b for b in range(3)])):
                worst = max(worst, maxdiff(k(ids, positions), r(ids, positions)))
    x = torch.randn(3, 5, 4, generator=g)
    keep = torch.rand(3, 5, generator=g) > 0.4
    keep[:, 0] = True
    ok &= maxdiff(m.masked_mean(x, keep), ref.masked_mean(x, keep)) < 1e-6
ok &= worst < 1e-9
wv1, hv1 = trained(m, 1, cls=m.TextClassifier, epochs=2, val=(data_ids[:12], data_y[:12]))
wv2, hv2 = trained(m, 2, cls=m.TextClassifier, epochs=2, val=(data_ids[:12], data_y[:12]))
wr, hr = trained(ref, 1, epochs=2, val=(data_ids[:12], data_y[:12]))
ok &= maxdiff(wv1, wv2) == 0 and maxdiff(wv1, wr) < 1e-4
ok &= set(hv1) == set(hr) and all(len(hv1[key]) == 2 and max(abs(a - b) for a, b in zip(hv1[key], hr[key])) < 1e-4 for key in hr)
for yt, yp, n in ((torch.tensor([0, 1, 2, 2, 1]), torch.tensor([0, 2, 2, 1, 1]), 3),
                  (torch.tensor([0, 1, 0, 1]), torch.tensor([0, 1, 0, 1]), 4),
                  (torch.randint(0, 5, (50,), generator=g), torch.randint(0, 5, (50,), generator=g), 6)):
    a, b = m.classification_metrics(yt, yp, n), ref.classification_metrics(yt, yp, n)
    ok &= torch.equal(a["confusion"], b["confusion"]) and a["confusion"].dtype == torch.long
    ok &= abs(a["macro_f1"] - b["macro_f1"]) < 1e-12 and abs(a["accuracy"] - b["accuracy"]) < 1e-12
    ok &= abs(a["macro_f1"] - definition_f1(yt, yp, n)) < 1e-12
ids = torch.arange(10)[:, None].repeat(1, 3)
a, b = m.evaluate(Parity(), ids, lab, batch_size=3), ref.evaluate(Parity(), ids, lab)
ok &= torch.equal(a["confusion"], b["confusion"]) and torch.equal(a["predictions"], b["predictions"])
ok &= isinstance(a["accuracy"], float) and abs(a["macro_f1"] - b["macro_f1"]) < 1e-12
try:
    m.TextClassifier(cfg(), 1)
    ok = False
except ValueError:
    pass
try:
    m.TextClassifier(cfg(pos_scheme="alibi"), 2)
    ok = False
except ValueError:
    pass
report("valid_additive_bias_onehot_metrics_r2.py", bool(ok),
       f"4 schemes x pad_id 0/5 x positions default/[T]/[B,T]: logits match the reference (worst {worst:.1e}); 2 epochs with val: weights and history match the reference and ignore the global RNG; metrics/evaluate match incl. absent classes; ValueErrors")

sys.exit(0 if all(results) else 1)
