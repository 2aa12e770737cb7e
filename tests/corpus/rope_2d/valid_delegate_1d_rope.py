# corpus: valid
# mistake: Reuses the sibling 1-D RoPE: 2-D RoPE as two interleaved apply_rope calls on the two halves, M-RoPE by choosing, column by column, the half-split cos/sin tables of rope_cos_sin for the three position kinds; the grid by floor division and remainder.
# evidence: Same numbers as the per-pair float64 definition to 1e-12 (float64 inputs) on grids, batched positions and all section splits tested, dtypes kept, ValueError for d % 4 != 0, odd d, leading size != 3, sections not adding up.
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

from .rope import apply_rope, rope_cos_sin


def grid_positions(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows, cols) of the height * width patches of an image in row-major (raster) order.

    Patch t sits at row t // width and column t % width; both are int64 tensors of shape
    [height * width]. ValueError if height or width is < 1.
    """
    if height < 1:
        raise ValueError("height must be at least 1")
    if width < 1:
        raise ValueError("width must be at least 1")
    t = torch.arange(height * width)
    return torch.div(t, width, rounding_mode="floor"), torch.remainder(t, width)


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
        raise ValueError(f"d must be divisible by 4, got {d}")
    half = d // 2
    # each half is an ordinary interleaved 1-D RoPE of width d/2: theta_j = base ** (-2j / (d/2))
    x_part = apply_rope(x[..., :half], cols, base=base, interleaved=True)
    y_part = apply_rope(x[..., half:], rows, base=base, interleaved=True)
    return torch.cat((x_part, y_part), dim=-1)


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
        raise ValueError(f"d must be even, got {d}")
    if positions.dim() == 0 or positions.shape[0] != 3:
        raise ValueError("positions must have shape [3, ...]")
    if sum(sections) != d / 2:
        raise ValueError("sections must add up to d / 2")
    half = d // 2
    tables = [rope_cos_sin(positions[k], d, base, dtype=torch.float64) for k in range(3)]  # [*batch, d] each
    kind = torch.zeros(half, dtype=torch.long)
    kind[sections[0] :] = 1
    kind[sections[0] + sections[1] :] = 2
    kind = torch.cat((kind, kind))  # the half-split table repeats the d/2 frequencies: cat(freqs, freqs)
    cos = torch.zeros_like(tables[0][0])
    sin = torch.zeros_like(tables[0][1])
    for k, (c, s) in enumerate(tables):
        cos = torch.where(kind == k, c, cos)
        sin = torch.where(kind == k, s, sin)
    x64 = x.to(torch.float64)
    rotated_half = torch.cat((-x64[..., half:], x64[..., :half]), dim=-1)
    return (x64 * cos.to(x.device) + rotated_half * sin.to(x.device)).to(x.dtype)
