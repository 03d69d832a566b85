"""Decouple a montage feature map into one feature per slot (JigClu, Sec. 3.2)."""
from functools import lru_cache
from typing import Sequence, Tuple

import torch
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS


@lru_cache(maxsize=None)
def _bilinear_weights(in_size: int, out_size: int) -> Tuple[Tuple[float, ...], ...]:
    """out_size x in_size weights of 1-D bilinear resizing with ``align_corners=False``.

    Output pixel o samples the input at ``(o + 0.5) * in / out - 0.5`` (half-pixel centres,
    clamped at 0 and at the last pixel), as ``torch.nn.functional.interpolate`` does.
    """
    rows = []
    for o in range(out_size):
        src = max((o + 0.5) * in_size / out_size - 0.5, 0.0)
        low = min(int(src), in_size - 1)
        high = min(low + 1, in_size - 1)
        frac = src - low
        row = [0.0] * in_size
        row[low] += 1.0 - frac
        row[high] += frac
        rows.append(tuple(row))
    return tuple(rows)


def decouple_matrix(in_size: int, grid: int, device=None, dtype=None) -> torch.Tensor:
    """The grid x in_size matrix A of the decouple along one axis.

    Bilinear resizing to ``4 * grid`` cells (align_corners=False) followed by the mean of every
    4 consecutive cells is linear, so it is one matrix: A = P B with B the (4 grid x in_size)
    bilinear weights and P the (grid x 4 grid) block-mean. Applied on both axes it gives the
    decoupled map ``A_h x A_w^T`` exactly.

    Args:
        in_size (int): Feature-map size along the axis (e.g. 7 for a ResNet-50 on 224 px).
        grid (int): Slots along the axis, m.
        device (torch.device, optional): Device of the returned matrix.
        dtype (torch.dtype, optional): Dtype of the returned matrix.

    Returns:
        Tensor: grid x in_size weights; every row sums to 1.
    """
    upsample = torch.tensor(_bilinear_weights(in_size, 4 * grid), dtype=torch.float64)
    matrix = upsample.view(grid, 4, in_size).mean(dim=1)
    return matrix.to(device=device, dtype=dtype)


@MODELS.register_module()
class DecoupleNeck(BaseModule):
    """Split the backbone's last feature map into ``grid * grid`` per-slot features.

    From `Jigsaw Clustering for Unsupervised Visual Representation Learning
    <https://arxiv.org/abs/2104.00323>`_ (CVPR 2021): the feature map is bilinearly interpolated
    to (4m x 4m) (align_corners=False) and average-pooled to m x m, so a 7 x 7 layer4 map splits
    cleanly into 2 x 2 slots with the seam column shared between neighbours.

    Both steps are linear and separable, so they are computed as one fixed matrix per axis
    (:func:`decouple_matrix`), cached per (size, device, dtype) and applied with one einsum:
    the same values and gradients as ``F.interpolate`` + ``F.adaptive_avg_pool2d`` in any
    memory layout, without PyTorch's NCHW bilinear kernel (docs/speed.md has the measurements).

    The grid is not a setting: the montages' targets carry it (``JigsawTargets.grid``, derived
    from the number of patch batches) and the algorithm passes it to :meth:`forward`.

    Example:
        >>> neck = DecoupleNeck()
        >>> feats, = neck((torch.rand(8, 2048, 7, 7),), grid=2)
        >>> feats.shape  # slot-major: index = slot * 8 + montage
        torch.Size([32, 2048])

    Args:
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self._matrices = {}

    def _matrix(self, in_size: int, grid: int, like: torch.Tensor) -> torch.Tensor:
        key = (in_size, grid, like.device, like.dtype)
        if key not in self._matrices:
            self._matrices[key] = decouple_matrix(in_size, grid, like.device, like.dtype)
        return self._matrices[key]

    def forward(self, inputs: Sequence[torch.Tensor], grid: int) -> Tuple[torch.Tensor]:
        """Return a 1-tuple with the (m*m*n) x C per-slot features, slot-major.

        Args:
            inputs (Sequence[Tensor]): Backbone outputs; the last, n x C x H x W, is used.
            grid (int): Slots per side, m >= 2.

        Raises:
            ValueError: the map has fewer than m cells along a side: the slots would share
                their cells and get (nearly) the same feature.
        """
        x = inputs[-1]
        if grid < 2:
            raise ValueError(f'DecoupleNeck: grid must be >= 2, got {grid}')
        if min(x.shape[-2:]) < grid:
            raise ValueError(
                f'DecoupleNeck: the backbone\'s last feature map is {x.size(2)} x {x.size(3)}, '
                f'smaller than the {grid} x {grid} grid of slots, so every slot would get the same '
                f'feature. Make the montages larger (JigsawSplit patch_size x {grid}) or use a '
                'backbone that downsamples less (e.g. ResNet_CIFAR for small images)')
        rows, cols = self._matrix(x.size(2), grid, x), self._matrix(x.size(3), grid, x)
        # slot (i, j) of montage n: sum_hw A[i, h] x[n, c, h, w] A[j, w], emitted slot-major
        slots = torch.einsum('ih,nchw,jw->ijnc', rows, x, cols)
        return (slots.reshape(-1, x.size(1)), )
