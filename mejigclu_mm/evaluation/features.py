"""Whole-image features of a frozen backbone for a labelled dataloader.

The feature is the one the linear protocol trains on: the last backbone stage, global-average
pooled, here also L2-normalised (cosine similarity for the kNN). Shared by the tools
(``tools/knn_eval.py``, ``tools/linear_probe.py``) and :class:`KNNMonitorHook`.
"""
from typing import Callable, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.dist import all_gather, get_world_size

Outputs = Union[torch.Tensor, Sequence[torch.Tensor]]


def pool_features(outputs: Outputs) -> torch.Tensor:
    """Last output of a backbone, global-average pooled and L2-normalised.

    Args:
        outputs (Tensor | Sequence[Tensor]): A backbone's output or tuple of stage outputs
            (mmpretrain backbones return a tuple, one entry per ``out_indices``). The last entry
            is used: (N, C, H, W) maps are averaged over H and W, (N, C) vectors (already pooled,
            e.g. by a neck) are kept.

    Returns:
        Tensor: (N, C) float features of unit L2 norm.
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
    return F.normalize(outputs.float(), dim=1)


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


@torch.no_grad()
def extract_features(data_preprocessor: Callable, forward: Callable,
                     dataloader) -> Tuple[torch.Tensor, torch.Tensor]:
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

    Returns:
        tuple[Tensor, Tensor]: (N, C) L2-normalised features and (N,) labels.
    """
    name = type(dataloader.dataset).__name__
    feats, labels = [], []
    for data in dataloader:
        data = data_preprocessor(data, False)
        feats.append(pool_features(forward(data['inputs'])))
        labels.append(_labels_of(data['data_samples'], name).to(feats[-1].device))
    if not feats:
        raise ValueError(f'{name}: the dataloader gave no samples')
    num_samples = len(dataloader.dataset)
    return (gather_in_dataset_order(torch.cat(feats), num_samples),
            gather_in_dataset_order(torch.cat(labels), num_samples))
