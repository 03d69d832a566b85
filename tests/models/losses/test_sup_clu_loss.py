import math

import pytest
import torch
import torch.nn.functional as F

from mejigclu_mm.models.losses import SupCluLoss, sup_clu_loss


def eq2_eq3_by_loops(z, labels, tau):
    """MEJigClu Eq. 2-3 written out with Python loops over anchors and pairs."""
    m = len(labels)
    cos = [[float(torch.dot(z[i], z[j])) / (float(z[i].norm()) * float(z[j].norm()))
            for j in range(m)] for i in range(m)]
    total = 0.0
    for i in range(m):
        denominator = sum(math.exp(cos[i][k] / tau) for k in range(m) if k != i)
        positives = [j for j in range(m) if j != i and labels[j] == labels[i]]
        pair_losses = [-math.log(math.exp(cos[i][j] / tau) / denominator) for j in positives]
        total += sum(pair_losses) / len(positives)
    return total / m


@pytest.mark.parametrize('tau', [0.3, 0.07, 1.0])
def test_matches_paper_equations_without_scale(tau):
    torch.manual_seed(0)
    z = F.normalize(torch.randn(12, 5, dtype=torch.float64), dim=1)
    labels = torch.arange(3).repeat(4)  # 3 images x 4 patches
    got = sup_clu_loss(z, labels, temperature=tau, base_temperature=tau)
    assert got.item() == pytest.approx(eq2_eq3_by_loops(z, labels.tolist(), tau), rel=1e-9)


def test_reference_scale_is_t_over_base_t():
    torch.manual_seed(1)
    z = F.normalize(torch.randn(16, 8, dtype=torch.float64), dim=1)
    labels = torch.arange(4).repeat_interleave(4)
    expected = (0.3 / 0.07) * eq2_eq3_by_loops(z, labels.tolist(), 0.3)
    assert SupCluLoss(0.3, 0.07)(z, labels).item() == pytest.approx(expected, rel=1e-9)


def test_starting_value_on_random_features_is_log_of_other_patches():
    torch.manual_seed(2)
    m = 4 * 64  # grid 2, N = 64
    z = F.normalize(torch.randn(m, 4096), dim=1)  # nearly orthogonal: cos ~ 0
    labels = torch.arange(64).repeat(4)
    theory = (0.3 / 0.07) * math.log(m - 1)
    assert sup_clu_loss(z, labels).item() == pytest.approx(theory, rel=0.01)


def test_gradient_steps_lower_the_loss_and_cluster_the_labels():
    torch.manual_seed(3)
    raw = torch.randn(24, 16, requires_grad=True)
    labels = torch.arange(6).repeat(4)
    optimizer = torch.optim.SGD([raw], lr=0.5)
    losses = []
    for _ in range(60):
        loss = sup_clu_loss(F.normalize(raw, dim=1), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    z = F.normalize(raw.detach(), dim=1)
    same = labels[:, None] == labels[None, :]
    cos = z @ z.t()
    assert cos[same & ~torch.eye(24, dtype=torch.bool)].mean() > cos[~same].mean() + 0.5


def test_anchors_without_positive_are_left_out_and_all_singletons_refused():
    z = F.normalize(torch.randn(5, 3, dtype=torch.float64), dim=1)
    labels = torch.tensor([0, 0, 1, 1, 2])  # sample 4 has no positive
    kept = sup_clu_loss(z, labels, 0.5, 0.5)
    # Eq. 3 averaged over the four anchors that have a positive, with all 5 in the denominator.
    cos = (z @ z.t()).tolist()
    per_anchor = []
    for i in range(4):
        denominator = sum(math.exp(cos[i][k] / 0.5) for k in range(5) if k != i)
        j = i ^ 1
        per_anchor.append(-math.log(math.exp(cos[i][j] / 0.5) / denominator))
    assert kept.item() == pytest.approx(sum(per_anchor) / 4, rel=1e-9)
    with pytest.raises(ValueError, match='no sample shares its label'):
        sup_clu_loss(z, torch.arange(5))


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match='features M x D and labels M'):
        sup_clu_loss(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))
