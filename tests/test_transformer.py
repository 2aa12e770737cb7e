"""The `transformer` exercise: wrong versions are caught by name, the snapshot fixture is trustworthy.

- Each wrong version is solutions/transformer.py with one deliberate mistake, graded in a folder that
  also holds the reference rope.py and sinusoidal.py (the model imports them relatively, as a learner's
  folder does).
- The snapshot fixture was written by the reference (scripts/make_transformer_snapshot.py); here an
  independent forward pass (numpy float64, einsum and loops, its own RoPE, LayerNorm, GELU and
  sinusoidal table, nothing imported from solutions/) reproduces every stored logit array, and the
  script reproduces the fixture bit for bit.
"""

from __future__ import annotations

import importlib.util
import math
import shutil

import numpy as np
import pytest
from conftest import ROOT, assert_caught, mutate, solution_source

from grader.catalog import get_exercise
from grader.loading import from_folder
from grader.runner import grade_exercise

FIXTURE = ROOT / "grader" / "fixtures" / "transformer_snapshot.npz"

ROTATE_Q = "q = apply_rope(q, pos, base=self.rope_base)  # (B, H, T, hd): R(m) q"
ROTATE_K = "k = apply_rope(k, pos, base=self.rope_base)  # (B, H, T, hd): R(n) k, cached as is"
SCORES = "scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, T, P + T)"
SPLIT = ".view(B, T, self.n_heads, self.head_dim).transpose(1, 2)"
MASK = "tril(diagonal=past)"
ATTN_RESIDUAL = "x = x + self.dropout(attended)"
MLP_RESIDUAL = "x = x + self.dropout(self.mlp(self.norm2(x)))"

# (wrong version, replacements in solutions/transformer.py, check that must fail, words its message holds)
MISTAKES = [
    (
        "RoPE applied to the values",
        [(ROTATE_K, ROTATE_K + "\n            v = apply_rope(v, pos, base=self.rope_base)")],
        "output = out_proj",
        "values are rotated",
    ),
    (
        "RoPE applied after the q·k product",
        [
            (ROTATE_Q, "pass"),
            (ROTATE_K, "pass"),
            (
                SCORES,
                SCORES + "\n        if self.rope:\n"
                "            scores = apply_rope(scores, pos, base=self.rope_base)",
            ),
        ],
        "RoPE: attention weights unchanged",
        "before the q·k product",
    ),
    (
        "RoPE added to the embeddings (source document 000)",
        [
            ('self.rope = config.pos_scheme == "rope"', "self.rope = False"),
            (
                "x = self.tok_emb(idx)  # (B, T, d)",
                "x = self.tok_emb(idx)  # (B, T, d)\n        if self.config.pos_scheme == 'rope':\n"
                "            x = apply_rope(x, positions, base=self.config.rope_base)",
            ),
        ],
        "RoPE: attention weights unchanged",
        "no positions added to the embeddings",
    ),
    (
        "causal mask off by one (sees the next token)",
        [(MASK, "tril(diagonal=past + 1)")],
        "causal",
        "off by one",
    ),
    (
        "causal mask off by one (hides the token itself)",
        [(MASK, "tril(diagonal=past - 1)")],
        "causal",
        "off by one",
    ),
    (
        "cache positions restarting at 0",
        [("torch.arange(past, past + T", "torch.arange(0, T")],
        "KV cache",
        "restart at 0",
    ),
    (
        "heads split along the wrong axis",
        [
            (SPLIT, ".view(B, self.n_heads, T, self.head_dim)"),
            ("y.transpose(1, 2).reshape(B, T, C)", "y.reshape(B, T, C)"),
        ],
        "attention weights =",
        "wrong axis",
    ),
    ("missing residual (attention)", [(ATTN_RESIDUAL, "x = self.dropout(attended)")], "pre-norm", "residual"),
    (
        "missing residual (MLP)",
        [(MLP_RESIDUAL, "x = self.dropout(self.mlp(self.norm2(x)))")],
        "pre-norm",
        "residual",
    ),
    (
        "post-norm blocks",
        [
            ("self.attn(self.norm1(x), positions, cache)", "self.attn(x, positions, cache)"),
            (ATTN_RESIDUAL, "x = self.norm1(x + self.dropout(attended))"),
            (MLP_RESIDUAL, "x = self.norm2(x + self.dropout(self.mlp(x)))"),
        ],
        "pre-norm",
        "post-norm",
    ),
    ("only q rotated", [(ROTATE_K, "pass")], "attention weights =", "only q is rotated"),
    (
        "scale 1/sqrt(d_model)",
        [("math.sqrt(self.head_dim)", "math.sqrt(C)")],
        "attention weights =",
        "sqrt(d_model)",
    ),
    (
        "softmax over the queries",
        [("weights = torch.softmax(scores, dim=-1)", "weights = torch.softmax(scores, dim=-2)")],
        "attention weights =",
        "over the queries",
    ),
    (
        "rope_base ignored",
        [("pos, base=self.rope_base)", "pos)")],
        "attention weights =",
        "rope_base is ignored",
    ),
    (
        "causal flag ignored (always masked)",
        [("if self.causal:", "if True:")],
        "causal",
        "attend to every token",
    ),
    ("learned table never added", [("x = x + table", "x = x")], "gradients", "pos_emb.weight"),
    (
        "no ValueError past max_len (learned table)",
        [("if int(positions.min()) < 0 or int(positions.max()) >= self.config.max_len:", "if False:")],
        "ValueError",
        "expected ValueError",
    ),
    (
        "interleaved pairs instead of half-split",
        [
            ("pos, base=self.rope_base)", "pos, base=self.rope_base, interleaved=True)"),
        ],
        "attention weights =",
        "half-split",
    ),
    (
        "default positions start at 1",
        [
            (
                "past = 0 if cache is None else cache[0][0].shape[-2]",
                "past = 1 if cache is None else cache[0][0].shape[-2]",
            )
        ],
        "default positions",
        "off by one",
    ),
    (
        "dropout never used",
        [("nn.Dropout(config.dropout)", "nn.Dropout(0.0)")],
        "dropout",
        "config.dropout is not used",
    ),
    (
        "a table of max_len rows accepts position max_len",
        [(">= self.config.max_len", "> self.config.max_len")],
        "ValueError",
        "positions 29 .. 32",
    ),
    (
        "d_model not divisible by n_heads accepted",
        [("if config.d_model % config.n_heads != 0:", "if False:")],
        "ValueError",
        "n_heads=3",
    ),
]


