"""Draw each global batch with one image from each of N fixed, disjoint subsets (MEJigClu)."""
from typing import Iterator, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmpretrain.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class DisjointSubsetSampler(Sampler):
    """Global batch position j always takes an image of subset j: one fixed label per image.

    From `MEJigClu` (Sec. 3, Loss Function: "The category number is determined by batch size";
    Sec. 4, Ablation study: "in order to avoid the problem of label collision caused by the same
    image in two different batches, we can select one image from each of the 256 independent
    subsets to form the input of the network"). The dataset is split
    once into N = batch_size x world_size disjoint subsets of equal size (the remainder is left
    out), and every global batch holds one image of each subset, in subset order. The
    classification head's label of a patch is its image's position in the global batch, so it
    is the image's subset: the same for the whole run. (With a shuffling sampler it would be a
    random batch position, which no network can predict: L_cls stays at ln N.)

    The split depends only on ``split_seed`` and the dataset size, never on the runner's seed:
    a resumed run (whose runner may draw a new seed before the checkpoint's is restored) keeps
    every image in its subset. Each epoch reshuffles the order inside every subset with the
    runner's ``seed`` and the epoch. Rank r yields the positions [r * batch_size,
    (r + 1) * batch_size) of every global batch, so the dataloader's sequential batching gives
    each rank its slice. The dataloader must use the same ``batch_size`` and ``drop_last=True``,
    and the head ``num_classes = batch_size x world_size``; ``DataloaderCheckHook`` (added by
    tools/train.py) refuses a run where they disagree.

    Args:
        dataset (Sized): The dataset.
        batch_size (int): Images per GPU; must equal the dataloader's ``batch_size``.
        shuffle (bool): Reshuffle each subset every epoch. Defaults to True.
        seed (int, optional): Seed of the in-subset shuffles (the runner passes its own).
            Defaults to None (a seed synchronised over ranks).
        split_seed (int): Seed of the split into subsets. Defaults to 0.
    """

    def __init__(self, dataset: Sized, batch_size: int, shuffle: bool = True,
                 seed: Optional[int] = None, split_seed: int = 0):
        rank, world_size = get_dist_info()
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'DisjointSubsetSampler: batch_size must be a positive integer, '
                             f'got {batch_size!r}')
        self.rank = rank
        self.batch_size = batch_size
        self.num_subsets = batch_size * world_size
        if len(dataset) < self.num_subsets:
            raise ValueError(
                f'DisjointSubsetSampler: the dataset has {len(dataset)} images, fewer than the '
                f'{self.num_subsets} subsets (one per image of the global batch: batch_size '
                f'{batch_size} x {world_size} processes)')
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.split_seed = split_seed
        self.epoch = 0
        self.subset_size = len(dataset) // self.num_subsets
        order = np.random.default_rng(split_seed).permutation(len(dataset))
        self.subsets = order[:self.subset_size * self.num_subsets].reshape(
            self.num_subsets, self.subset_size)

    def __iter__(self) -> Iterator[int]:
        subsets = self.subsets
        if self.shuffle:
            rng = np.random.default_rng([self.seed, self.epoch])
            subsets = rng.permuted(subsets, axis=1)
        mine = subsets[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        return iter(mine.T.reshape(-1).tolist())  # batch b: one image of each of my subsets

    def __len__(self) -> int:
        return self.subset_size * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which selects the in-subset shuffle."""
        self.epoch = epoch
