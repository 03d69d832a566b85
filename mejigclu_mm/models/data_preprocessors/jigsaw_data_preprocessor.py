"""Data preprocessor of JigsawClustering: patches stay uint8 until the montage step."""
from typing import Dict, List, Optional, Sequence, Union

import torch

from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS
from ...augmentation import PHOTOMETRIC_META_KEY, PatchPhotometric


@MODELS.register_module()
class JigsawDataPreprocessor(SelfSupDataPreprocessor):
    """Move the patch batches to the device; augment and normalise them where they are used.

    For the split / shuffle / stitch of `Jigsaw Clustering <https://arxiv.org/abs/2104.00323>`_
    and MEJigClu. In training, :meth:`forward` only casts the m*m uint8 patch batches to the
    device (and swaps BGR to RGB), so that the montage exchange between ranks moves uint8
    patches. The algorithm then calls :meth:`process_patches` on the patches of its own
    montages: the photometric recipe that the data pipeline left for the device
    (``JigsawSplit(photometric=..., photometric_on='device')``, the MoCo v2 recipe in our
    configs; :class:`~mejigclu_mm.augmentation.PatchPhotometric`, independent random parameters
    for every patch, batched), then the mean / std normalisation. The pipeline is the single
    place that says where the recipe runs, so the two cannot disagree. Outside training
    (``mode='tensor'``, feature extraction) it normalises like ``SelfSupDataPreprocessor``.

    Args:
        mean (Sequence[float], optional): Per-channel mean on the 0-255 scale.
        std (Sequence[float], optional): Per-channel std on the 0-255 scale.
        to_rgb (bool): Swap BGR to RGB (images loaded by OpenCV). Defaults to False.
        non_blocking (bool): Non-blocking host-to-device copies. Defaults to False.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None, to_rgb: bool = False,
                 non_blocking: bool = False):
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, non_blocking=non_blocking)
        self._photometric = {}  # recipe (as a sorted tuple of items) -> PatchPhotometric

    def forward(self, data: dict, training: bool = False) -> Dict[str, Union[list, torch.Tensor]]:
        """Training: the patch batches on the device, dtype unchanged; else normalised inputs."""
        if not training:
            return super().forward(data, training)
        inputs, data_samples = self.cast_data([data['inputs'], data.get('data_samples')])
        if not isinstance(inputs, (list, tuple)):
            raise TypeError('JigsawDataPreprocessor expects the list of patch batches of the '
                            f'JigsawSplit transform in training, got {type(inputs).__name__}')
        if self._channel_conversion:
            inputs = [patch[:, [2, 1, 0]] if patch.size(1) == 3 else patch for patch in inputs]
        return {'inputs': list(inputs), 'data_samples': data_samples}

    def process_patches(self, patches: torch.Tensor, data_samples: Optional[List] = None,
                        patch_ids: Optional[torch.Tensor] = None,
                        num_patches: Optional[int] = None) -> torch.Tensor:
        """Photometric augmentation (where the pipeline left it to the device), normalisation.

        Args:
            patches (Tensor): B x C x h x w patches, uint8 (0-255) or float on the 0-255 scale.
            data_samples (list, optional): The batch's data samples, which carry the recipe in
                their ``jigsaw_photometric`` metainfo. None: no photometric augmentation.
            patch_ids (Tensor, optional): Global ids of the B patches among the
                ``num_patches`` of the whole multi-GPU batch; the random parameters are drawn
                per global id (see ``PatchPhotometric.__call__``), so ranks never repeat each
                other's draws.
            num_patches (int, optional): Patches of the whole batch, with ``patch_ids``.

        Returns:
            Tensor: float B x C x h x w, normalised.
        """
        photometric = self.photometric_for(data_samples)
        with torch.autocast(patches.device.type, enabled=False):
            patches = patches.float()
            if photometric is not None:
                patches = photometric(patches / 255., patch_ids, num_patches) * 255.
            if self._enable_normalize:
                patches = (patches - self.mean) / self.std
        return patches

    def photometric_for(self, data_samples: Optional[List]) -> Optional[PatchPhotometric]:
        """The recipe the data samples ask the device to apply (None: nothing to apply)."""
        if data_samples is None:
            return None
        recipes = set()
        for sample in data_samples:
            if PHOTOMETRIC_META_KEY not in sample.metainfo:
                raise KeyError(
                    f"JigsawDataPreprocessor: the data samples carry no '{PHOTOMETRIC_META_KEY}' "
                    'metainfo, so it cannot tell whether to apply the photometric augmentation. '
                    "Pack the JigsawSplit output with dict(type='PackInputs', meta_keys=(..., "
                    f"'{PHOTOMETRIC_META_KEY}')) as configs/_base_/datasets/*_jigsaw.py do.")
            recipe = sample.metainfo[PHOTOMETRIC_META_KEY]
            recipes.add(None if recipe is None else tuple(sorted(recipe.items())))
        if len(recipes) != 1:
            raise ValueError(f'JigsawDataPreprocessor: the batch mixes photometric recipes '
                             f'{sorted(map(str, recipes))}')
        recipe = recipes.pop()
        if recipe is not None and recipe not in self._photometric:
            self._photometric[recipe] = PatchPhotometric(**dict(recipe))
        return None if recipe is None else self._photometric[recipe]