def _folder(tmp_path, transformer_source: str, rope_from: str = "solutions"):
    shutil.copy(ROOT / rope_from / "rope.py", tmp_path / "rope.py")
    shutil.copy(ROOT / "solutions" / "sinusoidal.py", tmp_path / "sinusoidal.py")
    (tmp_path / "transformer.py").write_text(transformer_source, encoding="utf-8")
    return from_folder(tmp_path)


def _grade(tmp_path, source: str, rope_from: str = "solutions"):
    return grade_exercise(get_exercise("transformer"), _folder(tmp_path, source, rope_from))


@pytest.mark.parametrize("name, replacements, check_name, words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_wrong_version_is_caught(tmp_path, name, replacements, check_name, words):
    result = _grade(tmp_path, mutate(solution_source("transformer"), replacements))
    assert_caught(result, check_name, words)


def test_reference_passes_and_stub_fails_every_check(tmp_path):
    (tmp_path / "ref").mkdir()
    passed = _grade(tmp_path / "ref", solution_source("transformer"))
    assert passed.all_passed, [c for c in passed.checks if not c.passed]
    (tmp_path / "stub").mkdir()
    stub = (ROOT / "exercises" / "transformer.py").read_text(encoding="utf-8")
    result = _grade(tmp_path / "stub", stub)
    assert not any(c.passed for c in result.checks), [c.name for c in result.checks if c.passed]


def test_learner_folder_rope_is_used(tmp_path):
    """The model imports rope.py relatively: with a stub rope.py the RoPE checks say to finish `rope`."""
    result = _grade(tmp_path, solution_source("transformer"), rope_from="exercises")
    failed = {c.name: c.message for c in result.checks if not c.passed}
    weights_check = next(n for n in failed if n.startswith("attention weights ="))
    assert "finish the rope exercise first" in failed[weights_check]
    assert not any(c.passed for c in result.checks if c.name.startswith("RoPE"))


# ---------------------------------------------------------------------------------------------------
# The snapshot fixture, reproduced by an independent implementation


def _rope(x: np.ndarray, positions: np.ndarray, base: float) -> np.ndarray:
    """RoPE by the definition, half-split pairs (i, i + hd/2), one pair at a time: x [B, T, hd]."""
    hd = x.shape[-1]
    out = np.empty_like(x)
    for i in range(hd // 2):
        angle = positions * base ** (-2.0 * i / hd)  # [T]
        c, s = np.cos(angle)[None, :], np.sin(angle)[None, :]
        x1, x2 = x[..., i], x[..., i + hd // 2]
        out[..., i] = x1 * c - x2 * s
        out[..., i + hd // 2] = x2 * c + x1 * s
    return out


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def _sinusoidal(length: int, d: int) -> np.ndarray:
    pe = np.zeros((length, d))
    for p in range(length):
        for i in range(d // 2):
            pe[p, 2 * i] = math.sin(p / 10000.0 ** (2 * i / d))
            pe[p, 2 * i + 1] = math.cos(p / 10000.0 ** (2 * i / d))
    return pe


def _independent_forward(
    W: dict, cfg: dict, idx: np.ndarray, positions: np.ndarray, scheme: str, causal: bool
):
    d, H = cfg["d_model"], cfg["n_heads"]
    hd = d // H
    x = W["tok_emb.weight"][idx]  # [B, T, d]
    if scheme == "learned":
        x = x + W["pos_emb.weight"][positions]
    if scheme == "sinusoidal":
        x = x + _sinusoidal(cfg["max_len"], d)[positions]
    T = idx.shape[1]
    for layer in range(cfg["n_layers"]):
        p = f"blocks.{layer}."
        h = _layer_norm(x, W[p + "norm1.weight"], W[p + "norm1.bias"])
        q, k, v = (np.einsum("btd,ed->bte", h, W[p + f"attn.{n}_proj.weight"]) for n in "qkv")
        heads = np.zeros_like(h)
        for head in range(H):
            cols = slice(head * hd, (head + 1) * hd)
            qh, kh, vh = q[..., cols], k[..., cols], v[..., cols]
            if scheme == "rope":
                qh, kh = _rope(qh, positions, cfg["rope_base"]), _rope(kh, positions, cfg["rope_base"])
            scores = np.einsum("bid,bjd->bij", qh, kh) / math.sqrt(hd)
            if causal:
                for i in range(T):
                    scores[:, i, i + 1 :] = -np.inf
            e = np.exp(scores - scores.max(-1, keepdims=True))
            heads[..., cols] = np.einsum("bij,bjd->bid", e / e.sum(-1, keepdims=True), vh)
        x = x + np.einsum("bte,de->btd", heads, W[p + "attn.out_proj.weight"])
        h = _layer_norm(x, W[p + "norm2.weight"], W[p + "norm2.bias"])
        hidden = _gelu(np.einsum("btd,ed->bte", h, W[p + "mlp.0.weight"]) + W[p + "mlp.0.bias"])
        x = x + np.einsum("bte,de->btd", hidden, W[p + "mlp.2.weight"]) + W[p + "mlp.2.bias"]
    return np.einsum("btd,vd->btv", _layer_norm(x, W["norm.weight"], W["norm.bias"]), W["lm_head.weight"])


RUNS = {  # stored logits -> (scheme, causal, positions with gaps?)
    "rope": ("rope", True, False),
    "rope_encoder_gaps": ("rope", False, True),
    "sinusoidal": ("sinusoidal", True, False),
    "learned": ("learned", True, False),
    "learned_encoder_gaps": ("learned", False, True),
    "none": ("none", True, False),
}


@pytest.mark.parametrize("key", list(RUNS))
def test_independent_forward_reproduces_the_snapshot(key):
    data = np.load(FIXTURE)
    W = {k.split("/", 1)[1]: data[k].astype(np.float64) for k in data.files if k.startswith("param/")}
    cfg = {k.split("/", 1)[1]: data[k].item() for k in data.files if k.startswith("config/")}
    idx = data["input/idx"]
    scheme, causal, gaps = RUNS[key]
    positions = data["input/positions_with_gaps"] if gaps else np.arange(idx.shape[1])
    mine = _independent_forward(W, cfg, idx, positions, scheme, causal)
    # The reference added the float32 sinusoidal table (the exercise's API); everything else is float64.
    tol = 1e-6 if scheme == "sinusoidal" else 1e-10
    np.testing.assert_allclose(mine, data[f"logits/{key}"], rtol=tol, atol=tol)


def test_fixture_covers_every_run_and_is_small():
    from grader.checks.transformer import FIXTURE_RUNS

    data = np.load(FIXTURE)
    stored = {k.split("/", 1)[1] for k in data.files if k.startswith("logits/")}
    assert stored == set(RUNS) == set(FIXTURE_RUNS)
    assert all(FIXTURE_RUNS[k][:3] == RUNS[k] for k in RUNS)
    assert FIXTURE.stat().st_size < 200_000


def test_script_reproduces_the_fixture():
    """Weights, inputs and config bit for bit; logits to float64 round-off (a float64 matmul sums in an
    order that depends on the CPU's kernels: the fixture's logits differ by ~3e-15 between CPUs)."""
    spec = importlib.util.spec_from_file_location(
        "make_snapshot", ROOT / "scripts" / "make_transformer_snapshot.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    built, stored = script.build(), np.load(FIXTURE)
    assert set(built) == set(stored.files)
    for key, value in built.items():
        if key.startswith("logits/"):
            np.testing.assert_allclose(value, stored[key], rtol=0, atol=1e-12, err_msg=key)
        else:
            np.testing.assert_array_equal(value, stored[key], err_msg=key)
