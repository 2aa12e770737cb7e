"""Verify the classifier corpus: every wrong case breaks the docstring's contract, every valid case keeps it.

Run from the repository root: python tests/corpus/classifier/_verify.py
Model cases are compared with the reference solution used as a black box (the same weights loaded into
both), metrics with a few-line definition, training with the reference loop from the same init and seed.
"""

from __future__ import annotations

import math
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tests" / "corpus"))
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from _load import cases, load_case, load_reference  # noqa: E402

torch.set_num_threads(1)
REF = load_reference("classifier")
SCHEMES = ("rope", "sinusoidal", "learned", "none")


def cfg(scheme="rope", **kw):
    base = dict(vocab_size=30, d_model=16, n_heads=2, n_layers=2, max_len=40, pos_scheme=scheme, causal=False)
    base.update(kw)
    return REF.TransformerConfig(**base)


def batch(pad_id=0, seed=1):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, 30, (4, 9), generator=g)
    ids[1, 6:] = pad_id
    ids[3, 3:] = pad_id
    return ids


POS_T = torch.tensor([0, 2, 3, 9, 10, 11, 20, 21, 30])
POS_BT = torch.tensor(
    [[0, 1, 2, 3, 4, 5, 6, 7, 8], [3, 5, 7, 9, 11, 13, 15, 17, 19], [0, 2, 3, 9, 10, 11, 20, 21, 30], [9, 8, 7, 6, 5, 4, 3, 2, 1]]
)


def pair(mod, scheme="rope", n_classes=3, pad_id=0, **kw):
    """(reference model, case model with the reference's weights)."""
    torch.manual_seed(0)
    ref = REF.TextClassifier(cfg(scheme, **kw), n_classes, pad_id)
    torch.manual_seed(0)
    case = mod.TextClassifier(cfg(scheme, **kw), n_classes, pad_id)
    case.load_state_dict(ref.state_dict(), strict=False)
    ref.eval()
    case.eval()
    return ref, case


@torch.no_grad()
def logit_diff(mod, scheme="rope", positions=None, pad_id=0, rows=slice(None)):
    ref, case = pair(mod, scheme, pad_id=pad_id)
    ids = batch(pad_id)
    a, b = case(ids, positions), ref(ids, positions)
    return (a[rows] - b[rows]).abs().max().item()


@torch.no_grad()
def pad_change(mod, scheme="rope", pad_id=0):
    _, case = pair(mod, scheme, pad_id=pad_id)
    ids = batch(pad_id)
    longer = torch.cat([ids, torch.full((ids.shape[0], 3), pad_id)], dim=1)
    return (case(longer) - case(ids)).abs().max().item()


def full_model_diff(mod):
    worst = 0.0
    for scheme in SCHEMES:
        for positions in (None, POS_T, POS_BT):
            worst = max(worst, logit_diff(mod, scheme, positions))
        worst = max(worst, logit_diff(mod, scheme, None, pad_id=3))
    return worst


# ------------------------------------------------------------------ metrics definition
def metrics_def(y_true, y_pred, C):
    conf = [[0] * C for _ in range(C)]
    for t, p in zip(y_true.tolist(), y_pred.tolist(), strict=True):
        conf[t][p] += 1
    f1 = []
    for c in range(C):
        tp = conf[c][c]
        fp = sum(conf[r][c] for r in range(C)) - tp
        fn = sum(conf[c]) - tp
        f1.append(0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn))
    acc = sum(int(a == b) for a, b in zip(y_true.tolist(), y_pred.tolist(), strict=True)) / len(y_true)
    return acc, sum(f1) / C, torch.tensor(conf, dtype=torch.long)


def metrics_suite(mod, n=200):
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    for i in range(n):
        C = [2, 3, 5][i % 3]
        N = int(torch.randint(1, 12, (1,), generator=g))
        used = max(1, C - (i % 2))  # every other set leaves the last class out entirely
        y_true = torch.randint(0, used, (N,), generator=g)
        y_pred = torch.randint(0, used, (N,), generator=g)
        out = mod.classification_metrics(y_true, y_pred, C)
        acc, f1, conf = metrics_def(y_true, y_pred, C)
        if type(out["accuracy"]) is not float or type(out["macro_f1"]) is not float:
            raise AssertionError(f"types {type(out['accuracy'])}, {type(out['macro_f1'])}")
        if out["confusion"].dtype != torch.long or not torch.equal(out["confusion"], conf):
            raise AssertionError(f"confusion {out['confusion'].tolist()} vs {conf.tolist()}")
        worst = max(worst, abs(out["accuracy"] - acc), abs(out["macro_f1"] - f1))
    if worst > 1e-9:
        raise AssertionError(f"metrics differ by {worst}")
    return worst


