"""Stitch per-slot patches into montages (the JigClu "stitch")."""
import torch


def stitch_montages(slots: torch.Tensor, grid: int) -> torch.Tensor:
    """Tile the slots of every montage into one image.

    Args:
        slots (Tensor): (grid*grid) x n x C x h x w; ``slots[j, k]`` fills slot j (row-major: 0
            top-left, 1 top-right, ...) of montage k, as :func:`exchange_patches` returns them.
        grid (int): Patches per side, m.

    Returns:
        Tensor: n x C x (m*h) x (m*w) montages.
    """
    if slots.dim() != 5 or slots.size(0) != grid * grid:
        raise ValueError(f'expected (grid*grid) x n x C x h x w slots with grid*grid = '
                         f'{grid * grid}, got shape {tuple(slots.shape)}')
    _, count, channels, height, width = slots.shape
    return (slots.view(grid, grid, count, channels, height, width)
            .permute(2, 3, 0, 4, 1, 5)
            .reshape(count, channels, grid * height, grid * width))
