"""Data preprocessor of JigsawClustering: patches -> exchange -> photometric -> montages."""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import sync_random_seed

from mejigclu_mm.augmentation import PatchPhotometric
from mejigclu_mm.models.utils import exchange_patches, stitch_montages
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class JigsawDataPreprocessor(SelfSupDataPreprocessor):
    """Turn the uint8 patch batches of ``JigsawSplit`` into montages and their labels.

    The device half of the split / shuffle / stitch of `Jigsaw Clustering
    <https://arxiv.org/abs/2104.00323>`_ and MEJigClu. In training, :meth:`forward` owns the
    whole batch step, in one direction:

    1. the m*m uint8 patch batches go to the device (BGR -> RGB with ``to_rgb``);
    2. ``exchange_patches``: one permutation of the m*m*N patches of the global batch, every
       rank receiving exactly the patches of its own montages (uint8, ``all_to_all``);
    3. ``photometric``: the colour recipe (:class:`~mejigclu_mm.augmentation.PatchPhotometric`,
       MoCo v2's in our configs), independent draws for every patch, batched;
    4. mean / std normalisation;
    5. stitching into montages, in the memory format ``ChannelsLastHook`` sets
       (:attr:`memory_format`).

    It returns ``{'inputs': montages, 'data_samples': JigsawTargets}``: the model's ``loss()``
    only runs backbone -> neck -> gather -> heads. Outside training (``mode='tensor'``, feature
    extraction, the kNN monitor) it normalises whole images like ``SelfSupDataPreprocessor``.

    Random draws (the permutation and the photometric parameters) come from a generator seeded
    by ``(random_seed, step)``, two buffers of this module: ``random_seed`` is synchronised over
    ranks when the model is built (from the run's seed), ``step`` counts training batches. So
    the draws do not depend on the ranks' global random streams staying in step (they differ
    with ``randomness.diff_rank_seed=True``), 1 and N processes draw the same for the same
    global batch (photometric parameters are indexed by global patch id), and a resumed run
    (the buffers are in the checkpoint) continues the uninterrupted run's draws.

    The photometric recipe runs either here (this setting) or in the dataloader workers
    (``JigsawSplit(photometric=...)``, the CPU fallback); ``DataloaderCheckHook`` refuses a run
    that asks for both.

    Args:
        mean (Sequence[float], optional): Per-channel mean on the 0-255 scale.
        std (Sequence[float], optional): Per-channel std on the 0-255 scale.
        to_rgb (bool): Swap BGR to RGB (images loaded by OpenCV). Defaults to False.
        photometric (dict, optional): ``PatchPhotometric`` arguments of the recipe applied on
            the device, or None (none here). Defaults to None.
        non_blocking (bool): Non-blocking host-to-device copies. Defaults to False.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None, to_rgb: bool = False,
                 photometric: Optional[dict] = None, non_blocking: bool = False):
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, non_blocking=non_blocking)
        self.photometric = None if photometric is None else PatchPhotometric(**photometric)
        self.memory_format = torch.contiguous_format
        self.register_buffer('random_seed', torch.tensor(sync_random_seed(), dtype=torch.int64))
        self.register_buffer('step', torch.tensor(0, dtype=torch.int64))

    def step_generator(self, device: torch.device) -> torch.Generator:
        """A generator on ``device`` seeded by ``(random_seed, step)``, alike on every rank."""
        seed = np.random.SeedSequence([int(self.random_seed), int(self.step)]).generate_state(1)
        return torch.Generator(device=device).manual_seed(int(seed[0]))

    def forward(self, data: dict, training: bool = False) -> Dict[str, Union[list, torch.Tensor]]:
        """Training: montages and ``JigsawTargets``; otherwise normalised whole images."""
        if not training:
            return super().forward(data, training)
        patches = self.cast_data(data['inputs'])
        if not isinstance(patches, (list, tuple)):
            raise TypeError('JigsawDataPreprocessor expects the list of patch batches of the '
                            f'JigsawSplit transform in training, got {type(patches).__name__}')
        if self._channel_conversion:
            patches = [p[:, [2, 1, 0]] if p.size(1) == 3 else p for p in patches]
        generator = self.step_generator(patches[0].device)
        with torch.no_grad():
            slots, targets, slot_ids = exchange_patches(list(patches), generator)
            montages = stitch_montages(
                self.augment(slots.flatten(0, 1), slot_ids, targets.num_patches,
                             generator).view(slots.shape), targets.grid)
        self.step += 1
        return {'inputs': montages.contiguous(memory_format=self.memory_format),
                'data_samples': targets}

    def augment(self, patches: torch.Tensor, patch_ids: Optional[torch.Tensor] = None,
                num_patches: Optional[int] = None,
                generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """The photometric recipe (when set) and the normalisation of a batch of patches.

        Args:
            patches (Tensor): B x C x h x w patches, uint8 (0-255) or float on the 0-255 scale.
            patch_ids (Tensor, optional): Global ids of the B patches among the
                ``num_patches`` of the whole multi-GPU batch, which index the random draws.
            num_patches (int, optional): Patches of the whole batch, with ``patch_ids``.
            generator (torch.Generator, optional): Source of the draws.

        Returns:
            Tensor: float B x C x h x w, normalised.
        """
        with torch.autocast(patches.device.type, enabled=False):
            patches = patches.float()
            if self.photometric is not None:
                patches = self.photometric(patches / 255., patch_ids, num_patches,
                                           generator) * 255.
            if self._enable_normalize:
                patches = (patches - self.mean) / self.std
        return patches
