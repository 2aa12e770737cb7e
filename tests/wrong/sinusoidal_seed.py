"""The source document 000's sinusoidal encoding, as published (wrong: see SEED_NOTES item 5)."""

import torch


def sinusoidal_encoding(length, d_model, base=10000.0):
    positions = torch.arange(0, length, dtype=torch.float).unsqueeze(-1)
    positions_sin = torch.sin(positions * (2 * torch.arange(0, d_model // 2, 2) / d_model))
    positions_cos = torch.cos(positions * (2 * torch.arange(0, d_model // 2, 2) / d_model))
    pos_encoding = torch.cat([positions_sin, positions_cos], dim=-1)
    return pos_encoding.unsqueeze(0)
