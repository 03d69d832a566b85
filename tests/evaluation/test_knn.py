"""Weighted kNN: against a brute-force loop, chunking, k > bank, ties, a perfect encoder."""
import math

import numpy as np
import pytest
import torch

from mejigclu_mm.evaluation import knn_accuracy, knn_predict


def brute_force_scores(query, bank, bank_labels, num_classes, k, temperature):
    """Per query: cosine to every bank row, the k largest, exp(sim / T) summed per class, all
    times exp(-s_1 / T) (s_1 the query's highest similarity), as knn_predict's contract says."""
    scores = np.zeros((len(query), num_classes))
    for q, feature in enumerate(query.tolist()):
        sims = []
        for row, label in zip(bank.tolist(), bank_labels.tolist()):
            dot = sum(a * b for a, b in zip(feature, row))
            norm = math.sqrt(sum(a * a for a in feature)) * math.sqrt(sum(b * b for b in row))
            sims.append((dot / norm, label))
        best = max(sims)[0]
        for sim, label in sorted(sims, reverse=True)[:k]:
            scores[q, label] += math.exp(sim / temperature) / math.exp(best / temperature)
    return scores


@pytest.fixture
def features():
    generator = torch.Generator().manual_seed(0)
    query = torch.randn(23, 6, dtype=torch.float64, generator=generator)
    bank = torch.randn(40, 6, dtype=torch.float64, generator=generator) * 3  # not unit norm
    labels = torch.randint(0, 4, (40, ), generator=generator)
    return query, bank, labels


def test_matches_a_brute_force_loop_including_k_beyond_the_bank(features):
    query, bank, labels = features
    ks = (1, 5, 20, 40, 300)  # 300 > 40 bank rows: every bank row votes
    scores = knn_predict(query, bank, labels, 4, ks, temperature=0.07)
    for k in ks:
        expected = brute_force_scores(query, bank, labels, 4, k, 0.07)
        np.testing.assert_allclose(scores[k].numpy(), expected, rtol=1e-9, err_msg=f'k={k}')
    np.testing.assert_array_equal(scores[300].numpy(), scores[40].numpy())
    truth = torch.randint(0, 4, (23, ), generator=torch.Generator().manual_seed(1))
    acc = knn_accuracy(query, truth, bank, labels, 4, ks, 0.07)
    for k in ks:
        expected = brute_force_scores(query, bank, labels, 4, k, 0.07).argmax(1)
        assert acc[k] == pytest.approx((expected == truth.numpy()).mean() * 100)


def test_temperature_changes_the_weights(features):
    query, bank, labels = features
    scores = knn_predict(query, bank, labels, 4, (10, ), temperature=0.5)[10]
    np.testing.assert_allclose(scores.numpy(), brute_force_scores(query, bank, labels, 4, 10, 0.5),
                               rtol=1e-9)


def test_chunks_give_the_same_scores(features):
    query, bank, labels = features
    whole = knn_predict(query.float(), bank.float(), labels, 4, (3, 20))
    chunked = knn_predict(query.float(), bank.float(), labels, 4, (3, 20), query_chunk=5,
                          bank_chunk=7)  # k = 20 spans three bank chunks
    for k in (3, 20):
        torch.testing.assert_close(chunked[k], whole[k], rtol=1e-5, atol=0)


def test_tied_class_votes_go_to_the_lowest_class():
    bank = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    scores = knn_predict(torch.tensor([[1., 0.]]), bank, torch.tensor([2, 1, 0]), 3, (2, ))[2]
    assert scores[0, 1] == scores[0, 2] > 0 == scores[0, 0]
    assert knn_accuracy(torch.tensor([[1., 0.]]), torch.tensor([1]), bank,
                        torch.tensor([2, 1, 0]), 3, (2, ))[2] == 100.0


def test_features_that_encode_the_label_give_100_percent():
    generator = torch.Generator().manual_seed(0)
    bank_labels, query_labels = torch.arange(120) % 5, torch.randperm(50, generator=generator) % 5
    encode = torch.eye(5)  # the feature is the label, one-hot
    acc = knn_accuracy(encode[query_labels], query_labels, encode[bank_labels], bank_labels, 5,
                       (10, 20, 100, 200))
    assert acc == {10: 100.0, 20: 100.0, 100: 100.0, 200: 100.0}


def test_bad_input_is_named():
    bank, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 3])
    with pytest.raises(ValueError, match=r'labels must be in \[0, 3\)'):
        knn_predict(torch.randn(2, 3), bank, labels, 3)
    with pytest.raises(ValueError, match='k must be >= 1'):
        knn_predict(torch.randn(2, 3), bank, labels, 4, (0, ))
    with pytest.raises(ValueError, match='must be'):
        knn_predict(torch.randn(2, 5), bank, labels, 4)


def test_nan_features_are_refused_and_the_k_used_is_told():
    from mejigclu_mm.evaluation.knn import neighbourhood_sizes
    bank, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    bank[2, 1] = float('nan')
    with pytest.raises(ValueError, match='1 of 4 bank features hold NaN or Inf'):
        knn_predict(torch.randn(2, 3), bank, labels, 3)
    query = torch.randn(2, 3)
    query[:, 0] = float('inf')
    with pytest.raises(ValueError, match='2 of 2 query features hold NaN or Inf'):
        knn_predict(query, torch.randn(4, 3), labels, 3)
    assert neighbourhood_sizes([1, 10, 200], 50) == {1: 1, 10: 10, 200: 50}


@pytest.mark.parametrize('temperature', [0, -0.07, float('nan'), float('inf')])
def test_a_temperature_that_is_not_a_positive_number_is_refused(temperature):
    bank, labels = torch.randn(4, 3), torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match=f'temperature must be a positive number.*got '
                       f'{temperature}'):
        knn_predict(torch.randn(2, 3), bank, labels, 3, temperature=temperature)


def test_a_small_temperature_does_not_overflow_the_weights():
    """T = 0.001: exp(sim / T) is infinite in float32 for sim > 0.09, so every neighbour
    weighed inf and the tie went to class 0. The nearest neighbour (class 2, similarity 0.99)
    outweighs two of class 0 at 0.98 by exp(10) / 2."""
    bank = torch.tensor([[0.99, math.sqrt(1 - 0.99 ** 2)], [0.98, math.sqrt(1 - 0.98 ** 2)],
                         [0.98, -math.sqrt(1 - 0.98 ** 2)]])
    query, labels = torch.tensor([[1., 0.]]), torch.tensor([2, 0, 0])
    scores = knn_predict(query, bank, labels, 3, (3, ), temperature=0.001)[3]
    assert torch.isfinite(scores).all() and scores[0, 2] == 1.0
    assert scores[0, 0] == pytest.approx(2 * math.exp(-10), rel=1e-3)
    assert knn_accuracy(query, torch.tensor([2]), bank, labels, 3, (3, ), 0.001)[3] == 100.0
    # a large temperature gives the plain majority of the 3 neighbours
    assert knn_accuracy(query, torch.tensor([0]), bank, labels, 3, (3, ), 10.0)[3] == 100.0
