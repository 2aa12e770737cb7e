# corpus: wrong
# mistake: apply_rope_2d rotates half-split pairs (j, j + d/4) inside each half instead of the documented adjacent pairs (2j, 2j + 1).
# evidence: d 16 on a 3 x 5 grid: output differs from the adjacent-pair definition by 3.43 (feature 1 is paired with feature 5 instead of feature 0).
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


def _rotate_adjacent(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate the adjacent pairs (2p, 2p + 1) of x [..., 2P] by angles [..., P] (float64); x's dtype back."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    x64 = x.to(torch.float64)
    x1, x2 = x64[..., 0::2], x64[..., 1::2]
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # [..., P, 2]
    return out.flatten(-2).to(x.dtype)


def _rotate_half_split(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Rotate the half-split pairs (p, p + P) of x [..., 2P] by angles [..., P] (float64); x's dtype back."""
    cos, sin = torch.cos(angles), torch.sin(angles)
    x64 = x.to(torch.float64)
    half = x.shape[-1] // 2
    x1, x2 = x64[..., :half], x64[..., half:]
    out = torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
    return out.to(x.dtype)


def grid_positions(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of the height * width patches of an image in row-major (raster) order.

    Patch t sits at row t // width and column t % width; both are int64 tensors of shape
    [height * width]. ValueError if height or width is < 1.
    """
    if height < 1:
        raise ValueError(f"height must be >= 1, got {height}")
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    t = torch.arange(height * width, dtype=torch.int64)
    return t // width, t % width


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
        raise ValueError(f"the feature dimension must be divisible by 4, got {d}")
    j = torch.arange(d // 4, dtype=torch.float64, device=x.device)
    theta = base ** (-4.0 * j / d)  # [d/4]
    col_angles = cols.to(device=x.device, dtype=torch.float64)[..., None] * theta  # [..., N, d/4]
    row_angles = rows.to(device=x.device, dtype=torch.float64)[..., None] * theta
    col_angles, row_angles = torch.broadcast_tensors(col_angles, row_angles)
    angles = torch.cat((col_angles, row_angles), dim=-1)  # [..., N, d/2]: column half first
    first = _rotate_half_split(x[..., : d // 2], col_angles)  # columns
    second = _rotate_half_split(x[..., d // 2 :], row_angles)  # rows
    return torch.cat((first, second), dim=-1)


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
        raise ValueError(f"the feature dimension must be even, got {d}")
    if positions.dim() == 0 or positions.shape[0] != 3:
        raise ValueError(f"positions must have a leading size of 3 (t, h, w), got shape {tuple(positions.shape)}")
    if sum(sections) * 2 != d:
        raise ValueError(f"sections {tuple(sections)} must add up to d / 2 = {d // 2}")
    s_t, s_h, s_w = sections
    j = torch.arange(d // 2, dtype=torch.float64, device=x.device)
    theta = base ** (-2.0 * j / d)  # [d/2]
    angles = positions.to(device=x.device, dtype=torch.float64)[..., None] * theta  # [3, ..., T, d/2]
    selected = torch.cat(
        (angles[0, ..., :s_t], angles[1, ..., s_t : s_t + s_h], angles[2, ..., s_t + s_h :]), dim=-1
    )  # [..., T, d/2]: each pair takes the position of its section
    return _rotate_half_split(x, selected)
