"""Linear probe: multinomial logistic regression on frozen features, solved with L-BFGS.

The fast alternative to the papers' SGD linear protocol (``configs/mejigclu/benchmarks/``), as used for
linear evaluation by e.g. CLIP (Radford et al. 2021, L-BFGS logistic regression with the L2
strength chosen on a validation split) and SimCLR's transfer experiments (Chen et al. 2020):
features are extracted once, the convex problem is solved to convergence, so the result does
not depend on a learning rate or schedule.
"""
from typing import Dict, Iterable, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

DEFAULT_L2_GRID = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


def _check_finite(caller: str, name: str, features: torch.Tensor) -> None:
    """ValueError when some rows of ``features`` hold NaN or Inf."""
    bad = int((~torch.isfinite(features)).any(1).sum()) if features.numel() else 0
    if bad:
        raise ValueError(f'{caller}: {bad} of {len(features)} {name} features hold NaN or Inf '
                         'values')


def fit_logistic_regression(features: torch.Tensor, labels: torch.Tensor, num_classes: int,
                            l2: float, max_iter: int = 300) -> nn.Linear:
    """Fit ``softmax(W x + b)`` by minimising mean cross-entropy + ``l2 / 2 * ||W||^2``.

    Features are standardised (per-dimension mean and std of ``features``) before the fit, which
    makes L-BFGS converge in few iterations and gives ``l2`` the same meaning for any feature
    scale; the standardisation is folded into the returned layer, so it takes raw features.
    The bias is not regularised. The solver (``torch.optim.LBFGS``, strong-Wolfe line search)
    runs full-batch on the features' device, starting from zero weights (deterministic up to
    float rounding: the problem is strictly convex for ``l2 > 0``).

    Args:
        features (Tensor): Training features, shape (N, D).
        labels (Tensor): Integer labels in [0, num_classes), shape (N,).
        num_classes (int): Number of classes C.
        l2 (float): L2 strength on the weights of the standardised features (> 0).
        max_iter (int): Maximum L-BFGS iterations. Defaults to 300.

    Returns:
        nn.Linear: D -> C layer giving the logits of raw features.

    Raises:
        ValueError: ``l2 <= 0``, or features with NaN or Inf values (the solver would fail
            with an overflow deep inside).
    """
    if l2 <= 0:
        raise ValueError(f'fit_logistic_regression: l2 must be > 0, got {l2}')
    _check_finite('fit_logistic_regression', 'training', features)
    x = features.float()
    mean, std = x.mean(0), x.std(0, unbiased=False).clamp_min(1e-6)
    x = (x - mean) / std
    y = labels.to(x.device).long()
    weight = torch.zeros(num_classes, x.shape[1], device=x.device, requires_grad=True)
    bias = torch.zeros(num_classes, device=x.device, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1, max_iter=max_iter, history_size=20,
                                  tolerance_grad=1e-6, tolerance_change=1e-9,
                                  line_search_fn='strong_wolfe')

    def closure():
        optimizer.zero_grad()
        loss = F.cross_entropy(F.linear(x, weight, bias), y) + l2 / 2 * weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    layer = nn.Linear(x.shape[1], num_classes).to(x.device)
    with torch.no_grad():
        layer.weight.copy_(weight / std)
        layer.bias.copy_(bias - (weight / std) @ mean)
    return layer.requires_grad_(False)


def topk_accuracy(logits: torch.Tensor, labels: torch.Tensor,
                  topk: Iterable[int] = (1, 5)) -> Dict[int, float]:
    """Top-k accuracy in % (k clamped to the number of classes)."""
    labels = labels.to(logits.device).long()
    out = {}
    for k in topk:
        pred = logits.topk(min(k, logits.shape[1]), dim=1).indices
        out[k] = int((pred == labels[:, None]).any(1).sum()) * 100 / len(labels)
    return out


