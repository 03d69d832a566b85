"""Shuffle the patches of the global batch: each rank receives exactly its montages' patches.

The JigClu "shuffle" (supplementary, Algorithm 1) draws one permutation of all m*m*N patches of
the global batch (N images over all ranks). Montage k, slot j takes patch ``perm[j * N + k]``,
where patch p is position ``p div N`` of image ``p mod N``; rank r builds montages
[r * n, (r + 1) * n) with n = N / world_size.

Every rank draws the same permutation from a generator seeded alike on all ranks (the data
preprocessor's step generator), so every rank knows which of its patches every other rank
needs: one ``all_to_all`` sends each patch once, to the rank whose montage holds it. A rank
receives m*m*n patches (its own share of the data) whatever the world size, instead of the
m*m*N that an all-gather of the whole batch delivers. Patches travel in their own dtype (uint8
straight from the data pipeline), so augmentation and normalisation run after the exchange, on
the patches a rank actually uses.
"""
from typing import List, NamedTuple, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_rank, get_world_size

from mejigclu_mm.models.utils.targets import JigsawTargets


class ExchangedPatches(NamedTuple):
    """What :func:`exchange_patches` returns.

    Args:
        slots (Tensor): (m*m) x n x C x h x w; slot j of local montage k at ``[j, k]``.
        targets (JigsawTargets): Labels of the per-slot features gathered over ranks.
        slot_ids (Tensor): (m*m*n,) global patch id (position * N + image) of every slot of
            this rank, slot-major (index = slot * n + montage): the ids that index per-patch
            random draws, so that they do not depend on how the batch is split over ranks.
    """
    slots: torch.Tensor
    targets: JigsawTargets
    slot_ids: torch.Tensor


def patch_grid(patches: List[torch.Tensor]) -> int:
    """The grid m of a list of m*m patch batches (one per position), checked.

    Args:
        patches (list[Tensor]): The patch batches of ``JigsawSplit``, n x C x h x w each.

    Raises:
        ValueError: the count is not a square >= 4, or the batches differ in shape.
    """
    grid = int(round(len(patches) ** 0.5))
    if grid < 2 or grid * grid != len(patches):
        raise ValueError(f'expected m*m patch batches (one per position, m >= 2), got '
                         f'{len(patches)}')
    shapes = {tuple(p.shape) for p in patches}
    if len(shapes) != 1:
        raise ValueError(f'all patch tensors must have one shape, got {sorted(shapes)}; '
                         'give the patch pipeline a fixed output size (e.g. patch_size)')
    return grid


def slot_sources(perm: torch.Tensor, grid: int, world_size: int) -> torch.Tensor:
    """Global patch index held by every slot, as world x (m*m) x n (rank, slot, montage)."""
    global_n = perm.numel() // (grid * grid)
    return perm.view(grid * grid, world_size, global_n // world_size).transpose(0, 1)


def targets_from_permutation(perm: torch.Tensor, grid: int, world_size: int) -> JigsawTargets:
    """Labels of the gathered per-slot features, computed from the permutation alone.

    Row ``rank * m*m*n + slot * n + montage`` of the features gathered over ranks (each rank's
    features slot-major, as ``DecoupleNeck`` emits them) comes from patch ``p``: source image
    ``p mod N`` (global id), source position ``p div N``.

    Args:
        perm (Tensor): The shared permutation of the m*m*N patches.
        grid (int): Patches per side, m.
        world_size (int): Number of ranks.

    Returns:
        JigsawTargets: labels for all m*m*N rows.
    """
    global_n = perm.numel() // (grid * grid)
    sources = slot_sources(perm, grid, world_size).reshape(-1)
    return JigsawTargets(source_image=sources % global_n,
                         source_position=torch.div(sources, global_n, rounding_mode='floor'),
                         num_images=global_n, grid=grid)


def exchange_patches(patches: List[torch.Tensor],
                     generator: Optional[torch.Generator] = None,
                     perm: Optional[torch.Tensor] = None) -> ExchangedPatches:
    """Send every patch to the rank whose montage holds it; return this rank's slots.

    Args:
        patches (list[Tensor]): m*m tensors, one per patch position (row-major), each
            n x C x h x w: this rank's images, any dtype (uint8 from the pipeline).
        generator (torch.Generator, optional): Draws the permutation of the m*m*N global
            patches; it must be seeded alike on every rank (every rank draws the same
            permutation, without communication). None: torch's global generator (one process
            only, or ranks whose global streams are in step).
        perm (Tensor, optional): The permutation itself, instead of drawing one.

    Returns:
        ExchangedPatches: this rank's slots, the targets of all ranks' features, and the
        global ids of this rank's slots.
    """
    grid = patch_grid(patches)
    world_size, rank = get_world_size(), get_rank()
    local_n = patches[0].size(0)
    local = torch.stack(patches).flatten(0, 1)  # index = position * n + local image
    global_n = local_n * world_size
    if perm is None:
        perm = torch.randperm(grid * grid * global_n, generator=generator, device=local.device)
    targets = targets_from_permutation(perm, grid, world_size)
    sources = slot_sources(perm, grid, world_size).reshape(world_size, -1)  # per rank, slot-major
    owner = torch.div(sources % global_n, local_n, rounding_mode='floor')
    local_index = torch.div(sources, global_n, rounding_mode='floor') * local_n + (
        sources % global_n) % local_n
    shape = (grid * grid, local_n, *local.shape[1:])
    if world_size == 1:
        return ExchangedPatches(local[local_index[0]].view(shape), targets, sources[0])

    # What I send: for each destination, my patches it needs, in its slot-major order.
    mine = owner == rank
    send = local[local_index[mine]]  # row-major over (destination, slot): destinations in order
    send_counts = mine.sum(dim=1).tolist()
    # What I receive: my slots grouped by the rank that owns them, slot-major within a group.
    by_owner = torch.sort(owner[rank], stable=True).indices
    recv_counts = torch.bincount(owner[rank], minlength=world_size).tolist()
    received = send.new_empty((grid * grid * local_n, *local.shape[1:]))
    torch_dist.all_to_all_single(received, send.contiguous(), recv_counts, send_counts)
    slots = torch.empty_like(received)
    slots[by_owner] = received
    return ExchangedPatches(slots.view(shape), targets, sources[rank])
