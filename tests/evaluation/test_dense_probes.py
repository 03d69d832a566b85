"""The convex dense probes: features read where the upsampled maps are, IoU as mmseg counts it,
and both probes recover what separable features say, on real scenes."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mejigclu_mm.evaluation.dense_probes import (box_features, flipped_boxes, iou_scores,
                                                 naming_probe, pixel_samples, read_scenes,
                                                 sample_pixels, segmentation_probe)


def test_sampled_pixels_are_those_of_the_bilinearly_upsampled_maps():
    maps, labels = torch.randn(3, 5, 16, 16), torch.randint(0, 11, (3, 64, 64))
    chosen = [torch.randperm(64 * 64)[:40] for _ in range(3)]
    feats, targets = pixel_samples(maps, labels, chosen)
    up = F.interpolate(maps, size=(64, 64), mode='bilinear', align_corners=False).flatten(2)
    torch.testing.assert_close(feats, torch.cat([up[i][:, chosen[i]].T for i in range(3)]))
    assert torch.equal(targets, torch.cat([labels[i].flatten()[chosen[i]] for i in range(3)]))


def test_half_the_sampled_pixels_are_garments():
    labels = torch.zeros(2, 8, 8, dtype=torch.uint8)
    labels[:, :2, :2] = 3  # 4 garment pixels per scene
    chosen = sample_pixels(labels, 16, torch.Generator().manual_seed(0))
    for label, index in zip(labels, chosen):
        picked = label.flatten()[index]
        assert len(index) == 4 + 8 and int((picked > 0).sum()) == 4  # all 4 garments, 8 others
        assert len(set(index.tolist())) == len(index)


def test_iou_scores_by_hand():
    # rows truth, columns prediction: background 0, garments 1, 2; class 3 absent everywhere
    confusion = torch.tensor([[8, 1, 0, 0], [1, 3, 0, 0], [0, 1, 2, 0], [0, 0, 0, 0]])
    scores = iou_scores(confusion)
    ious = [8 / 10, 3 / 6, 2 / 3]
    assert scores['miou'] == pytest.approx(100 * np.mean(ious))
    assert scores['garment_miou'] == pytest.approx(100 * np.mean(ious[1:]))
    assert scores['fg_iou'] == pytest.approx(100 * 6 / 8)  # 6 of the 8 non-background pixels
    assert scores['class_iou'][3] is None


def separable_stages(labels, boxes_per_scene=None):
    """layer3 / layer4-shaped maps whose channels encode the label at each position."""
    one_hot = F.one_hot(labels.long(), 11).permute(0, 3, 1, 2).float()
    layer3 = F.adaptive_avg_pool2d(one_hot, 16) * 4 + 0.01 * torch.randn(len(labels), 11, 16, 16)
    layer4 = F.adaptive_avg_pool2d(one_hot, 8)
    return [layer3, layer4]


def test_the_segmentation_probe_recovers_separable_features(fashion_scenes_root):
    torch.manual_seed(0)
    train, test = read_scenes(str(fashion_scenes_root), 'train'), \
        read_scenes(str(fashion_scenes_root), 'test')
    views = [separable_stages(train.labels), separable_stages(train.labels.flip(-1))]
    result = segmentation_probe(views, train.labels, separable_stages(test.labels), test.labels,
                                num_classes=11, pixels=64)
    # the maps are 4x coarser than the labels: garment edges are where the errors are
    assert result['fg_iou'] > 70 and result['miou'] > 40
    noise = [[torch.randn_like(s) for s in view] for view in views]
    chance = segmentation_probe(noise, train.labels, [torch.randn_like(s) for s in
                                                      separable_stages(test.labels)],
                                test.labels, num_classes=11, pixels=64)
    assert chance['garment_miou'] < result['garment_miou'] - 15
    assert chance['fg_iou'] < result['fg_iou'] - 30


def test_the_naming_probe_reads_the_garment_in_each_box(fashion_scenes_root):
    torch.manual_seed(0)
    train, test = read_scenes(str(fashion_scenes_root), 'train'), \
        read_scenes(str(fashion_scenes_root), 'test')
    assert len(train.boxes) == 8 and sum(len(b) for b in train.boxes) >= 16
    views = [separable_stages(train.labels), separable_stages(train.labels.flip(-1))]
    result = naming_probe(views, train, separable_stages(test.labels), test, num_classes=10)
    assert result['top1'] > 60  # 10 classes from about 20 training boxes
    assert result['num_boxes'] == 2 * sum(len(b) for b in train.boxes)
    noise = [[torch.randn_like(s) for s in view] for view in views]
    chance = naming_probe(noise, train, [torch.randn_like(s) for s in
                                         separable_stages(test.labels)], test, num_classes=10)
    assert chance['top1'] < result['top1'] - 30


def test_flipped_boxes_cover_the_mirrored_garment():
    """The box of a flipped scene reads the garment mirrored: its 2 x 2 bins swap left and
    right."""
    ramp = torch.arange(16.).view(1, 1, 1, 16).expand(1, 1, 16, 16).contiguous()
    stages = [ramp, ramp ** 2]
    box = [torch.tensor([[0., 0., 16., 64.]])]  # the left quarter of a 64 px scene
    left = box_features(stages, box, 64).view(2, 2, 2)
    right = box_features([s.flip(-1) for s in stages], flipped_boxes(box, 64), 64)
    torch.testing.assert_close(right.view(2, 2, 2), left.flip(-1))


def test_missing_scenes_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'annotations/test.json not found: make the '
                       'scenes with tools/data/prepare_fashion_scenes.py'):
        read_scenes(str(tmp_path), 'test')
