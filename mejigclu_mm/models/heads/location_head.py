"""The location branch of JigClu: predict where each patch sat in its image."""
import torch
from mmengine.model import BaseModule
from torch import nn

from mejigclu_mm.models.utils import JigsawTargets
from mmpretrain.registry import MODELS


@MODELS.register_module()
class LocationHead(BaseModule):
    """grid*grid-way classification of each patch's source position (L_loc).

    From `Jigsaw Clustering <https://arxiv.org/abs/2104.00323>`_ (Algorithm 1, lines 12-13):
    a single Linear layer on the per-patch feature, cross-entropy on ``p div N``.

    Args:
        grid (int): Patches per side, m; the head has m*m classes. Defaults to 2.
        in_channels (int): Feature size from the neck. Defaults to 2048.
        loss (dict): Config of the loss on the logits and positions (mmpretrain's losses).
            Defaults to ``CrossEntropyLoss``.
        loss_weight (float): Weight of this loss in the total. Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, grid: int = 2, in_channels: int = 2048,
                 loss: dict = dict(type='CrossEntropyLoss'), loss_weight: float = 1.0,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.grid = grid
        self.fc = nn.Linear(in_channels, grid * grid)
        self.loss_module = MODELS.build(loss)
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """M x grid*grid logits."""
        return self.fc(feats)

    def loss(self, feats: torch.Tensor, targets: JigsawTargets) -> torch.Tensor:
        """Weighted cross-entropy on the source position of every patch."""
        if targets.grid != self.grid:
            raise ValueError(f'LocationHead has grid={self.grid} but the montages use grid='
                             f'{targets.grid}; set model.heads.loc.grid to the grid of the '
                             'pipeline\'s JigsawSplit')
        return self.loss_weight * self.loss_module(self(feats), targets.source_position)