M3 = (torch.tensor([0, 0, 1, 1]), torch.tensor([0, 1, 1, 1]), 3)  # class 2 neither present nor predicted
M2 = (torch.tensor([0, 0, 0, 1]), torch.tensor([0, 0, 1, 1]), 2)
MT = (torch.tensor([0, 0, 0, 1]), torch.tensor([0, 1, 1, 1]), 2)
assert abs(metrics_def(*M3)[1] - (2 / 3 + 0.8) / 3) < 1e-12 and abs(metrics_def(*M2)[1] - (0.8 + 2 / 3) / 2) < 1e-12


# ------------------------------------------------------------------ training
TEXTS, LABELS = REF.make_order_task(130, seed=0)
VOCAB = REF.build_vocab(TEXTS)
IDS, Y = REF.encode(TEXTS, VOCAB), torch.tensor(LABELS)
TCFG = REF.TransformerConfig(vocab_size=len(VOCAB), d_model=16, n_heads=2, n_layers=1, max_len=64, pos_scheme="rope", causal=False)
_REF_RUNS = {}


def train(mod, global_seed=None, scheme="rope", **kw):
    torch.manual_seed(0)
    config = REF.TransformerConfig(**{**TCFG.__dict__, "pos_scheme": scheme})
    model = mod.TextClassifier(config, 2)
    if global_seed is not None:
        torch.manual_seed(global_seed)
    args = dict(epochs=1, batch_size=64, progress=False)
    args.update(kw)
    history = mod.train_classifier(model, IDS, Y, **args)
    return model, history


def ref_train(**kw):
    key = repr(sorted(kw.items(), key=lambda kv: kv[0]))
    if key not in _REF_RUNS:
        _REF_RUNS[key] = train(REF, **kw)
    return _REF_RUNS[key]


