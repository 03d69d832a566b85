"""PatchPhotometric: torchvision's colour operations, per-patch draws, MoCo v2 rates."""
import math

import pytest
import torch
import torchvision.transforms.functional as TF

from mejigclu_mm.augmentation import PatchPhotometric, PhotometricParams


def real_patches(imagenet_images, count=8, size=32):
    """Float RGB patches in [0, 1] cut from real photos."""
    from PIL import Image
    patches = []
    for path in imagenet_images[:count]:
        with Image.open(path) as image:
            patches.append(TF.to_tensor(image.convert('RGB').resize((size, size))))
    return torch.stack(patches)


def params_for(batch, **fields):
    base = dict(jitter=torch.zeros(batch, dtype=torch.bool), factors=torch.tensor(
        [[1., 1., 1., 0.]]).repeat(batch, 1), order=torch.arange(4).repeat(batch, 1),
        grayscale=torch.zeros(batch, dtype=torch.bool), blur=torch.zeros(batch, dtype=torch.bool),
        sigma=torch.ones(batch))
    base.update(fields)
    return PhotometricParams(**base)


TORCHVISION_OPS = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue)


@pytest.mark.parametrize('order', [(0, 1, 2, 3), (3, 2, 1, 0), (2, 0, 3, 1)])
def test_jitter_equals_torchvision_in_the_drawn_order(order, imagenet_images):
    images = real_patches(imagenet_images, count=2)
    factors = torch.tensor([[1.3, 0.7, 1.2, 0.08], [0.6, 1.4, 0.65, -0.1]])
    params = params_for(2, jitter=torch.ones(2, dtype=torch.bool), factors=factors,
                        order=torch.tensor([order, order[::-1]]))
    out = PatchPhotometric().apply(images, params)
    for i in range(2):
        expected = images[i]
        for op in params.order[i].tolist():
            expected = TORCHVISION_OPS[op](expected, factors[i, op].item())
        torch.testing.assert_close(out[i], expected, rtol=0, atol=2e-5)


def test_grayscale_and_blur_equal_torchvision(imagenet_images):
    images = real_patches(imagenet_images, count=3)
    aug = PatchPhotometric()
    params = params_for(3, grayscale=torch.tensor([True, False, True]),
                        blur=torch.tensor([False, True, True]), sigma=torch.tensor([0.5, 1.7, 0.3]))
    out = aug.apply(images, params)
    assert aug.kernel_size == 13  # +-3 sigma at sigma = 2
    expected = [TF.rgb_to_grayscale(images[0], 3),
                TF.gaussian_blur(images[1], [13, 13], [1.7, 1.7]),
                TF.gaussian_blur(TF.rgb_to_grayscale(images[2], 3), [13, 13], [0.3, 0.3])]
    for i in range(3):
        torch.testing.assert_close(out[i], expected[i], rtol=0, atol=1e-5)


def test_untouched_patches_stay_bit_identical(imagenet_images):
    images = real_patches(imagenet_images, count=4)
    params = params_for(4, jitter=torch.tensor([True, False, False, False]),
                        factors=torch.tensor([[1.3, 1., 1., 0.]] * 4),
                        grayscale=torch.tensor([False, True, False, False]))
    out = PatchPhotometric().apply(images, params)
    assert torch.equal(out[2:], images[2:])
    assert not torch.equal(out[0], images[0]) and not torch.equal(out[1], images[1])


def within_binomial_bound(hits, trials, p, sigmas=6):
    return abs(hits - trials * p) <= sigmas * math.sqrt(trials * p * (1 - p))


def test_rates_and_factor_ranges_follow_the_recipe():
    torch.manual_seed(0)
    trials = 20000
    params = PatchPhotometric().sample(trials)
    assert within_binomial_bound(params.jitter.sum().item(), trials, 0.8)
    assert within_binomial_bound(params.grayscale.sum().item(), trials, 0.2)
    assert within_binomial_bound(params.blur.sum().item(), trials, 0.5)
    for column, (low, high) in enumerate([(0.6, 1.4)] * 3 + [(-0.1, 0.1)]):
        values = params.factors[:, column]
        assert values.min() >= low and values.max() <= high
        assert values.min() < low + 0.01 and values.max() > high - 0.01  # the whole range
    assert params.sigma.min() >= 0.1 and params.sigma.max() <= 2.0
    assert torch.equal(params.order.sort(dim=1).values, torch.arange(4).expand(trials, 4))
    # every one of the 24 orders appears (each with probability 1/24)
    assert len({tuple(o) for o in params.order.tolist()}) == 24


def test_every_patch_draws_its_own_parameters():
    torch.manual_seed(1)
    params = PatchPhotometric().sample(4000)
    # neighbouring patches (e.g. the four patches of one image) are uncorrelated
    for values in (params.factors[:, 0], params.factors[:, 3], params.sigma,
                   params.jitter.float(), params.blur.float()):
        pairs = torch.stack([values[0::2], values[1::2]])
        assert abs(torch.corrcoef(pairs)[0, 1].item()) < 0.1
    orders = params.order[:, 0]
    assert (orders[0::2] != orders[1::2]).float().mean() > 0.6  # 3/4 expected


def test_bad_recipes_are_refused():
    with pytest.raises(ValueError, match='hue must lie in \\[0, 0.5\\], got 0.7'):
        PatchPhotometric(hue=0.7)
    with pytest.raises(ValueError, match='blur_prob must lie in \\[0, 1\\], got 1.5'):
        PatchPhotometric(blur_prob=1.5)
    with pytest.raises(ValueError, match='B x 3 x h x w'):
        PatchPhotometric()(torch.rand(2, 4, 8, 8))


def test_draws_follow_global_ids_not_the_rows_a_rank_holds(imagenet_images):
    """A rank holding some patches of the global batch gets for each exactly what a single
    process augmenting the whole batch gives it (the same seed on every rank)."""
    images = real_patches(imagenet_images, count=8)
    aug = PatchPhotometric()
    torch.manual_seed(3)
    whole = aug(images, torch.arange(8), 8)
    ids = torch.tensor([6, 1, 3])
    torch.manual_seed(3)
    part = aug(images[ids], ids, 8)
    torch.testing.assert_close(part, whole[ids], rtol=0, atol=1e-6)
    torch.manual_seed(3)
    assert not torch.allclose(aug(images[ids]), whole[ids])  # without ids: rows 0-2's draws


def test_a_generator_decides_the_draws_whatever_the_global_stream(imagenet_images):
    images = real_patches(imagenet_images, count=8)
    aug = PatchPhotometric()
    torch.manual_seed(1)
    first = aug(images, torch.arange(8), 8, torch.Generator().manual_seed(4))
    torch.manual_seed(2)
    again = aug(images, torch.arange(8), 8, torch.Generator().manual_seed(4))
    assert torch.equal(first, again)
    other = aug(images, torch.arange(8), 8, torch.Generator().manual_seed(5))
    assert not torch.allclose(first, other)
    with pytest.raises(ValueError, match='num_ids is required with ids'):
        aug(images, torch.arange(8))
