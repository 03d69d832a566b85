"""Whole-image features of a frozen backbone for a labelled dataloader.

The feature is the one the linear protocol trains on: the last backbone stage, global-average
pooled, here also L2-normalised (cosine similarity for the kNN). Shared by the tools
(``tools/knn_eval.py``, ``tools/linear_probe.py``, ``tools/extract_features.py``) and
:class:`KNNMonitorHook`.
"""
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_rank, get_world_size
from tqdm import tqdm

Outputs = Union[torch.Tensor, Sequence[torch.Tensor]]


def pool_features(outputs: Outputs, normalize: bool = True) -> torch.Tensor:
    """Last output of a backbone, global-average pooled and L2-normalised.

    Args:
        outputs (Tensor | Sequence[Tensor]): A backbone's output or tuple of stage outputs
            (mmpretrain backbones return a tuple, one entry per ``out_indices``). The last entry
            is used: (N, C, H, W) maps are averaged over H and W, (N, C) vectors (already pooled,
            e.g. by a neck) are kept.
        normalize (bool): Scale every feature to unit L2 norm. Defaults to True.

    Returns:
        Tensor: (N, C) float features (of unit L2 norm with ``normalize``).
    """
    if isinstance(outputs, (tuple, list)):
        if not outputs:
            raise ValueError('pool_features: the model returned no outputs')
        outputs = outputs[-1]
    if outputs.ndim == 4:
        outputs = outputs.mean((2, 3))
    elif outputs.ndim != 2:
        raise ValueError(f'pool_features: expected an (N, C, H, W) or (N, C) output, got shape '
                         f'{tuple(outputs.shape)}')
    return F.normalize(outputs.float(), dim=1) if normalize else outputs.float()


def _labels_of(data_samples, dataset_name: str) -> torch.Tensor:
    if not data_samples or any('gt_label' not in s for s in data_samples):
        raise ValueError(f'{dataset_name} gives samples without gt_label: evaluating features '
                         'needs a labelled dataset')
    return torch.cat([s.gt_label.reshape(-1)[:1] for s in data_samples]).long()


def gather_in_dataset_order(local: torch.Tensor, num_samples: int) -> torch.Tensor:
    """Concatenate per-rank results of mmengine's ``DefaultSampler(shuffle=False)``.

    ``DefaultSampler`` pads the index list to a multiple of the world size (``round_up``) and
    gives rank r the indices r, r + w, r + 2w, ...; every rank therefore holds the same number
    of rows, they are all-gathered, interleaved back into dataset order and the padding is cut.
    Without distributed training this returns ``local[:num_samples]``.

    Args:
        local (Tensor): This rank's rows, in its sampler's order.
        num_samples (int): Length of the dataset.

    Returns:
        Tensor: ``num_samples`` rows in dataset order.
    """
    if get_world_size() == 1:
        return local[:num_samples]
    parts = all_gather(local.contiguous())
    return torch.stack(parts, dim=1).flatten(0, 1)[:num_samples]


def progress_bar(total: int, desc: str, show: Optional[bool] = None, unit: str = 'img'):
    """A tqdm progress bar on stderr, drawn by rank 0 only.

    Args:
        total (int): Number of ``unit`` the task has (on this rank).
        desc (str): What is being done, shown left of the bar.
        show (bool, optional): True draws the bar, False never; None (default) draws it when
            stderr is a terminal (tqdm's own rule), so logs and pipes stay clean.
        unit (str): Unit of the counts. Defaults to 'img'.

    Returns:
        tqdm: Call ``update(n)`` per step and ``close()`` at the end (or use it in ``with``).
    """
    disable = True if show is False or get_rank() != 0 else (False if show else None)
    return tqdm(total=total, desc=desc, unit=unit, disable=disable, dynamic_ncols=True)


def _dataset_description(dataset) -> str:
    split = ' test' if getattr(dataset, 'test_mode', False) else ''
    return f'features of {type(dataset).__name__}{split}'


@torch.no_grad()
def extract_features(data_preprocessor: Callable, forward: Callable, dataloader,
                     progress: Optional[bool] = None,
                     desc: Optional[str] = None) -> Tuple[torch.Tensor, torch.Tensor]:
    """Features and labels of every sample of ``dataloader``, on the model's device.

    Under distributed training each rank extracts its own shard (the dataloader must use
    ``DefaultSampler(shuffle=False)``, see :func:`gather_in_dataset_order`) and every rank
    gets all features.

    Args:
        data_preprocessor (Callable): The model's data preprocessor, called as
            ``data_preprocessor(data, False)`` (test-time normalisation, moves to the device).
        forward (Callable): Maps the preprocessed ``inputs`` to backbone outputs, e.g.
            ``model.backbone`` or ``lambda x: model(x, mode='tensor')``.
        dataloader (DataLoader): Yields batches of labelled samples (``gt_label``).
        progress (bool, optional): Progress bar of the images done (rank 0, stderr): True
            always, False never, None (default) when stderr is a terminal.
        desc (str, optional): Text of the progress bar. Defaults to
            ``'features of <dataset class>'`` (plus ``' test'`` for a test-mode dataset).

    Returns:
        tuple[Tensor, Tensor]: (N, C) L2-normalised features and (N,) labels.
    """
    name = type(dataloader.dataset).__name__
    sampler = getattr(dataloader, 'sampler', None)
    total = len(sampler) if hasattr(sampler, '__len__') else len(dataloader.dataset)
    feats, labels = [], []
    with progress_bar(total, desc or _dataset_description(dataloader.dataset), progress) as bar:
        for data in dataloader:
            data = data_preprocessor(data, False)
            feats.append(pool_features(forward(data['inputs'])))
            labels.append(_labels_of(data['data_samples'], name).to(feats[-1].device))
            bar.update(len(labels[-1]))
    if not feats:
        raise ValueError(f'{name}: the dataloader gave no samples')
    num_samples = len(dataloader.dataset)
    return (gather_in_dataset_order(torch.cat(feats), num_samples),
            gather_in_dataset_order(torch.cat(labels), num_samples))
