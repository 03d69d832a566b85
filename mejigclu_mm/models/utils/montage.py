"""Shuffle patches over the global batch and stitch them into montages (the JigClu "stitch")."""
from typing import List, Tuple

import torch
from mmengine.dist import broadcast, get_rank, get_world_size

from .gather import gather_without_grad


def draw_global_permutation(num_patches: int, device: torch.device) -> torch.Tensor:
    """One random permutation of ``num_patches``, drawn on rank 0 and shared with all ranks."""
    perm = torch.randperm(num_patches, device=device)
    if get_world_size() > 1:
        broadcast(perm, src=0)
    return perm


@torch.no_grad()
def stitch_montages(patches: List[torch.Tensor], grid: int
                    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Permute the patches of the global batch and stitch this rank's share into montages.

    The m*m*N patches (N = global batch) are ordered position-major, index p = position * N +
    image. One permutation ``perm`` of them is drawn on rank 0 and broadcast; montage k, slot j
    (row-major) takes patch ``perm[j * N + k]``, whose labels are source image ``p mod N`` and
    source position ``p div N`` (JigClu supplementary, Algorithm 1). Rank r keeps montages
    [r * n, (r + 1) * n) with n = N / world_size.

    Args:
        patches (list[Tensor]): ``grid * grid`` tensors, one per patch position (row-major), each
            n x C x h x w (this rank's images).
        grid (int): Patches per side, m.

    Returns:
        tuple: ``montages`` n x C x (m*h) x (m*w); ``source_image`` and ``source_position``, both
        of length m*m*n, slot-major (index = slot * n + local montage), the order in which
        ``DecoupleNeck`` emits the per-slot features. Source image ids are global (0..N-1).
    """
    if len(patches) != grid * grid:
        raise ValueError(f'expected grid * grid = {grid * grid} patch tensors (one per position), '
                         f'got {len(patches)}')
    shapes = {tuple(p.shape) for p in patches}
    if len(shapes) != 1:
        raise ValueError(f'all patch tensors must have one shape, got {sorted(shapes)}; '
                         'give the patch pipeline a fixed output size (e.g. RandomResizedCrop)')
    local_n, channels, height, width = patches[0].shape
    # position-major within each rank, then ranks concatenated per position
    position_major = torch.stack([gather_without_grad(p) for p in patches])  # m*m x N x C x h x w
    global_n = position_major.size(1)
    flat = position_major.flatten(0, 1)  # index = position * N + image
    perm = draw_global_permutation(flat.size(0), flat.device)

    rank_slice = slice(get_rank() * local_n, (get_rank() + 1) * local_n)
    chosen = perm.view(grid * grid, global_n)[:, rank_slice]  # slot x local montage
    slots = flat[chosen]  # m*m x n x C x h x w
    montages = (slots.view(grid, grid, local_n, channels, height, width)
                .permute(2, 3, 0, 4, 1, 5)
                .reshape(local_n, channels, grid * height, grid * width))
    chosen = chosen.reshape(-1)
    return montages, chosen % global_n, torch.div(chosen, global_n, rounding_mode='floor')
