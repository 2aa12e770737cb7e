# corpus: valid
# mistake: Grid by repeat_interleave / repeat; 2-D RoPE as explicit 2 x 2 rotation blocks per pair applied with einsum (position chosen per pair by torch.where); M-RoPE's section picked by a one-hot sum and applied as x * cos + rotate_half(x) * sin.
# evidence: Agrees with the independent per-pair float64 definition to 1e-12 on every tested grid, batch layout and section split, equals 1-D RoPE on one row and on text tokens, keeps float32/bfloat16/float64, raises every documented ValueError.
"""RoPE for images: axial 2-D RoPE over a grid of patches, and Qwen2-VL's multimodal M-RoPE.

Axial 2-D RoPE (Heo et al. 2024, "Rotary Position Embedding for Vision Transformer", arXiv
2403.13298, "RoPE-Axial"). A patch at grid cell (row, col) gets two positions. The feature dimension
d (divisible by 4) is cut in two halves of d/2 features, each rotated by ordinary RoPE:

    features [0, d/2)  rotate with the column (x axis): pair j = (2j, 2j + 1),          angle col * theta_j
    features [d/2, d)  rotate with the row    (y axis): pair j = (d/2 + 2j, d/2 + 2j + 1), angle row * theta_j
    theta_j = base ** (-4j / d) = base ** (-2j / (d/2)),  j = 0 .. d/4 - 1,  base = 100 by default

(adjacent pairs inside each half and the column half first, as in the paper's reference code, whose
complex frequencies are cat(freqs_x, freqs_y)). Because each half is a RoPE of its own axis,

    <R(r1, c1) q, R(r2, c2) k> = <q, R(r2 - r1, c2 - c1) k>:

the score of two patches depends only on (delta row, delta col). With a single row (all rows 0) the
second half is left unchanged and the map is exactly 1-D RoPE of the column with rotary_dim = d/2 and
adjacent pairs: rope.apply_rope(x, cols, base=base, interleaved=True, rotary_dim=d // 2).

M-RoPE (Qwen2-VL, Wang et al. 2024, arXiv 2409.12191) gives every token three positions (temporal,
height, width) and splits the d/2 frequencies of ordinary 1-D RoPE (theta_j = base ** (-2j / d),
half-split pairs (j, j + d/2) as in Hugging Face) into three consecutive sections: the first
sections[0] pairs rotate with the temporal position, the next sections[1] with the height, the last
sections[2] with the width (Qwen2-VL: d = 128, sections (16, 24, 24)). Text tokens get t = h = w =
their index, and M-RoPE is then exactly 1-D RoPE.
"""

from __future__ import annotations

import torch


def grid_positions(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of the height * width patches of an image in row-major (raster) order.

    Patch t sits at row t // width and column t % width; both are int64 tensors of shape
    [height * width]. ValueError if height or width is < 1.
    """
    if not (height >= 1 and width >= 1):
        raise ValueError(f"need height >= 1 and width >= 1, got {height}, {width}")
    rows = torch.arange(height, dtype=torch.int64).repeat_interleave(width)  # 0 0 0 1 1 1 ...
    cols = torch.arange(width, dtype=torch.int64).repeat(height)  # 0 1 2 0 1 2 ...
    return rows, cols


def apply_rope_2d(
    x: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor, *, base: float = 100.0
) -> torch.Tensor:
    """Axial 2-D RoPE. x: [..., N, d] with d divisible by 4; rows, cols: integers broadcastable to
    [..., N] (e.g. [N] from grid_positions). Returns a new tensor with x's shape, dtype and device.

    Features [0, d/2) rotate with cols, features [d/2, d) with rows, adjacent pairs inside each half,
    theta_j = base ** (-4j / d) for j = 0 .. d/4 - 1 (see the module docstring).
    ValueError if d is not divisible by 4.
    """
    d = x.shape[-1]
    if d % 4 != 0:
        raise ValueError(f"d must be a multiple of 4, got {d}")
    quarter = d // 4
    p = torch.arange(2 * quarter, device=x.device)  # pair index 0 .. d/2 - 1
    theta = base ** (-4.0 * (p % quarter).double() / d)  # pair p uses theta_(p mod d/4)
    on_cols = p < quarter  # the first d/4 pairs (features [0, d/2)) follow the column
    pos = torch.where(on_cols, cols.to(x.device)[..., None], rows.to(x.device)[..., None]).double()  # [..., N, d/2]
    angle = pos * theta
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.stack((torch.stack((c, -s), -1), torch.stack((s, c), -1)), -2)  # [..., N, d/2, 2, 2]
    xp = x.double().unflatten(-1, (2 * quarter, 2))  # [..., N, d/2, 2]
    out = torch.einsum("...ij,...j->...i", rot, xp)
    return out.flatten(-2).to(x.dtype)


def apply_mrope(
    x: torch.Tensor,
    positions: torch.Tensor,
    sections: tuple[int, int, int],
    *,
    base: float = 10000.0,
) -> torch.Tensor:
    """Qwen2-VL's M-RoPE. x: [..., T, d]; positions: integers of shape [3, *batch] broadcastable to
    [3, ..., T] (temporal, height, width positions of each token); sections: numbers of frequency
    pairs (s_t, s_h, s_w) with s_t + s_h + s_w = d / 2.

    Half-split pairs (j, j + d/2) with theta_j = base ** (-2j / d), as in 1-D RoPE; pair j rotates by
    positions[0] * theta_j if j < s_t, by positions[1] * theta_j if j < s_t + s_h, else by
    positions[2] * theta_j. Returns x's shape and dtype. ValueError for an odd d, a leading size of
    positions other than 3, or sections that do not add up to d / 2.
    """
    d = x.shape[-1]
    if d % 2 != 0:
        raise ValueError(f"odd d: {d}")
    if positions.dim() < 1 or positions.size(0) != 3:
        raise ValueError(f"positions must be [3, ...], got {tuple(positions.shape)}")
    s_t, s_h, s_w = (int(s) for s in sections)
    if s_t + s_h + s_w != d // 2 or d != 2 * (s_t + s_h + s_w):
        raise ValueError(f"sections {sections} do not add up to d / 2")
    half = d // 2
    j = torch.arange(half, device=x.device)
    theta = torch.pow(torch.tensor(float(base), dtype=torch.float64), -2.0 * j.double() / d)
    onehot = torch.stack((j < s_t, (j >= s_t) & (j < s_t + s_h), j >= s_t + s_h)).double()  # [3, d/2]
    pos = positions.to(x.device).double()[..., None]  # [3, *batch, 1]
    shape = (3,) + (1,) * (pos.dim() - 2) + (half,)
    angle = (pos * onehot.view(shape)).sum(0) * theta  # [*batch, d/2]: exactly the chosen position
    cos = torch.cat((torch.cos(angle), torch.cos(angle)), -1)
    sin = torch.cat((torch.sin(angle), torch.sin(angle)), -1)
    x64 = x.double()
    rotated_half = torch.cat((-x64[..., half:], x64[..., :half]), -1)
    return (x64 * cos + rotated_half * sin).to(x.dtype)
