"""MLP_1 and the clustering loss (JigClu and MEJigClu)."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mejigclu_mm.models.utils import JigsawTargets, two_layer_mlp
from mmpretrain.registry import MODELS


@MODELS.register_module()
class ClusteringHead(BaseModule):
    """Embed per-patch features and cluster patches of the same image (L_clu).

    The clustering branch of `Jigsaw Clustering <https://arxiv.org/abs/2104.00323>`_, kept by
    MEJigClu (Eq. 2-3): MLP_1 = Linear - ReLU - Linear, L2-normalised, then ``SupCluLoss`` with
    the source image as the cluster label.

    Args:
        in_channels (int): Feature size from the neck. Defaults to 2048.
        hid_channels (int): Hidden size of MLP_1. Defaults to 2048.
        out_channels (int): Embedding size. Defaults to 128.
        loss (dict): Config of the clustering loss. Defaults to ``SupCluLoss(0.3, 0.07)``.
        loss_weight (float): Weight of this loss in the total (beta). Defaults to 1.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, in_channels: int = 2048, hid_channels: int = 2048,
                 out_channels: int = 128,
                 loss: dict = dict(type='SupCluLoss', temperature=0.3, base_temperature=0.07),
                 loss_weight: float = 1.0, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.mlp = two_layer_mlp(in_channels, hid_channels, out_channels)
        self.loss_module = MODELS.build(loss)
        self.loss_weight = loss_weight

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """L2-normalised embeddings of the M x in_channels features."""
        return F.normalize(self.mlp(feats), dim=1)

    def loss(self, feats: torch.Tensor, targets: JigsawTargets) -> torch.Tensor:
        """Weighted clustering loss over all patches of the global batch."""
        return self.loss_weight * self.loss_module(self(feats), targets.source_image)
