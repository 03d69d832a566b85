"""L-BFGS logistic regression: separable data, optimality, and the held-out choice of L2."""
import pytest
import torch
import torch.nn.functional as F

from mejigclu_mm.evaluation import choose_l2, fit_logistic_regression, linear_probe, topk_accuracy


def blobs(n, generator, num_classes=3, dim=16, spread=0.3):
    """Gaussian blobs around well separated class centres (linearly separable w.h.p.)."""
    centres = torch.eye(dim)[:num_classes] * 4 + 5  # offset and scale to test standardisation
    labels = torch.arange(n) % num_classes
    return centres[labels] + spread * torch.randn(n, dim, generator=generator), labels


def test_separable_features_are_learnt_to_100_percent():
    generator = torch.Generator().manual_seed(0)
    train_x, train_y = blobs(150, generator)
    test_x, test_y = blobs(60, generator)
    result = linear_probe(train_x, train_y, test_x, test_y, 3, l2_grid=(1e-4, 1e-3))
    assert result['top1'] == 100.0
    assert result['top5'] == 100.0  # k clamped to the 3 classes
    assert result['num_fit'] + result['num_holdout'] == 150 and result['num_holdout'] == 30


def test_the_fit_is_the_regularised_optimum():
    """At the returned weights the gradient of mean CE + l2 / 2 ||W||^2 (W on standardised
    features, as documented) vanishes."""
    generator = torch.Generator().manual_seed(1)
    x, y = blobs(90, generator, spread=3.0)  # overlapping: a finite, non-trivial optimum
    l2 = 1e-2
    layer = fit_logistic_regression(x, y, 3, l2)
    mean, std = x.mean(0), x.std(0, unbiased=False)
    weight = (layer.weight * std).clone().requires_grad_(True)  # undo the folding
    bias = (layer.bias + layer.weight @ mean).clone().requires_grad_(True)
    loss = F.cross_entropy(F.linear((x - mean) / std, weight, bias), y) \
        + l2 / 2 * weight.pow(2).sum()
    grad_w, grad_b = torch.autograd.grad(loss, (weight, bias))
    assert grad_w.abs().max() < 1e-3 and grad_b.abs().max() < 1e-3
    assert weight.abs().max() > 0.1  # not the zero start


def test_l2_is_chosen_on_the_held_out_split_only():
    generator = torch.Generator().manual_seed(2)
    x, y = blobs(100, generator, num_classes=2, dim=40, spread=4.0)  # noisy, few samples
    test_x, test_y = blobs(40, generator, num_classes=2, dim=40, spread=4.0)
    grid = (1e-4, 1e-2, 1.0)
    result = linear_probe(x, y, test_x, test_y, 2, l2_grid=grid, holdout=0.25, seed=3,
                          max_iter=100)
    # The same split recomputed: a permutation with the documented seed, first 25 held out.
    order = torch.randperm(100, generator=torch.Generator().manual_seed(3))
    held, fit = order[:25], order[25:]
    expected = {l2: topk_accuracy(fit_logistic_regression(x[fit], y[fit], 2, l2, 100)(x[held]),
                                  y[held], (1, ))[1] for l2 in grid}
    assert result['holdout_top1'] == pytest.approx(expected)
    best = max(expected.values())
    assert result['l2'] == max(l2 for l2 in grid if expected[l2] == best)
    # The test features play no part in the choice.
    other = linear_probe(x, y, torch.randn(40, 40), 1 - test_y, 2, l2_grid=grid, holdout=0.25,
                         seed=3, max_iter=100)
    assert other['l2'] == result['l2'] and other['holdout_top1'] == result['holdout_top1']


def test_ties_on_the_held_out_split_go_to_the_stronger_l2():
    generator = torch.Generator().manual_seed(4)
    x, y = blobs(60, generator)
    held_x, held_y = blobs(30, generator)
    l2, scores = choose_l2(x, y, held_x, held_y, 3, grid=(1e-2, 1e-4))
    assert scores == {1e-4: 100.0, 1e-2: 100.0} and l2 == 1e-2


def test_bad_arguments_are_named():
    x, y = torch.randn(10, 3), torch.arange(10) % 2
    with pytest.raises(ValueError, match='holdout must be in'):
        linear_probe(x, y, x, y, 2, holdout=1.0)
    with pytest.raises(ValueError, match='l2 must be > 0'):
        fit_logistic_regression(x, y, 2, 0.0)


def test_nan_features_are_refused_before_the_solver():
    x, y = torch.randn(10, 3), torch.arange(10) % 2
    bad = x.clone()
    bad[4, 0] = float('nan')
    with pytest.raises(ValueError, match='fit_logistic_regression: 1 of 10 training features '
                       'hold NaN or Inf'):
        fit_logistic_regression(bad, y, 2, 1e-3)
    with pytest.raises(ValueError, match='linear_probe: 1 of 10 training features'):
        linear_probe(bad, y, x, y, 2)
    with pytest.raises(ValueError, match='linear_probe: 1 of 10 test features'):
        linear_probe(x, y, bad, y, 2)
