"""JigClu and MEJigClu pretraining: one algorithm, the heads chosen in the config."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import get_rank
from torch import nn

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from ..utils import JigsawTargets, exchange_patches, gather_with_grad, stitch_montages


@MODELS.register_module()
class JigsawClustering(BaseSelfSupervisor):
    """Jigsaw clustering: montages of shuffled patches, per-slot features, patch-level losses.

    Implements `Jigsaw Clustering for Unsupervised Visual Representation Learning
    <https://arxiv.org/abs/2104.00323>`_ (JigClu: clustering + location heads) and `MEJigClu:
    More Effective Jigsaw Clustering for Unsupervised Visual Representation Learning`
    (clustering + patch classification heads, random split overlap). The data pipeline splits
    every image into grid x grid patches (``JigsawSplit``); here the patches of the global batch
    are shuffled, each rank receiving exactly the patches of its own montages (an
    ``all_to_all`` of uint8 patches), augmented and normalised by the data preprocessor
    (``JigsawDataPreprocessor``) and stitched into montages (:meth:`make_montages`); the
    backbone and ``DecoupleNeck`` give one feature per slot, the features are gathered over
    ranks with a gradient-summing gather, and every head computes its loss over all m*m*N
    patches. ``mode='tensor'`` returns the backbone's outputs for whole images, like
    mmpretrain's MoCo and SimCLR.

    Args:
        backbone (dict): Backbone config, e.g. mmpretrain's ResNet with ``out_indices=(3, )``.
        neck (dict): ``DecoupleNeck`` config with the same ``grid``.
        heads (dict[str, dict]): Head configs by name; each adds ``loss_<name>`` to the losses.
            JigClu: ``clu`` (ClusteringHead) and ``loc`` (LocationHead); MEJigClu: ``clu`` and
            ``cls`` (PatchClassificationHead).
        grid (int): Patches per side, m. Defaults to 2.
        data_preprocessor (dict, optional): Defaults to ``JigsawDataPreprocessor`` (no
            normalisation).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self, backbone: dict, neck: dict, heads: Dict[str, dict], grid: int = 2,
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None):
        if grid < 2:
            raise ValueError(f'JigsawClustering: grid must be >= 2, got {grid}')
        if not heads:
            raise ValueError('JigsawClustering needs at least one head in `heads`')
        if data_preprocessor is None:
            data_preprocessor = dict(type='JigsawDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if getattr(self.neck, 'grid', grid) != grid:
            raise ValueError(f'JigsawClustering: neck grid {self.neck.grid} != algorithm grid '
                             f'{grid}')
        self.grid = grid
        self.heads = nn.ModuleDict({name: MODELS.build(cfg) for name, cfg in heads.items()})

    def make_montages(self, patches: List[torch.Tensor],
                      data_samples: Optional[List[DataSample]] = None
                      ) -> Tuple[torch.Tensor, JigsawTargets]:
        """Shuffle the patches of the global batch and stitch this rank's montages (no grad).

        Args:
            patches (list[Tensor]): grid*grid tensors in position order, each n x C x h x w
                (uint8 from the pipeline, or float on the 0-255 scale).
            data_samples (list[DataSample], optional): Tell the data preprocessor which
                photometric recipe the device applies (see ``JigsawDataPreprocessor``).

        Returns:
            tuple: montages n x C x (grid*h) x (grid*w), normalised float, in the backbone's
            memory format; and the :class:`JigsawTargets` of the per-slot features gathered
            over ranks (row = rank * m*m*n + slot * n + montage).
        """
        with torch.no_grad():
            slots, targets = exchange_patches(patches, self.grid)
            shape = slots.shape
            process = getattr(self.data_preprocessor, 'process_patches', None)
            if process is not None:
                # This rank's slots are rows [rank * m*m*n, (rank + 1) * m*m*n) of the targets;
                # their global patch ids p = position * N + image index the random draws.
                rows = shape[0] * shape[1]
                ids = (targets.source_position * targets.num_images +
                       targets.source_image)[get_rank() * rows:(get_rank() + 1) * rows]
                slots = process(slots.flatten(0, 1), data_samples, ids,
                                targets.source_image.numel()).view(shape)
            montages = stitch_montages(slots, self.grid)
        return montages.contiguous(memory_format=self._backbone_memory_format()), targets

    def _backbone_memory_format(self) -> torch.memory_format:
        """channels_last when the backbone was converted to it (ChannelsLastHook)."""
        weight = next((p for p in self.backbone.parameters() if p.dim() == 4), None)
        if weight is not None and weight.is_contiguous(memory_format=torch.channels_last) \
                and not weight.is_contiguous():
            return torch.channels_last
        return torch.contiguous_format

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """Losses of one step; ``inputs`` holds the grid*grid patch batches."""
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('JigsawClustering expects a list of patch batches from the '
                            'JigsawSplit transform, got a single tensor')
        montages, targets = self.make_montages(inputs, data_samples)
        feats = gather_with_grad(self.neck(self.backbone(montages))[0])
        return {f'loss_{name}': head.loss(feats, targets) for name, head in self.heads.items()}
