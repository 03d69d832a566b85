"""JigClu and MEJigClu pretraining: one algorithm, the heads chosen in the config."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import get_world_size
from torch import nn

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from ..utils import JigsawTargets, gather_with_grad, gather_without_grad, stitch_montages


@MODELS.register_module()
class JigsawClustering(BaseSelfSupervisor):
    """Jigsaw clustering: montages of shuffled patches, per-slot features, patch-level losses.

    Implements `Jigsaw Clustering for Unsupervised Visual Representation Learning
    <https://arxiv.org/abs/2104.00323>`_ (JigClu: clustering + location heads) and `MEJigClu:
    More Effective Jigsaw Clustering for Unsupervised Visual Representation Learning`
    (clustering + patch classification heads, random split overlap). The data pipeline splits
    every image into grid x grid patches (``JigsawSplit``); here the patches of the global batch
    are shuffled and stitched into montages (:meth:`make_montages`), the backbone and
    ``DecoupleNeck`` give one feature per slot, the features are gathered over ranks with a
    gradient-summing gather, and every head computes its loss over all m*m*N patches.

    Args:
        backbone (dict): Backbone config, e.g. mmpretrain's ResNet with ``out_indices=(3, )``.
        neck (dict): ``DecoupleNeck`` config with the same ``grid``.
        heads (dict[str, dict]): Head configs by name; each adds ``loss_<name>`` to the losses.
            JigClu: ``clu`` (ClusteringHead) and ``loc`` (LocationHead); MEJigClu: ``clu`` and
            ``cls`` (PatchClassificationHead).
        grid (int): Patches per side, m. Defaults to 2.
        data_preprocessor (dict, optional): Defaults to ``SelfSupDataPreprocessor``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, backbone: dict, neck: dict, heads: Dict[str, dict], grid: int = 2,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None):
        if grid < 2:
            raise ValueError(f'JigsawClustering: grid must be >= 2, got {grid}')
        if not heads:
            raise ValueError('JigsawClustering needs at least one head in `heads`')
        super().__init__(backbone=backbone, neck=neck, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if getattr(self.neck, 'grid', grid) != grid:
            raise ValueError(f'JigsawClustering: neck grid {self.neck.grid} != algorithm grid '
                             f'{grid}')
        self.grid = grid
        self.heads = nn.ModuleDict({name: MODELS.build(cfg) for name, cfg in heads.items()})

    def make_montages(self, patches: List[torch.Tensor]
                      ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Shuffle the patches of the global batch and stitch montages (no gradient).

        Args:
            patches (list[Tensor]): grid*grid tensors in position order, each n x C x h x w.

        Returns:
            tuple: montages n x C x (grid*h) x (grid*w), and the per-slot ``source_image``
            (global id) and ``source_position``, slot-major (index = slot * n + montage).
        """
        return stitch_montages(patches, self.grid)

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Losses of one step; ``inputs`` holds the grid*grid normalised patch batches."""
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('JigsawClustering expects a list of patch batches from the '
                            'JigsawSplit transform, got a single tensor')
        montages, source_image, source_position = self.make_montages(inputs)
        feats = self.neck(self.backbone(montages))[0]
        targets = JigsawTargets(
            source_image=gather_without_grad(source_image),
            source_position=gather_without_grad(source_position),
            num_images=montages.size(0) * get_world_size(),
            grid=self.grid)
        feats = gather_with_grad(feats)
        return {f'loss_{name}': head.loss(feats, targets) for name, head in self.heads.items()}
