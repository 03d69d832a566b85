"""The reference montage exchange of the tests: an all-gather of every patch of the batch.

Every rank receives all m*m*N patches and keeps the m*m*n of its montages, so its traffic grows
with the number of ranks; the package's ``exchange_patches`` (one all_to_all) must give the
same slots, labels and slot ids for the same permutation.
"""
from typing import List

import torch
from mmengine.dist import get_rank, get_world_size

from mejigclu_mm.models.utils import (ExchangedPatches, gather_without_grad, patch_grid,
                                      slot_sources, targets_from_permutation)


def exchange_by_all_gather(patches: List[torch.Tensor], perm: torch.Tensor) -> ExchangedPatches:
    """The result of ``exchange_patches(patches, perm=perm)`` through an all-gather."""
    grid = patch_grid(patches)
    world_size, rank = get_world_size(), get_rank()
    position_major = torch.stack([gather_without_grad(p) for p in patches])  # m*m x N x ...
    flat = position_major.flatten(0, 1)  # index = position * N + image
    chosen = slot_sources(perm, grid, world_size)[rank]  # slot x local montage
    return ExchangedPatches(flat[chosen], targets_from_permutation(perm, grid, world_size),
                            chosen.reshape(-1))