def choose_l2(fit_x: torch.Tensor, fit_y: torch.Tensor, holdout_x: torch.Tensor,
              holdout_y: torch.Tensor, num_classes: int,
              grid: Sequence[float] = DEFAULT_L2_GRID,
              max_iter: int = 300) -> Tuple[float, Dict[float, float]]:
    """The L2 strength of ``grid`` with the best top-1 on the held-out split.

    Args:
        fit_x (Tensor): Features the candidates are fitted on, (N, D).
        fit_y (Tensor): Their labels, (N,).
        holdout_x (Tensor): Held-out features the candidates are scored on, (M, D).
        holdout_y (Tensor): Their labels, (M,).
        num_classes (int): Number of classes.
        grid (Sequence[float]): Candidate L2 strengths. Defaults to :data:`DEFAULT_L2_GRID`.
        max_iter (int): L-BFGS iterations per fit. Defaults to 300.

    Returns:
        tuple: the chosen strength (ties go to the larger, more regularised one) and
        ``{l2: held-out top-1 in %}`` for the whole grid.
    """
    if not grid:
        raise ValueError('choose_l2: empty L2 grid')
    scores = {}
    for l2 in sorted(float(v) for v in grid):
        layer = fit_logistic_regression(fit_x, fit_y, num_classes, l2, max_iter)
        scores[l2] = topk_accuracy(layer(holdout_x.float()), holdout_y, (1, ))[1]
    best = max(scores.values())
    return max(l2 for l2, score in scores.items() if score == best), scores


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor,
                 test_y: torch.Tensor, num_classes: int,
                 l2_grid: Sequence[float] = DEFAULT_L2_GRID, holdout: float = 0.2,
                 seed: int = 0, max_iter: int = 300) -> dict:
    """Choose the L2 strength on a held-out part of the training features, refit, test.

    A random ``holdout`` fraction of the training features (fixed by ``seed``) scores the grid
    (:func:`choose_l2`), fitting on the rest; the test features play no part in the choice.
    The chosen strength is then refitted on all training features and evaluated on the test
    features.

    Args:
        train_x (Tensor): Training features, (N, D).
        train_y (Tensor): Training labels, (N,).
        test_x (Tensor): Test features, (M, D).
        test_y (Tensor): Test labels, (M,).
        num_classes (int): Number of classes.
        l2_grid (Sequence[float]): Candidate L2 strengths. Defaults to :data:`DEFAULT_L2_GRID`.
        holdout (float): Fraction of the training features held out, in (0, 1).
            Defaults to 0.2.
        seed (int): Seed of the held-out split. Defaults to 0.
        max_iter (int): L-BFGS iterations per fit. Defaults to 300.

    Returns:
        dict: ``top1``, ``top5`` (test, %), ``l2`` (chosen), ``holdout_top1`` ({l2: %}),
        ``num_fit`` and ``num_holdout``.
    """
    if not 0 < holdout < 1:
        raise ValueError(f'linear_probe: holdout must be in (0, 1), got {holdout}')
    _check_finite('linear_probe', 'training', train_x)
    _check_finite('linear_probe', 'test', test_x)
    n_holdout = int(round(len(train_x) * holdout))
    if not 0 < n_holdout < len(train_x):
        raise ValueError(f'linear_probe: {len(train_x)} training features cannot be split '
                         f'with holdout={holdout}')
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))
    order = order.to(train_x.device)
    held, fit = order[:n_holdout], order[n_holdout:]
    train_y = train_y.to(train_x.device)
    l2, scores = choose_l2(train_x[fit], train_y[fit], train_x[held], train_y[held],
                           num_classes, l2_grid, max_iter)
    layer = fit_logistic_regression(train_x, train_y, num_classes, l2, max_iter)
    acc = topk_accuracy(layer(test_x.float()), test_y, (1, 5))
    return dict(top1=acc[1], top5=acc[5], l2=l2, holdout_top1=scores, num_fit=len(fit),
                num_holdout=len(held))
