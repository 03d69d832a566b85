"""Decouple a montage feature map into one feature per slot (JigClu, Sec. 3.2)."""
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS


@MODELS.register_module()
class DecoupleNeck(BaseModule):
    """Split the backbone's last feature map into ``grid * grid`` per-slot features.

    From `Jigsaw Clustering for Unsupervised Visual Representation Learning
    <https://arxiv.org/abs/2104.00323>`_ (CVPR 2021): the feature map is bilinearly interpolated
    to (4m x 4m) (align_corners=False) and average-pooled to m x m, so a 7 x 7 layer4 map splits
    cleanly into 2 x 2 slots with the seam column shared between neighbours.

    Example:
        >>> neck = DecoupleNeck(grid=2)
        >>> feats, = neck((torch.rand(8, 2048, 7, 7),))
        >>> feats.shape  # slot-major: index = slot * 8 + montage
        torch.Size([32, 2048])

    Args:
        grid (int): Slots per side, m. Defaults to 2.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, grid: int = 2, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        if grid < 2:
            raise ValueError(f'DecoupleNeck: grid must be >= 2, got {grid}')
        self.grid = grid

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor]:
        """Return a 1-tuple with the (m*m*n) x C per-slot features, slot-major.

        Args:
            inputs (Sequence[Tensor]): Backbone outputs; the last, n x C x H x W, is used.
        """
        x = inputs[-1]
        m = self.grid
        x = F.interpolate(x, size=(4 * m, 4 * m), mode='bilinear', align_corners=False)
        x = F.adaptive_avg_pool2d(x, (m, m))  # n x C x m x m, slot j = (j // m, j % m)
        return (x.flatten(2).permute(2, 0, 1).reshape(-1, x.size(1)), )