def weight_diff(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return max((sa[k].double() - sb[k].double()).abs().max().item() for k in sb)


# ------------------------------------------------------------------ targeted checks (wrong cases)
def big(v, threshold=1e-4):
    return not (v <= threshold), f"{v:.3g}"  # NaN counts as a difference


def raises(fn, exc=ValueError):
    try:
        fn()
    except exc:
        return False, f"raises {exc.__name__}"
    except Exception as other:  # noqa: BLE001
        return True, f"raises {type(other).__name__}, not {exc.__name__}"
    return True, "no ValueError"


def mean_def(x, keep):
    return torch.stack([x[b][keep[b]].mean(0) for b in range(x.shape[0])])


def x_keep(seed=3, pad_value=None, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 5, 3, generator=g, dtype=torch.float64).to(dtype)
    keep = torch.tensor([[1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)
    if pad_value is not None:
        x = x.masked_fill(~keep[..., None], pad_value)
    return x, keep


def mean_err(mod, **kw):
    x, keep = x_keep(**kw)
    return (mod.masked_mean(x, keep).double() - mean_def(x.double(), keep)).abs().max().item()


def t_shift(mod):
    _, case = pair(mod, "rope")
    ids = batch()
    with torch.no_grad():
        d = (case(ids, torch.arange(9)) - case(ids, torch.arange(9) + 7)).abs().max().item()
    return big(d)


def t_bag(mod):
    _, case = pair(mod, "none")
    ids = torch.randint(4, 30, (2, 9), generator=torch.Generator().manual_seed(4))
    perm = torch.randperm(9, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        d = (case(ids) - case(ids[:, perm])).abs().max().item()
    return big(d)


def t_trainable(mod):
    model, _ = train(mod, scheme="sinusoidal")
    table = REF.sinusoidal_encoding(64, 16)
    d = (model.pos_table.detach() - table).abs().max().item()
    extra = "pos_table" in model.state_dict()
    return d > 1e-6 or extra, f"{d:.3g}" + (" (and pos_table is in the state_dict)" if extra else "")


def t_val(mod):
    val = (IDS, 1 - Y)
    model, hist = train(mod, val=val)
    got = hist["val_accuracy"][-1]
    want = REF.evaluate(model, *val)["accuracy"]
    return abs(got - want) > 1e-9, f"{got:.3f} / {want:.3f}"


def t_weights(mod, **kw):
    model, _ = train(mod, **kw)
    ref_model, _ = ref_train(**kw)
    return big(weight_diff(model, ref_model), 1e-5)


def t_hist(mod, key):
    _, hist = train(mod)
    _, ref_hist = ref_train()
    got, want = hist[key][0], ref_hist[key][0]
    return abs(got - want) > 1e-9, f"{got:.4f} / {want:.4f}"


def t_global_rng(mod):
    a, _ = train(mod, global_seed=123)
    b, _ = train(mod, global_seed=456)
    return big(weight_diff(a, b), 1e-6)


def t_seed(mod):
    a, _ = train(mod, seed=5)
    b, _ = train(mod, seed=6)
    ref_a, _ = ref_train(seed=5)
    ref_b, _ = ref_train(seed=6)
    assert weight_diff(ref_a, ref_b) > 1e-4  # different seeds do train differently
    d = weight_diff(a, b)
    return d < 1e-6 or weight_diff(b, ref_b) > 1e-5, f"{d:.3g}"


def t_eval_classes(mod):
    _, case = pair(mod, "rope", n_classes=3)
    with torch.no_grad():
        case.head.bias[2] = -100.0  # class 2 is never predicted either
    out = mod.evaluate(case, batch(), torch.tensor([0, 1, 0, 1]))
    shape = list(out["confusion"].shape)
    return shape != [3, 3], str(shape)


def t_eval_mode(mod):
    torch.manual_seed(0)
    model = mod.TextClassifier(cfg("rope", dropout=0.5), 2)
    ids = torch.randint(4, 30, (64, 9), generator=torch.Generator().manual_seed(8))
    model.eval()
    with torch.no_grad():
        want = model(ids).argmax(-1)
    model.train()
    torch.manual_seed(1)
    got = mod.evaluate(model, ids, torch.zeros(64, dtype=torch.long))["predictions"]
    n = int((got != want).sum())
    return n > 0, str(n)


def t_eval_drop(mod):
    model, _ = ref_train()
    with torch.no_grad():
        n_seen = sum(len(model(IDS[s : s + 64])) for s in range(0, 130 - 64 + 1, 64))
    try:
        out = mod.evaluate(model, IDS, Y, batch_size=64)
    except Exception as exc:  # noqa: BLE001
        return True, f"raises {type(exc).__name__} (the model sees only {n_seen} rows)"
    n = len(out["predictions"])
    return n != 130, f"{n} predictions"


def t_metric(mod, data, key):
    out = mod.classification_metrics(*data)
    want = metrics_def(*data)
    if key == "macro_f1":
        got = out["macro_f1"]
        return not (abs(got - want[1]) < 1e-9), f"{got:.4f}"
    if key == "confusion":
        got = out["confusion"]
        return got.tolist() != want[2].tolist(), str(got.tolist())
    if key == "shape":
        return list(out["confusion"].shape) != [data[2]] * 2, f"{list(out['confusion'].shape)} / {out['macro_f1']:.4f}"
    if key == "acc_type":
        return type(out["accuracy"]) is not float, type(out["accuracy"]).__name__
    if key == "conf_dtype":
        return out["confusion"].dtype != torch.long, str(out["confusion"].dtype)
    raise KeyError(key)


def t_unk(mod):
    row = mod.encode(["the zebra chased the cat"], VOCAB)[0]
    return int(row[1]) != 1, str(int(row[1]))


def t_vocab_size(mod):
    n = len(mod.build_vocab(TEXTS, max_size=10))
    return n != 10, str(n)


def t_max_len(mod):
    n = mod.encode(TEXTS[:5], VOCAB, max_len=4).shape[1]
    return n != 4, str(n)


def t_alpha(mod):
    vocab = mod.build_vocab(TEXTS)
    token = [t for t, i in vocab.items() if i == 2][0]
    return token != "the", repr(token)


def t_min_freq(mod):
    vocab = mod.build_vocab(["a b", "b c"], min_freq=2)
    return set(vocab) != {"<pad>", "<unk>", "b"}, f"tokens {sorted(t for t in vocab if not t.startswith('<'))}"


TARGETED = {
    "wrong_encode_unk_as_pad": t_unk,
    "wrong_vocab_max_size_ignores_specials": t_vocab_size,
    "wrong_encode_ignores_max_len": t_max_len,
    "wrong_vocab_alphabetical": t_alpha,
    "wrong_vocab_min_freq_strict": t_min_freq,
    "wrong_mean_divides_by_T": lambda m: big(mean_err(m)),
    "wrong_mean_total_minus_padding": lambda m: big(mean_err(m, pad_value=1e8, dtype=torch.float32), 1e-3),
    "wrong_mean_count_whole_batch": lambda m: big(mean_err(m)),
    "wrong_block_query_mask": lambda m: big(pad_change(m)),
    "wrong_block_no_key_mask": lambda m: big(pad_change(m)),
    "wrong_block_causal": lambda m: big(logit_diff(m, "rope")),
    "wrong_block_ignores_positions": lambda m: big(logit_diff(m, "rope", POS_BT)),
    "wrong_block_rotates_v": t_shift,
    "wrong_block_scale_d_model": lambda m: big(logit_diff(m, "rope")),
    "wrong_block_softmax_queries": lambda m: big(logit_diff(m, "none")),
    "wrong_block_post_norm": lambda m: big(logit_diff(m, "rope")),
    "wrong_block_heads_view": lambda m: big(logit_diff(m, "rope")),
    "wrong_block_rope_always": t_bag,
    "wrong_block_batched_positions_first_row": lambda m: big(logit_diff(m, "rope", POS_BT, rows=slice(1, None))),
    "wrong_model_pad_id_ignored": lambda m: big(pad_change(m, "rope", pad_id=3)),
    "wrong_model_no_n_classes_check": lambda m: raises(lambda: m.TextClassifier(cfg(), 1)),
    "wrong_model_no_scheme_check": lambda m: raises(lambda: m.TextClassifier(cfg("alibi"), 2)),
    "wrong_model_learned_ignores_positions": lambda m: big(logit_diff(m, "learned", POS_T)),
    "wrong_model_sinusoidal_slice": lambda m: big(logit_diff(m, "sinusoidal", POS_BT)),
    "wrong_model_norm_after_pool": lambda m: big(logit_diff(m, "rope")),
    "wrong_model_default_positions_from_one": lambda m: big(
        (lambda c: (c(batch()) - c(batch(), torch.arange(9))).abs().max().item())(pair(m, "learned")[1])
    ),
    "wrong_model_sinusoidal_trainable": t_trainable,
    "wrong_model_scaled_embeddings": lambda m: big(logit_diff(m, "none")),
    "wrong_model_first_token_pool": lambda m: big(logit_diff(m, "rope")),
    "wrong_train_val_on_train": t_val,
    "wrong_train_drops_last_batch": lambda m: t_weights(m),
    "wrong_train_trim_min_length": lambda m: t_weights(m),
    "wrong_train_loss_last_batch": lambda m: t_hist(m, "loss"),
    "wrong_train_global_rng": t_global_rng,
    "wrong_train_seed_ignored": t_seed,
    "wrong_train_weight_decay_ignored": lambda m: t_weights(m, weight_decay=0.5),
    "wrong_train_accuracy_denominator": lambda m: t_hist(m, "train_accuracy"),
    "wrong_metrics_macro_present_classes": lambda m: t_metric(m, M3, "macro_f1"),
    "wrong_metrics_nan_absent_class": lambda m: t_metric(m, M3, "macro_f1"),
    "wrong_metrics_confusion_transposed": lambda m: t_metric(m, MT, "confusion"),
    "wrong_metrics_size_from_labels": lambda m: t_metric(m, M3, "shape"),
    "wrong_metrics_weighted_f1": lambda m: t_metric(m, M2, "macro_f1"),
    "wrong_metrics_jaccard": lambda m: t_metric(m, M2, "macro_f1"),
    "wrong_metrics_accuracy_tensor": lambda m: t_metric(m, M2, "acc_type"),
    "wrong_metrics_confusion_float": lambda m: t_metric(m, M2, "conf_dtype"),
    "wrong_eval_n_classes_from_labels": t_eval_classes,
    "wrong_eval_no_eval_mode": t_eval_mode,
    "wrong_eval_drops_last_batch": t_eval_drop,
}


def check_valid(mod, name):
    notes = []
    d = full_model_diff(mod)
    if d > 1e-5:
        raise AssertionError(f"logits differ from the reference by {d}")
    for scheme in SCHEMES:
        if pad_change(mod, scheme) > 1e-5 or pad_change(mod, scheme, pad_id=3) > 1e-5:
            raise AssertionError(f"padding changes the logits ({scheme})")
    if t_shift(mod)[0] or t_bag(mod)[0]:
        raise AssertionError("rope shift invariance or the bag of words of 'none' is broken")
    metrics_suite(mod)
    x, keep = x_keep(pad_value=1e30)
    e_mean = (mod.masked_mean(x, keep) - mean_def(x, keep)).abs().max().item()
    if e_mean > 1e-12:
        raise AssertionError(f"masked_mean error {e_mean}")
    for bad in (lambda: mod.TextClassifier(cfg(), 1), lambda: mod.TextClassifier(cfg("alibi"), 2)):
        if raises(bad)[0]:
            raise AssertionError("missing ValueError")
    val = (IDS[:40], Y[:40])
    model, hist = train(mod, val=val)
    ref_model, ref_hist = ref_train(val=val)
    wd = weight_diff(model, ref_model)
    if wd > 1e-4:
        raise AssertionError(f"trained weights differ by {wd}")
    for key in ("loss", "train_accuracy", "val_accuracy"):
        if max(abs(a - b) for a, b in zip(hist[key], ref_hist[key], strict=True)) > 1e-5:
            raise AssertionError(f"history {key} {hist[key]} vs {ref_hist[key]}")
    out, ref_out = mod.evaluate(ref_model, IDS, Y, batch_size=50), REF.evaluate(ref_model, IDS, Y)
    if not torch.equal(out["predictions"], ref_out["predictions"]) or not torch.equal(out["confusion"], ref_out["confusion"]):
        raise AssertionError("evaluate differs")
    for fn in (t_eval_mode, t_eval_classes):
        if fn(mod)[0]:
            raise AssertionError(f"{fn.__name__} fails")
    notes.append(f"logits max diff {d:.1e} over 4 schemes x 3 position forms + pad_id 3")
    notes.append(f"trained weights diff {wd:.1e}, same history")
    notes.append("metrics = definition on 200 label sets")
    return "; ".join(notes), {"e": f"{d:.1e}", "e0": f"{wd:.1e}" if "trimming" in name else f"{e_mean:.1e}"}


def main():
    start = time.perf_counter()
    failures = 0
    evidence = []
    for path in cases("classifier"):
        name = path.stem
        try:
            mod = load_case(path)
            if name.startswith("valid_"):
                msg, ev = check_valid(mod, name)
                print(f"OK {path.name} {msg}")
                evidence.append((name, ev))
                continue
            broken, value = TARGETED[name](mod)
            if broken:
                print(f"OK {path.name} differs from the contract: {value}")
            else:
                failures += 1
                print(f"FAIL {path.name} targeted check did not show the mistake ({value})")
            if " / " in value:
                a, b = value.split(" / ", 1)
                evidence.append((name, {"e0": a, "e1": b}))
            else:
                evidence.append((name, {"e": value}))
        except Exception as exc:  # noqa: BLE001
            failures += 1
            print(f"FAIL {path.name} {type(exc).__name__}: {exc}")
            traceback.print_exc(limit=3)
    if "--evidence" in sys.argv:
        Path(sys.argv[sys.argv.index("--evidence") + 1]).write_text("".join(f"{n}\t{v!r}\n" for n, v in evidence))
    n = len(cases("classifier"))
    print(f"{n - failures}/{n} cases verified in {time.perf_counter() - start:.1f} s")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
