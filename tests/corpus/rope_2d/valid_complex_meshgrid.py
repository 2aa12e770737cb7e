# corpus: valid
# mistake: Grid from meshgrid(indexing='ij'); both rotations as complex multiplications (view_as_complex of adjacent pairs for 2-D, complex(x_j, x_(j+d/2)) for M-RoPE) with the section of each pair picked by repeat_interleave indexing.
# evidence: Equal to a per-pair float64 loop of the docstring's definition to 1e-12 on grids 3 x 5 and 4 x 4, batched and broadcast positions, sections (16, 24, 24), (2, 3, 3), (0, 4, 4); text tokens equal 1-D RoPE; dtypes kept; every ValueError.
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
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height} x {width}")
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")  # [H, W] each
    return rows.reshape(-1), cols.reshape(-1)


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
    if d % 4:
        raise ValueError(f"d must be divisible by 4, got {d}")
    half = d // 2
    freqs = base ** (-torch.arange(0, half, 2, dtype=torch.float64, device=x.device) / half)  # base ** (-4j / d)
    fx = cols.to(x.device).double().unsqueeze(-1) * freqs  # [..., N, d/4]
    fy = rows.to(x.device).double().unsqueeze(-1) * freqs
    fx, fy = torch.broadcast_tensors(fx, fy)
    angles = torch.cat([fx, fy], dim=-1)  # complex frequencies cat(freqs_x, freqs_y)
    rotation = torch.polar(torch.ones_like(angles), angles)  # [..., N, d/2] complex128
    pairs = torch.view_as_complex(x.to(torch.float64).reshape(*x.shape[:-1], half, 2).contiguous())
    return torch.view_as_real(pairs * rotation).flatten(-2).to(x.dtype)


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
    if d % 2:
        raise ValueError(f"d must be even, got {d}")
    if positions.ndim < 1 or positions.shape[0] != 3:
        raise ValueError("positions needs a leading axis of size 3 (temporal, height, width)")
    if 2 * sum(sections) != d:
        raise ValueError(f"sections must add up to d / 2 = {d / 2}, got {sum(sections)}")
    half = d // 2
    theta = base ** (-2.0 * torch.arange(half, dtype=torch.float64, device=x.device) / d)
    axis = torch.repeat_interleave(torch.arange(3, device=x.device), torch.tensor(list(sections), device=x.device))
    chosen = positions.to(x.device).double()[axis]  # [d/2, *batch]: pair j takes the position of its axis
    angles = chosen.movedim(0, -1) * theta  # [*batch, d/2]
    x64 = x.to(torch.float64)
    pairs = torch.complex(x64[..., :half], x64[..., half:])  # pair j = (j, j + d/2) as one complex number
    rotated = pairs * torch.polar(torch.ones_like(angles), angles)
    return torch.cat([rotated.real, rotated.imag], dim=-1).to(x.dtype)
