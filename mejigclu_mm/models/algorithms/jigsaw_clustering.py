"""JigClu and MEJigClu pretraining: one algorithm, the heads chosen in the config."""
from typing import Dict, Optional, Union

import torch
from torch import nn

from mejigclu_mm.models.utils import (JigsawTargets, gather_with_grad, init_from_seed,
                                      loads_a_checkpoint)
from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class JigsawClustering(BaseSelfSupervisor):
    """Jigsaw clustering: montages of shuffled patches, per-slot features, patch-level losses.

    Implements `Jigsaw Clustering for Unsupervised Visual Representation Learning
    <https://arxiv.org/abs/2104.00323>`_ (JigClu: clustering + location heads) and `MEJigClu:
    More Effective Jigsaw Clustering for Unsupervised Visual Representation Learning`
    (clustering + patch classification heads, random split overlap). The data pipeline splits
    every image into m x m patches (``JigsawSplit``); the data preprocessor
    (``JigsawDataPreprocessor``) shuffles the patches of the global batch, augments, normalises
    and stitches them into montages and hands them over with their ``JigsawTargets``. Here the
    backbone and ``DecoupleNeck`` give one feature per slot, the features are gathered over
    ranks with a gradient-summing gather, and every head computes its loss over all m*m*N
    patches. ``mode='tensor'`` returns the backbone's outputs for whole images, like
    mmpretrain's MoCo and SimCLR.

    Args:
        backbone (dict): Backbone config, e.g. mmpretrain's ResNet with ``out_indices=(3, )``.
        neck (dict): ``DecoupleNeck`` config.
        heads (dict[str, dict]): Head configs by name; each adds ``loss_<name>`` to the losses.
            JigClu: ``clu`` (ClusteringHead) and ``loc`` (LocationHead); MEJigClu: ``clu`` and
            ``cls`` (PatchClassificationHead).
        data_preprocessor (dict, optional): Defaults to ``JigsawDataPreprocessor`` (no
            normalisation, no photometric recipe).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
        backbone_seed (int, optional): Seed of the backbone's initialisation
            (:func:`~mejigclu_mm.models.utils.init_from_seed`): the backbone's weights depend
            on it alone, so the network a pretraining starts from is the random baseline the
            evaluation tools build for the same seed. Defaults to None: the seed torch's
            generator was last seeded with when the model was built (mmengine's Runner seeds
            it with ``randomness.seed`` just before). A backbone whose ``init_cfg`` loads a
            checkpoint is loaded instead.
    """

    def __init__(self, backbone: dict, neck: dict, heads: Dict[str, dict],
                 data_preprocessor: Optional[Union[dict, nn.Module]] = None,
                 init_cfg: Optional[dict] = None, backbone_seed: Optional[int] = None):
        if not heads:
            raise ValueError('JigsawClustering needs at least one head in `heads`')
        if data_preprocessor is None:
            data_preprocessor = dict(type='JigsawDataPreprocessor')
        super().__init__(backbone=backbone, neck=neck, data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        self.heads = nn.ModuleDict({name: MODELS.build(cfg) for name, cfg in heads.items()})
        self.backbone_seed = torch.initial_seed() if backbone_seed is None else backbone_seed

    def init_weights(self) -> None:
        """The backbone from :attr:`backbone_seed` alone (unless it loads a checkpoint), then
        the neck and heads as mmengine initialises them."""
        if not loads_a_checkpoint(self.backbone) and not getattr(self.backbone, 'is_init', False):
            init_from_seed(self.backbone, self.backbone_seed)
        super().init_weights()

    def loss(self, inputs: torch.Tensor, data_samples: JigsawTargets,
             **kwargs) -> Dict[str, torch.Tensor]:
        """Losses of one step.

        Args:
            inputs (Tensor): n x C x H x W montages (``JigsawDataPreprocessor``).
            data_samples (JigsawTargets): Their labels, for the features of all ranks.
        """
        if not isinstance(data_samples, JigsawTargets):
            raise TypeError(
                'JigsawClustering.loss expects the montages and JigsawTargets of '
                f'JigsawDataPreprocessor, got data_samples of type {type(data_samples).__name__}; '
                "set model.data_preprocessor.type='JigsawDataPreprocessor'")
        feats = self.neck(self.backbone(inputs), grid=data_samples.grid)[0]
        feats = gather_with_grad(feats)
        return {f'loss_{name}': head.loss(feats, data_samples)
                for name, head in self.heads.items()}
