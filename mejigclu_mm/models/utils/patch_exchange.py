"""Shuffle the patches of the global batch: each rank receives exactly its montages' patches.

The JigClu "shuffle" (supplementary, Algorithm 1) draws one permutation of all m*m*N patches of
the global batch (N images over all ranks). Montage k, slot j takes patch ``perm[j * N + k]``,
where patch p is position ``p div N`` of image ``p mod N``; rank r builds montages
[r * n, (r + 1) * n) with n = N / world_size.

Every rank knows the permutation, so every rank knows which of its patches every other rank
needs: one ``all_to_all`` sends each patch once, to the rank whose montage holds it. A rank
receives m*m*n patches (its own share of the data) whatever the world size, instead of the
m*m*N that an all-gather of the whole batch delivers (:func:`exchange_by_all_gather`, kept as
the reference for tests and ``tools/benchmark.py``). Patches travel in their own dtype (uint8
straight from the data pipeline), so normalisation and device-side augmentation run after the
exchange, on the patches a rank actually uses.
"""
from typing import List, Tuple

import torch
import torch.distributed as torch_dist
from mmengine.dist import broadcast, get_rank, get_world_size

from .gather import gather_without_grad
from .targets import JigsawTargets


def draw_global_permutation(num_patches: int, device: torch.device) -> torch.Tensor:
    """One random permutation of ``num_patches``, drawn on rank 0 and shared with all ranks."""
    perm = torch.randperm(num_patches, device=device)
    if get_world_size() > 1:
        broadcast(perm, src=0)
    return perm


def _check_patches(patches: List[torch.Tensor], grid: int) -> None:
    if len(patches) != grid * grid:
        raise ValueError(f'expected grid * grid = {grid * grid} patch tensors (one per position), '
                         f'got {len(patches)}')
    shapes = {tuple(p.shape) for p in patches}
    if len(shapes) != 1:
        raise ValueError(f'all patch tensors must have one shape, got {sorted(shapes)}; '
                         'give the patch pipeline a fixed output size (e.g. patch_size)')


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


def exchange_patches(patches: List[torch.Tensor], grid: int, perm: torch.Tensor = None
                     ) -> Tuple[torch.Tensor, JigsawTargets]:
    """Send every patch to the rank whose montage holds it; return this rank's slots.

    Args:
        patches (list[Tensor]): ``grid * grid`` tensors, one per patch position (row-major),
            each n x C x h x w: this rank's images, any dtype (uint8 from the pipeline).
        grid (int): Patches per side, m.
        perm (Tensor, optional): The permutation of the m*m*N global patches; drawn (rank 0,
            broadcast) when None.

    Returns:
        tuple: ``slots`` (m*m) x n x C x h x w, slot j of local montage k at ``[j, k]``, and the
        :class:`JigsawTargets` of the features gathered over ranks.
    """
    _check_patches(patches, grid)
    world_size, rank = get_world_size(), get_rank()
    local_n = patches[0].size(0)
    local = torch.stack(patches).flatten(0, 1)  # index = position * n + local image
    if perm is None:
        perm = draw_global_permutation(grid * grid * local_n * world_size, local.device)
    targets = targets_from_permutation(perm, grid, world_size)
    global_n = local_n * world_size
    sources = slot_sources(perm, grid, world_size).reshape(world_size, -1)  # per rank, slot-major
    owner = torch.div(sources % global_n, local_n, rounding_mode='floor')
    local_index = torch.div(sources, global_n, rounding_mode='floor') * local_n + (
        sources % global_n) % local_n
    if world_size == 1:
        return local[local_index[0]].view(grid * grid, local_n, *local.shape[1:]), targets

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
    return slots.view(grid * grid, local_n, *local.shape[1:]), targets


def exchange_by_all_gather(patches: List[torch.Tensor], grid: int, perm: torch.Tensor = None
                           ) -> Tuple[torch.Tensor, JigsawTargets]:
    """The same result as :func:`exchange_patches` through an all-gather of every patch.

    Every rank receives all m*m*N patches and keeps the m*m*n of its montages: traffic grows
    with the number of ranks. Kept as the reference for tests and ``tools/benchmark.py``.
    """
    _check_patches(patches, grid)
    world_size, rank = get_world_size(), get_rank()
    local_n = patches[0].size(0)
    position_major = torch.stack([gather_without_grad(p) for p in patches])  # m*m x N x ...
    flat = position_major.flatten(0, 1)  # index = position * N + image
    if perm is None:
        perm = draw_global_permutation(flat.size(0), flat.device)
    chosen = slot_sources(perm, grid, world_size)[rank]  # slot x local montage
    return flat[chosen], targets_from_permutation(perm, grid, world_size)
