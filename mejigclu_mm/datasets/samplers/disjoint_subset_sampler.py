"""Draw each global batch with one image from each of N fixed, disjoint subsets (MEJigClu)."""
from typing import Iterator, Optional, Sized

import numpy as np
from mmengine.dist import get_dist_info, sync_random_seed
from torch.utils.data import Sampler

from mmpretrain.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class DisjointSubsetSampler(Sampler):
    """Global batch position j always takes an image of subset j.

    From `MEJigClu` (Sec. 4, ablation): "select one image from each of the 256 independent
    subsets to form the input of the network", so that an image keeps one classification label
    (its subset index) across batches and epochs instead of colliding with other labels. The
    dataset is split once, by ``seed``, into N = batch_size * world_size subsets of equal size
    (the remainder is left out); each epoch reshuffles the order inside every subset. Rank r
    yields the positions [r * batch_size, (r + 1) * batch_size) of every global batch, so
    mmengine's sequential batching gives each rank its slice. Use ``drop_last=True``.

    Args:
        dataset (Sized): The dataset.
        batch_size (int): Images per GPU; must equal the dataloader's ``batch_size``.
        shuffle (bool): Reshuffle each subset every epoch. Defaults to True.
        seed (int, optional): Seed of the split and the shuffles (synchronised over ranks).
    """

    def __init__(self, dataset: Sized, batch_size: int, shuffle: bool = True,
                 seed: Optional[int] = None):
        rank, world_size = get_dist_info()
        self.rank = rank
        self.batch_size = batch_size
        self.num_subsets = batch_size * world_size
        if len(dataset) < self.num_subsets:
            raise ValueError(f'DisjointSubsetSampler: the dataset has {len(dataset)} images, '
                             f'fewer than the {self.num_subsets} subsets (global batch)')
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self.subset_size = len(dataset) // self.num_subsets
        order = np.random.default_rng(self.seed).permutation(len(dataset))
        self.subsets = order[:self.subset_size * self.num_subsets].reshape(
            self.num_subsets, self.subset_size)

    def __iter__(self) -> Iterator[int]:
        subsets = self.subsets
        if self.shuffle:
            rng = np.random.default_rng(self.seed + 1 + self.epoch)
            subsets = rng.permuted(subsets, axis=1)
        mine = subsets[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        return iter(mine.T.reshape(-1).tolist())  # batch b: one image of each of my subsets

    def __len__(self) -> int:
        return self.subset_size * self.batch_size

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which selects the in-subset shuffle."""
        self.epoch = epoch
