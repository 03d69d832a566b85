"""JigsawDataPreprocessor: uint8 patches to the device in training, the recipe the data asks
for applied after the exchange, normalisation; plain normalisation outside training."""
import numpy as np
import pytest
import torch
from mmengine.dataset import default_collate

from mejigclu_mm.datasets.transforms import JigsawSplit
from mejigclu_mm.models.data_preprocessors import JigsawDataPreprocessor
from mmpretrain.datasets.transforms import PackInputs
from mmpretrain.structures import DataSample

PACK = PackInputs(meta_keys=('img_path', 'jigsaw_photometric'))


def batch_of(images, **split):
    np.random.seed(0)  # the same crops every call
    split = JigsawSplit(overlap=0.0, patch_size=16, **split)
    return default_collate([PACK(split(dict(img=img, img_path=f'{i}.png')))
                            for i, img in enumerate(images)])


def images(count=4, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 256, (40, 40, 3), dtype=torch.uint8, generator=generator).numpy()
            for _ in range(count)]


def test_training_keeps_uint8_patches_and_swaps_bgr_to_rgb():
    data = batch_of(images())
    out = JigsawDataPreprocessor(mean=[0.] * 3, std=[1.] * 3, to_rgb=True)(data, training=True)
    assert [p.dtype for p in out['inputs']] == [torch.uint8] * 4
    for before, after in zip(data['inputs'], out['inputs']):
        assert torch.equal(after, before[:, [2, 1, 0]])


def test_process_patches_normalises_and_applies_the_recipe_the_samples_carry():
    torch.manual_seed(0)
    mean, std = [10., 20., 30.], [2., 4., 8.]
    preprocessor = JigsawDataPreprocessor(mean=mean, std=std)
    plain = batch_of(images())
    patches = torch.cat(plain['inputs'])
    normalised = preprocessor.process_patches(patches, plain['data_samples'])
    expected = (patches.float() - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(
        std).view(1, 3, 1, 1)
    torch.testing.assert_close(normalised, expected)

    recipe = dict(brightness=0.4, contrast=0.4, jitter_prob=1.0, grayscale_prob=0.,
                  blur_prob=0.)
    augmented = batch_of(images(), photometric=recipe)
    assert torch.equal(torch.cat(augmented['inputs']), patches)  # geometry equal, colour not yet
    out = preprocessor.process_patches(patches, augmented['data_samples'])
    assert out.dtype == torch.float32 and not torch.allclose(out, expected)
    changed = (out - expected).abs().flatten(1).amax(dim=1) > 1e-3
    assert changed.all()  # every patch jittered (jitter_prob 1)


def test_patches_augmented_on_the_cpu_are_only_normalised():
    recipe = dict(brightness=0.4, jitter_prob=1.0, grayscale_prob=0., blur_prob=0.)
    data = batch_of(images(), photometric=recipe, photometric_on='cpu')
    patches = torch.cat(data['inputs'])
    out = JigsawDataPreprocessor().process_patches(patches, data['data_samples'])
    assert torch.equal(out, patches.float())


def test_samples_without_the_recipe_key_are_refused_with_the_fix():
    samples = [DataSample(metainfo=dict(img_path='a.png'))]
    with pytest.raises(KeyError, match="carry no 'jigsaw_photometric' metainfo.*PackInputs"):
        JigsawDataPreprocessor().process_patches(torch.zeros(1, 3, 4, 4), samples)


def test_outside_training_single_images_are_normalised():
    preprocessor = JigsawDataPreprocessor(mean=[1., 2., 3.], std=[2., 2., 2.], to_rgb=True)
    image = torch.arange(2 * 3 * 2 * 2, dtype=torch.uint8).view(2, 3, 2, 2)
    out = preprocessor(dict(inputs=image, data_samples=None), training=False)['inputs']
    expected = (image[:, [2, 1, 0]].float() - torch.tensor([1., 2., 3.]).view(1, 3, 1, 1)) / 2
    torch.testing.assert_close(out, expected)
