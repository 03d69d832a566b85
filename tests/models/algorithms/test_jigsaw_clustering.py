import math

import pytest
import torch

import mejigclu_mm  # noqa: F401
from mmpretrain.registry import MODELS


def tiny_model_cfg(num_images, heads=('clu', 'cls', 'loc'), grid=2):
    all_heads = dict(
        clu=dict(type='ClusteringHead', in_channels=64, hid_channels=32, out_channels=16),
        cls=dict(type='PatchClassificationHead', num_classes=num_images, in_channels=64,
                 hid_channels=32),
        loc=dict(type='LocationHead', grid=grid, in_channels=64))
    return dict(
        type='JigsawClustering',
        data_preprocessor=dict(type='JigsawDataPreprocessor', mean=[127.5] * 3, std=[64.] * 3),
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      norm_cfg=dict(type='GN', num_groups=4), out_indices=(3, )),
        neck=dict(type='DecoupleNeck'),
        heads={name: all_heads[name] for name in heads})


def uint8_patches(num_images, size=16, positions=4):
    """``positions`` uint8 patch batches of ``num_images`` x 3 x size x size."""
    return [torch.randint(0, 256, (num_images, 3, size, size), dtype=torch.uint8)
            for _ in range(positions)]


def train_losses(model, patches):
    """A training step's losses: the preprocessor's montages and targets into loss()."""
    data = model.data_preprocessor(dict(inputs=patches, data_samples=None), training=True)
    return model(**data, mode='loss')


def test_first_losses_match_theory_and_gradients_reach_the_backbone():
    torch.manual_seed(0)
    n = 16
    model = MODELS.build(tiny_model_cfg(n))
    # the preprocessor's draws come from its own (random_seed, step) generator; random_seed is
    # drawn from numpy's global state when the model is built, which earlier tests move
    model.data_preprocessor.random_seed.fill_(0)
    losses = train_losses(model, uint8_patches(n))
    assert set(losses) == {'loss_clu', 'loss_cls', 'loss_loc'}
    assert losses['loss_clu'].item() == pytest.approx((0.3 / 0.07) * math.log(4 * n - 1), rel=0.1)
    assert losses['loss_cls'].item() == pytest.approx(math.log(n), rel=0.1)
    assert losses['loss_loc'].item() == pytest.approx(math.log(4), rel=0.1)
    sum(losses.values()).backward()
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_heads_in_the_config_decide_the_losses():
    model = MODELS.build(tiny_model_cfg(4, heads=('clu', 'loc')))
    assert set(train_losses(model, uint8_patches(4))) == {'loss_clu', 'loss_loc'}


def test_batch_not_matching_the_classification_head_raises():
    with pytest.raises(ValueError, match='num_classes=8, but this step has 6 images'):
        train_losses(MODELS.build(tiny_model_cfg(8)), uint8_patches(6))


def test_the_grid_comes_from_the_patches_and_the_location_head_checks_it():
    model = MODELS.build(tiny_model_cfg(4, heads=('clu', 'loc'), grid=2))
    patches = uint8_patches(4, positions=9)
    with pytest.raises(ValueError, match='LocationHead has grid=2 but the montages use grid=3'):
        train_losses(model, patches)
    model = MODELS.build(tiny_model_cfg(4, heads=('clu', ), grid=3))
    assert 'loss_clu' in train_losses(model, patches)  # 3 x 3 montages, 48 px: layer4 6 x 6


def test_loss_refuses_inputs_that_did_not_come_from_the_jigsaw_preprocessor():
    model = MODELS.build(tiny_model_cfg(4))
    with pytest.raises(TypeError, match='JigsawTargets of JigsawDataPreprocessor'):
        model.loss(torch.randn(4, 3, 32, 32), None)


def test_a_layer4_smaller_than_the_grid_is_refused():
    """patch_size=4 on the Fashion-MNIST configs: 8 px montages, layer4 1 x 1 for a 2 x 2 grid."""
    with pytest.raises(ValueError, match='feature map is 1 x 1, smaller than the 2 x 2 grid'):
        train_losses(MODELS.build(tiny_model_cfg(4)), uint8_patches(4, size=4))


def test_tensor_mode_returns_the_backbone_features_of_whole_images():
    """As mmpretrain's MoCo / SimCLR answer mode='tensor' (their tests check the backbone's
    output shape): whole images in, the backbone's outputs out, normalised as in training."""
    torch.manual_seed(0)
    cfg = tiny_model_cfg(4)
    cfg['data_preprocessor'] = dict(type='JigsawDataPreprocessor', mean=[100.] * 3,
                                    std=[50.] * 3, to_rgb=True)
    model = MODELS.build(cfg).eval()
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=images, data_samples=None), False)
    feats = model(**data, mode='tensor')
    assert isinstance(feats, tuple) and len(feats) == 1
    assert list(feats[0].shape) == [2, 64, 4, 4]  # ResNet_CIFAR, 8 base channels: 64 x 4 x 4
    expected = model.backbone((images[:, [2, 1, 0]].float() - 100.) / 50.)[0]
    torch.testing.assert_close(feats[0], expected)
    with pytest.raises(RuntimeError, match='Invalid mode "predict"'):
        model(**data, mode='predict')
