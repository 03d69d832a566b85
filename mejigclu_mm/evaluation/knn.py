"""Weighted k-nearest-neighbour classification of frozen features (a pure function)."""
import math
from typing import Dict, Iterable, Tuple

import torch
import torch.nn.functional as F


def _top_neighbours(query: torch.Tensor, bank: torch.Tensor, k: int,
                    bank_chunk: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` most similar bank rows of every query row, best first, bank in chunks.

    A running top-k is merged with each bank chunk, so that memory stays at
    ``len(query) x (bank_chunk + k)`` whatever the bank size.
    """
    best_sim = query.new_empty(len(query), 0)
    best_idx = torch.empty(len(query), 0, dtype=torch.long, device=query.device)
    for start in range(0, len(bank), bank_chunk):
        sim = query @ bank[start:start + bank_chunk].T
        idx = torch.arange(start, start + sim.shape[1], device=query.device).expand_as(sim)
        sim, idx = torch.cat([best_sim, sim], 1), torch.cat([best_idx, idx], 1)
        best_sim, pos = sim.topk(min(k, sim.shape[1]), dim=1)
        best_idx = idx.gather(1, pos)
    return best_sim, best_idx


def neighbourhood_sizes(k: Iterable[int], bank_size: int) -> Dict[int, int]:
    """The number of neighbours each requested k uses: k, or the whole bank when it is smaller.

    Args:
        k (Iterable[int]): Requested neighbourhood sizes.
        bank_size (int): Number of bank features.

    Returns:
        dict[int, int]: requested k -> k used.
    """
    return {int(v): min(int(v), bank_size) for v in k}


def check_temperature(temperature: float, name: str = 'temperature') -> float:
    """``temperature`` as a float when it is a positive finite number.

    Args:
        temperature (float): The vote temperature T of the weights exp(sim / T).
        name (str): How the caller names it in the message (e.g. '--temperature').

    Returns:
        float: The temperature.

    Raises:
        ValueError: T <= 0 (exp(sim / T) would reverse or break the votes), NaN or infinite
            (every neighbour would weigh the same); the message names ``name``.
    """
    value = float(temperature)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f'{name} must be a positive number (the vote weights are exp(sim / T)'
                         f'), got {temperature}')
    return value


def _check_finite(name: str, features: torch.Tensor) -> None:
    bad = int((~torch.isfinite(features)).any(1).sum()) if features.numel() else 0
    if bad:
        raise ValueError(f'knn_predict: {bad} of {len(features)} {name} features hold NaN or '
                         'Inf values')


@torch.no_grad()
def knn_predict(query: torch.Tensor,
                bank: torch.Tensor,
                bank_labels: torch.Tensor,
                num_classes: int,
                k: Iterable[int] = (10, 20, 100, 200),
                temperature: float = 0.07,
                query_chunk: int = 1024,
                bank_chunk: int = 16384) -> Dict[int, torch.Tensor]:
    """Class scores of a weighted kNN classifier on cosine similarity.

    Implements the weighted kNN of Wu et al., *Unsupervised Feature Learning via Non-Parametric
    Instance Discrimination* (CVPR 2018), the protocol of mmselfsup's kNN benchmark and DINO's
    ``eval_knn``: each of the ``k`` bank features most similar to a query (cosine similarity
    ``s``) votes for its label with weight ``exp(s / temperature)``; the class with the largest
    sum wins.

    The weights are computed as ``exp((s - s_1) / temperature)``, ``s_1`` being the query's
    highest similarity: the scores of a query are the summed weights times the constant
    ``exp(-s_1 / temperature)``, the same ranking of classes, and no weight overflows however
    small the temperature (``exp(1 / 0.01)`` would be infinite in float32).

    Features are L2-normalised here, so any features may be passed (float64 features are kept
    in float64, others computed in float32). Query and bank are processed
    in chunks (``query_chunk`` x ``bank_chunk`` similarities at a time), so a 10k x 60k
    similarity matrix never exists at once; the result does not depend on the chunk sizes.

    Edge cases: a ``k`` larger than the bank is clamped to the bank size (every bank feature
    votes; :func:`neighbourhood_sizes` says which k each request used). Tied class scores go
    to the lowest class index (``argmax`` returns the first maximum); neighbours tied in
    similarity at the k-th place are chosen by ``topk``, which does not specify which one.

    Args:
        query (Tensor): Query features, shape (Q, D).
        bank (Tensor): Bank features, shape (N, D), on the same device.
        bank_labels (Tensor): Integer labels of the bank, shape (N,).
        num_classes (int): Number of classes C (labels are in [0, C)).
        k (Iterable[int]): Neighbourhood sizes, all computed from one top-max(k) search.
            Defaults to (10, 20, 100, 200).
        temperature (float): Temperature of the vote weights. Defaults to 0.07.
        query_chunk (int): Queries per chunk. Defaults to 1024.
        bank_chunk (int): Bank rows per chunk. Defaults to 16384.

    Returns:
        dict[int, Tensor]: For every requested k, the (Q, C) class scores (summed weights,
        scaled per query as said above).

    Raises:
        ValueError: empty bank, mismatched shapes, labels outside [0, num_classes), k < 1,
            a temperature that is not a positive number, NaN or Inf features.
    """
    temperature = check_temperature(temperature)
    ks = [int(v) for v in k]
    if not ks or min(ks) < 1:
        raise ValueError(f'knn_predict: every k must be >= 1, got {ks}')
    if bank.ndim != 2 or query.ndim != 2 or bank.shape[1] != query.shape[1]:
        raise ValueError(f'knn_predict: query {tuple(query.shape)} and bank '
                         f'{tuple(bank.shape)} must be (Q, D) and (N, D)')
    if len(bank) == 0:
        raise ValueError('knn_predict: the bank is empty')
    if bank_labels.shape != (len(bank), ):
        raise ValueError(f'knn_predict: bank_labels has shape {tuple(bank_labels.shape)}, '
                         f'expected ({len(bank)},)')
    if bank_labels.min() < 0 or bank_labels.max() >= num_classes:
        raise ValueError(f'knn_predict: labels must be in [0, {num_classes}), got '
                         f'[{int(bank_labels.min())}, {int(bank_labels.max())}]')
    _check_finite('bank', bank)
    _check_finite('query', query)
    dtype = torch.float64 if query.dtype == torch.float64 else torch.float32
    query, bank = F.normalize(query.to(dtype), dim=1), F.normalize(bank.to(dtype), dim=1)
    bank_labels = bank_labels.to(bank.device).long()
    k_max = min(max(ks), len(bank))
    scores = {v: [] for v in ks}
    for start in range(0, len(query), query_chunk):
        sim, idx = _top_neighbours(query[start:start + query_chunk], bank, k_max, bank_chunk)
        weight = ((sim - sim[:, :1]) / temperature).exp()  # sim is sorted, best first
        labels = bank_labels[idx]
        for v in ks:
            n = min(v, k_max)
            votes = weight.new_zeros(len(sim), num_classes)
            scores[v].append(votes.scatter_add_(1, labels[:, :n], weight[:, :n]))
    return {v: torch.cat(parts) if parts else query.new_zeros(0, num_classes)
            for v, parts in scores.items()}


def knn_accuracy(query: torch.Tensor, query_labels: torch.Tensor, bank: torch.Tensor,
                 bank_labels: torch.Tensor, num_classes: int,
                 k: Iterable[int] = (10, 20, 100, 200), temperature: float = 0.07,
                 **chunks) -> Dict[int, float]:
    """Top-1 accuracy in % of :func:`knn_predict` for every k.

    Args:
        query (Tensor): Query features, shape (Q, D).
        query_labels (Tensor): True labels of the queries, shape (Q,).
        bank (Tensor): Bank features, shape (N, D).
        bank_labels (Tensor): Labels of the bank, shape (N,).
        num_classes (int): Number of classes.
        k (Iterable[int]): Neighbourhood sizes. Defaults to (10, 20, 100, 200).
        temperature (float): Temperature of the vote weights. Defaults to 0.07.
        **chunks: ``query_chunk`` / ``bank_chunk`` for :func:`knn_predict`.

    Returns:
        dict[int, float]: k -> top-1 accuracy in percent.
    """
    if len(query) == 0:
        raise ValueError('knn_accuracy: no query features')
    scores = knn_predict(query, bank, bank_labels, num_classes, k, temperature, **chunks)
    truth = query_labels.to(query.device).long()
    return {v: int((s.argmax(1) == truth).sum()) * 100 / len(truth) for v, s in scores.items()}
