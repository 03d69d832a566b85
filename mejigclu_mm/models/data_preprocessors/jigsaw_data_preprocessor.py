"""Data preprocessor of JigsawClustering: patches -> exchange -> photometric -> montages."""
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
from mmengine.dist import sync_random_seed

from mejigclu_mm.augmentation import PatchPhotometric
from mejigclu_mm.models.utils import exchange_patches, stitch_montages
from mmpretrain.models.utils import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS

# Where channels-last (NHWC) convolutions pay: GPUs with tensor cores. On 2-core CPUs the same
# layout was faster on one machine and slower on another (docs/speed.md).
CHANNELS_LAST_DEVICES = ('cuda', )


@MODELS.register_module()
class JigsawDataPreprocessor(SelfSupDataPreprocessor):
    """Turn the uint8 patch batches of ``JigsawSplit`` into montages and their labels.

    The device half of the split / shuffle / stitch of `Jigsaw Clustering
    <https://arxiv.org/abs/2104.00323>`_ and MEJigClu. In training, :meth:`forward` owns the
    whole batch step, in one direction:

    1. the m*m uint8 patch batches go to the device (our configs load RGB images: the
       loader states the colour order, ``to_rgb`` stays False);
    2. ``exchange_patches``: one permutation of the m*m*N patches of the global batch, every
       rank receiving exactly the patches of its own montages (uint8, ``all_to_all``);
    3. ``photometric``: the colour recipe (:class:`~mejigclu_mm.augmentation.PatchPhotometric`,
       MoCo v2's in our configs), independent draws for every patch, batched, on [0, 1];
    4. mean / std normalisation, in one pass (mean and std rescaled to the recipe's [0, 1]);
    5. stitching into montages, channels-last on the device types of
       ``channels_last_devices`` (where ``ChannelsLastHook`` converts the model).

    It returns ``{'inputs': montages, 'data_samples': JigsawTargets}``: the model's ``loss()``
    only runs backbone -> neck -> gather -> heads. Outside training (``mode='tensor'``, feature
    extraction, the kNN monitor) it normalises whole images like ``SelfSupDataPreprocessor``.

    Random draws (the permutation and the photometric parameters) come from a generator seeded
    by ``(random_seed, step)``, two buffers of this module: ``random_seed`` is the argument, or
    synchronised over ranks when the model is built (from the run's seed), ``step`` counts
    training batches. So
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
        random_seed (int, optional): Seed of the draws, e.g. one per seed of a paired
            comparison so that its arms draw alike (tools/compare.py). Defaults to None: a seed
            drawn from numpy's stream (seeded by the run) and shared by the ranks.
        channels_last_devices (Sequence[str]): Device types on which montages are stitched
            channels-last (NHWC). Defaults to :data:`CHANNELS_LAST_DEVICES`, where
            ``ChannelsLastHook`` converts the model by default; set both to change it.
        non_blocking (bool): Non-blocking host-to-device copies. Defaults to False.
    """

    def __init__(self, mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None, to_rgb: bool = False,
                 photometric: Optional[dict] = None, random_seed: Optional[int] = None,
                 channels_last_devices: Sequence[str] = CHANNELS_LAST_DEVICES,
                 non_blocking: bool = False):
        super().__init__(mean=mean, std=std, to_rgb=to_rgb, non_blocking=non_blocking)
        self.photometric = None if photometric is None else PatchPhotometric(**photometric)
        self.channels_last_devices = tuple(channels_last_devices)
        seed = sync_random_seed() if random_seed is None else int(random_seed)
        self.register_buffer('random_seed', torch.tensor(seed, dtype=torch.int64))
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
        layout = torch.channels_last if montages.device.type in self.channels_last_devices \
            else torch.contiguous_format
        return {'inputs': montages.contiguous(memory_format=layout), 'data_samples': targets}

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
            if self.photometric is None:
                patches = patches.float()
                scale = 1.
            else:  # the recipe works on [0, 1]: normalise from there
                patches = self.photometric(patches.float().div_(255.), patch_ids, num_patches,
                                           generator)
                scale = 255.
            if self._enable_normalize:
                patches = (patches - self.mean / scale) / (self.std / scale)
        return patches
