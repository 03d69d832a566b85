"""JigsawDataPreprocessor owns the training batch step: uint8 patches -> exchange -> photometric
recipe -> normalisation -> montages + JigsawTargets, its draws seeded by (random_seed, step);
plain normalisation outside training."""
import pytest
import torch

from mejigclu_mm.models.data_preprocessors import JigsawDataPreprocessor
from mejigclu_mm.models.utils import JigsawTargets

MEAN, STD = [10., 20., 30.], [2., 4., 8.]
JITTER_ALWAYS = dict(brightness=0.4, contrast=0.4, saturation=0., hue=0., jitter_prob=1.0,
                     grayscale_prob=0., blur_prob=0.)


def patch_batches(count=4, grid=2, size=8, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (count, 3, size, size), dtype=torch.uint8,
                          generator=generator) for _ in range(grid * grid)]


def slots_of(montages, grid):
    """(m*m) x n x C x h x w slots of n montages (the inverse of the stitch)."""
    n, channels, height, width = montages.shape
    h, w = height // grid, width // grid
    return (montages.view(n, channels, grid, h, grid, w).permute(2, 4, 0, 1, 3, 5)
            .reshape(grid * grid, n, channels, h, w))


def test_training_returns_montages_of_the_patches_their_labels_name():
    patches = patch_batches()
    preprocessor = JigsawDataPreprocessor(mean=MEAN, std=STD, to_rgb=True)
    out = preprocessor(dict(inputs=patches, data_samples=None), training=True)
    montages, targets = out['inputs'], out['data_samples']
    assert isinstance(targets, JigsawTargets) and targets.grid == 2 and targets.num_images == 4
    assert montages.shape == (4, 3, 16, 16) and montages.dtype == torch.float32
    rgb = [p[:, [2, 1, 0]].float() for p in patches]  # to_rgb swaps the channels first
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    slots = slots_of(montages, 2).reshape(16, 3, 8, 8)
    for row in range(16):  # slot-major: row = slot * n + montage, one process
        image, position = targets.source_image[row], targets.source_position[row]
        torch.testing.assert_close(slots[row], (rgb[position][image] - mean) / std)


def test_the_recipe_is_applied_per_patch_after_the_exchange():
    patches = patch_batches()
    plain = JigsawDataPreprocessor()
    jitter = JigsawDataPreprocessor(photometric=JITTER_ALWAYS)
    jitter.load_state_dict(plain.state_dict())  # same seed and step: same permutation
    out_plain = plain(dict(inputs=patches), training=True)
    out_jitter = jitter(dict(inputs=patches), training=True)
    assert torch.equal(out_plain['data_samples'].source_image,
                       out_jitter['data_samples'].source_image)
    changed = (out_jitter['inputs'] - out_plain['inputs']).abs().flatten(1).amax(dim=1) > 1e-3
    assert changed.all()  # every montage's patches were jittered (jitter_prob 1)


def test_draws_follow_the_step_and_seed_not_the_global_stream():
    patches = patch_batches()
    first = JigsawDataPreprocessor(photometric=JITTER_ALWAYS)
    second = JigsawDataPreprocessor(photometric=JITTER_ALWAYS)
    second.load_state_dict(first.state_dict())
    torch.manual_seed(1)
    a = first(dict(inputs=patches), training=True)
    torch.manual_seed(2)  # another global stream (e.g. randomness.diff_rank_seed=True)
    b = second(dict(inputs=patches), training=True)
    assert torch.equal(a['inputs'], b['inputs'])
    assert int(first.step) == 1 and 'step' in first.state_dict()
    assert 'random_seed' in first.state_dict()  # both travel in checkpoints: exact resume
    c = first(dict(inputs=patches), training=True)  # the next step draws anew
    assert not torch.equal(a['inputs'], c['inputs'])


def test_a_list_valued_recipe_setting_works():
    """--cfg-options ...photometric.blur_sigma=0.1,1.0 gives a list (it crashed as unhashable)."""
    recipe = dict(JITTER_ALWAYS, blur_prob=1.0, blur_sigma=[0.1, 1.0])
    out = JigsawDataPreprocessor(photometric=recipe)(dict(inputs=patch_batches()), True)
    assert torch.isfinite(out['inputs']).all()


def test_montages_are_channels_last_on_the_devices_named():
    out = JigsawDataPreprocessor()(dict(inputs=patch_batches()), training=True)['inputs']
    assert out.is_contiguous()  # CUDA only by default, as ChannelsLastHook
    preprocessor = JigsawDataPreprocessor(channels_last_devices=('cpu', 'cuda'))
    out = preprocessor(dict(inputs=patch_batches()), training=True)['inputs']
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()


def test_a_given_random_seed_is_the_draws_seed():
    first = JigsawDataPreprocessor(photometric=JITTER_ALWAYS, random_seed=11)
    second = JigsawDataPreprocessor(photometric=JITTER_ALWAYS, random_seed=11)
    assert int(first.random_seed) == 11
    a = first(dict(inputs=patch_batches()), training=True)
    b = second(dict(inputs=patch_batches()), training=True)
    assert torch.equal(a['inputs'], b['inputs'])
    other = JigsawDataPreprocessor(photometric=JITTER_ALWAYS, random_seed=12)
    assert not torch.equal(other(dict(inputs=patch_batches()), training=True)['inputs'],
                           a['inputs'])


def test_the_recipe_and_normalisation_equal_their_composition_on_the_0_255_scale():
    """Normalising from the recipe's [0, 1] with mean / 255 and std / 255 is the old two-pass
    route (recipe, back to 0-255, normalise)."""
    from mejigclu_mm.augmentation import PatchPhotometric
    patches = patch_batches(count=6)[0]
    preprocessor = JigsawDataPreprocessor(mean=MEAN, std=STD, photometric=JITTER_ALWAYS)
    out = preprocessor.augment(patches, generator=torch.Generator().manual_seed(0))
    recipe = PatchPhotometric(**JITTER_ALWAYS)
    jittered = recipe(patches.float() / 255., generator=torch.Generator().manual_seed(0)) * 255.
    mean, std = torch.tensor(MEAN).view(3, 1, 1), torch.tensor(STD).view(3, 1, 1)
    torch.testing.assert_close(out, (jittered - mean) / std, rtol=1e-5, atol=1e-4)


def test_a_single_tensor_in_training_is_refused():
    with pytest.raises(TypeError, match='list of patch batches'):
        JigsawDataPreprocessor()(dict(inputs=torch.zeros(2, 3, 8, 8)), training=True)


def test_outside_training_single_images_are_normalised():
    preprocessor = JigsawDataPreprocessor(mean=[1., 2., 3.], std=[2., 2., 2.], to_rgb=True,
                                          photometric=JITTER_ALWAYS)
    image = torch.arange(2 * 3 * 2 * 2, dtype=torch.uint8).view(2, 3, 2, 2)
    out = preprocessor(dict(inputs=image, data_samples=None), training=False)['inputs']
    expected = (image[:, [2, 1, 0]].float() - torch.tensor([1., 2., 3.]).view(1, 3, 1, 1)) / 2
    torch.testing.assert_close(out, expected)
    assert int(preprocessor.step) == 0
