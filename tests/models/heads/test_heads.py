import math

import pytest
import torch
import torch.nn.functional as F

from mejigclu_mm.models.heads import ClusteringHead, LocationHead, PatchClassificationHead
from mejigclu_mm.models.losses import sup_clu_loss
from mejigclu_mm.models.utils import JigsawTargets


def make_targets(num_images=8, grid=2):
    return JigsawTargets(
        source_image=torch.arange(num_images).repeat(grid * grid),
        source_position=torch.arange(grid * grid).repeat_interleave(num_images),
        num_images=num_images, grid=grid)


def test_classification_head_is_weighted_cross_entropy_on_the_source_image():
    torch.manual_seed(0)
    head = PatchClassificationHead(num_classes=8, in_channels=16, hid_channels=32,
                                   loss_weight=0.5)
    feats, targets = torch.randn(32, 16), make_targets()
    logits = head.mlp[2](torch.relu(head.mlp[0](feats)))
    expected = 0.5 * F.cross_entropy(logits, targets.source_image)
    assert head.loss(feats, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    assert head.loss(feats, targets).item() == pytest.approx(0.5 * math.log(8), rel=0.2)


def test_classification_head_refuses_a_batch_that_differs_from_its_classes():
    head = PatchClassificationHead(num_classes=256, in_channels=16, hid_channels=16)
    with pytest.raises(ValueError, match='num_classes=256.*8 images in the global batch'):
        head.loss(torch.randn(32, 16), make_targets(8))


def test_location_head_predicts_the_position_and_checks_the_grid():
    head = LocationHead(grid=2, in_channels=16, loss_weight=2.0)
    feats, targets = torch.randn(32, 16), make_targets()
    expected = 2.0 * F.cross_entropy(head.fc(feats), targets.source_position)
    assert head.loss(feats, targets).item() == pytest.approx(expected.item(), rel=1e-6)
    with pytest.raises(ValueError, match='grid=3'):
        LocationHead(grid=3, in_channels=16).loss(torch.randn(32, 16), targets)


def test_clustering_head_embeds_normalised_and_applies_supclu():
    head = ClusteringHead(in_channels=16, hid_channels=32, out_channels=8, loss_weight=0.25)
    feats, targets = torch.randn(32, 16), make_targets()
    z = head(feats)
    assert torch.allclose(z.norm(dim=1), torch.ones(32))
    expected = 0.25 * sup_clu_loss(z, targets.source_image, 0.3, 0.07)
    assert head.loss(feats, targets).item() == pytest.approx(expected.item(), rel=1e-6)
