"""Draw each global batch with one image from each of N fixed, disjoint subsets (MEJigClu)."""
from typing import Iterator, List

import numpy as np
from mmengine.dist import get_dist_info
from torch.utils.data import BatchSampler, Sampler

from mmpretrain.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class DisjointSubsetBatchSampler(BatchSampler):
    """Global batch position j always takes an image of subset j: one fixed label per image.

    From `MEJigClu` (Sec. 3, Loss Function: "The category number is determined by batch size";
    Sec. 4, Ablation study: "in order to avoid the problem of label collision caused by the same
    image in two different batches, we can select one image from each of the 256 independent
    subsets to form the input of the network"). The dataset is split once into
    N = batch_size x world_size disjoint subsets of equal size (the remainder is left out), and
    every global batch holds one image of each subset, in subset order. The classification
    head's label of a patch is its image's position in the global batch, so it is the image's
    subset: the same for the whole run. (With a shuffling sampler it would be a random batch
    position, which no network can predict: L_cls stays at ln N.)

    A batch sampler, as mmdet's ``AspectRatioBatchSampler``: the dataloader config gives it its
    ``batch_size`` and the sampler it wraps (mmengine's ``DefaultSampler``), whose dataset,
    seed and epoch it reads; it always drops the incomplete last batch. The split depends only
    on ``split_seed`` and the dataset size, never on the run's seed, so a resumed run keeps
    every image in its subset; each epoch reshuffles the order inside every subset with the
    wrapped sampler's seed and epoch. Rank r yields the positions [r * batch_size,
    (r + 1) * batch_size) of every global batch. The head needs ``num_classes = batch_size x
    world_size``; ``DataloaderCheckHook`` (added by tools/train.py) refuses a run where they
    disagree.

    Example:
        >>> train_dataloader = dict(
        ...     batch_size=64,
        ...     sampler=dict(type='DefaultSampler', shuffle=True),
        ...     batch_sampler=dict(type='DisjointSubsetBatchSampler'),
        ...     ...)

    Args:
        sampler (Sampler): The wrapped sampler; its ``dataset``, ``seed`` (None: 0) and
            ``epoch`` (set by mmengine each epoch; absent: 0) are used, not its order.
        batch_size (int): Images per GPU (the dataloader's ``batch_size``).
        split_seed (int): Seed of the split into subsets. Defaults to 0.
    """

    def __init__(self, sampler: Sampler, batch_size: int, split_seed: int = 0):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f'DisjointSubsetBatchSampler: batch_size must be a positive '
                             f'integer, got {batch_size!r}')
        dataset = getattr(sampler, 'dataset', None)
        if dataset is None:
            raise TypeError(f'DisjointSubsetBatchSampler needs a sampler with a dataset '
                            f'(e.g. DefaultSampler), got {type(sampler).__name__}')
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = True
        self.rank, world_size = get_dist_info()
        self.num_subsets = batch_size * world_size
        if len(dataset) < self.num_subsets:
            raise ValueError(
                f'DisjointSubsetBatchSampler: the dataset has {len(dataset)} images, fewer than '
                f'the {self.num_subsets} subsets (one per image of the global batch: batch_size '
                f'{batch_size} x {world_size} processes)')
        self.split_seed = split_seed
        self.subset_size = len(dataset) // self.num_subsets
        order = np.random.default_rng(split_seed).permutation(len(dataset))
        self.subsets = order[:self.subset_size * self.num_subsets].reshape(
            self.num_subsets, self.subset_size)

    def __iter__(self) -> Iterator[List[int]]:
        seed = getattr(self.sampler, 'seed', None) or 0
        epoch = getattr(self.sampler, 'epoch', 0)
        subsets = np.random.default_rng([seed, epoch]).permuted(self.subsets, axis=1)
        mine = subsets[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        for column in mine.T:  # batch b: one image of each of my subsets
            yield column.tolist()

    def __len__(self) -> int:
        return self.subset_size
