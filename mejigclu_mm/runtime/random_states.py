"""Random number generator states that survive a checkpoint, and per-sample seeding of the data.

Two things decide whether a resumed run repeats an uninterrupted one:

1. the main process's generators (python ``random``, numpy, torch CPU and CUDA): the montage
   step and device-side augmentation draw from them every step. :func:`capture_random_states`
   and :func:`restore_random_states` move them in and out of a checkpoint as tensors, ints and
   tuples, which torch's safe (``weights_only``) unpickler reads without any allow-list;
2. the data-loader workers' generators: with ``persistent_workers=True`` a resumed run's fresh
   workers would start from their seed, not from where the uninterrupted run's workers were.
   :class:`SeededSampleFetch` makes each sample's augmentation a function of
   ``(seed, epoch, index)`` alone, so it does not matter which process, worker or run draws it.
"""
import random
from typing import List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import get_worker_info


def capture_random_states(cuda: bool = True) -> dict:
    """The states of python's, numpy's and torch's global generators, checkpoint-safe.

    Args:
        cuda (bool): Include the CUDA generators when CUDA is initialised. Defaults to True.

    Returns:
        dict: ``python`` (tuple of ints), ``numpy`` (dict with the MT19937 key as an int64
        tensor), ``torch`` (uint8 tensor) and ``cuda`` (list of uint8 tensors, one per device,
        empty without CUDA).
    """
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    return dict(
        python=random.getstate(),
        numpy=dict(keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), gauss=float(gauss)),
        torch=torch.get_rng_state(),
        cuda=(list(torch.cuda.get_rng_state_all())
              if cuda and torch.cuda.is_available() and torch.cuda.is_initialized() else []))


def restore_random_states(states: dict) -> None:
    """Set the global generators to ``states`` from :func:`capture_random_states`.

    Args:
        states (dict): As :func:`capture_random_states` returns it. The CUDA states are applied
            only when this process sees the same number of devices.
    """
    version, internal, gauss_next = states['python']
    random.setstate((version, tuple(internal), gauss_next))
    numpy_state = states['numpy']
    np.random.set_state(('MT19937', numpy_state['keys'].numpy().astype(np.uint32),
                         numpy_state['pos'], numpy_state['has_gauss'], numpy_state['gauss']))
    torch.set_rng_state(states['torch'])
    cuda_states = states.get('cuda') or []
    if cuda_states and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda_states)


def seed_sample(seed: int, epoch: int, index: int) -> None:
    """Seed python's, numpy's and torch's CPU generators for one sample of one epoch.

    The three seeds come from one ``numpy.random.SeedSequence`` of ``(seed, epoch, index)``,
    so neighbouring samples and epochs get unrelated streams.

    Args:
        seed (int): The run's seed.
        epoch (int): The epoch (0-based).
        index (int): The sample's index in the training dataset.
    """
    words = np.random.SeedSequence([seed % 2**64, epoch, index]).generate_state(4, np.uint64)
    random.seed(int(words[0]))
    np.random.seed(int(words[1] % 2**32))
    torch.random.default_generator.manual_seed(int(words[2] % 2**63))


class SeededSampleFetch:
    """A dataset's ``__getitems__`` that seeds the generators before every sample.

    torch's map-style fetcher calls ``dataset.__getitems__(indices)`` for a batch when the
    dataset has it (documented on ``torch.utils.data.Dataset``); set as an instance attribute
    of the dataset a DataLoader holds, this reseeds python / numpy / torch from
    ``(seed, epoch, index)`` (:func:`seed_sample`) before ``dataset[index]``. A sample's random
    augmentation is then the same whichever worker, rank or (resumed) run loads it, and
    different in every epoch. mmengine's refetch of another sample after a pipeline returned
    None draws from the seeded numpy generator, so it is reproducible too.

    ``clock`` is a shared-memory int64 tensor ``[seed, epoch]`` written by the main process
    (``RandomStateHook.before_train_epoch``) and read by the workers, which see the writes
    whether they were forked or spawned, persistent or not. Workers only receive the indices
    of an epoch after ``before_train_epoch`` has run, so they never read a stale epoch.

    In the main process (``num_workers=0``) the generators are put back after the batch, so
    loading data does not move the main process's streams.

    Args:
        dataset: The dataset (called as ``dataset[index]``).
        clock (Tensor): Shared int64 tensor of two elements, ``[seed, epoch]``.
    """

    def __init__(self, dataset, clock: torch.Tensor):
        self.dataset = dataset
        self.clock = clock

    def __call__(self, indices: Sequence[int]) -> List:
        seed, epoch = (int(v) for v in self.clock.tolist())
        saved: Optional[dict] = None
        if get_worker_info() is None:
            saved = capture_random_states(cuda=False)
        try:
            samples = []
            for index in indices:
                seed_sample(seed, epoch, int(index))
                samples.append(self.dataset[index])
            return samples
        finally:
            if saved is not None:
                restore_random_states(saved)
