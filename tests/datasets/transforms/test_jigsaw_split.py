import numpy as np
import pytest

from mejigclu_mm.datasets.transforms import JigsawSplit, jigsaw_boxes
from mejigclu_mm.datasets.transforms.jigsaw_split import random_resized_crop_box


@pytest.mark.parametrize('height,width,overlap', [(60, 100, 0.3), (224, 224, 0.0),
                                                  (300, 200, 0.15), (101, 77, 0.45)])
def test_grid2_boxes_follow_the_design_geometry(height, width, overlap):
    # left/top patch: [0, L/2 + cL]; right/bottom: [L/2 - cL, L]
    def spans(length):
        return [(0, length / 2 + overlap * length), (length / 2 - overlap * length, length)]

    boxes = jigsaw_boxes(height, width, 2, overlap)
    expected = [(x1, y1, x2, y2) for (y1, y2) in spans(height) for (x1, x2) in spans(width)]
    np.testing.assert_allclose(boxes, expected, atol=1.0)
    assert boxes[0].tolist()[:2] == [0, 0] and boxes[3].tolist()[2:] == [width, height]
    sizes = {(x2 - x1, y2 - y1) for x1, y1, x2, y2 in boxes}
    assert len(sizes) == 1  # all patches the same size


def test_jigclu_overlap_gives_patches_of_0_8_side():
    assert jigsaw_boxes(100, 200, 2, 0.3).tolist() == [
        [0, 0, 160, 80], [40, 0, 200, 80], [0, 20, 160, 100], [40, 20, 200, 100]]


def test_grid3_patches_cover_the_image_with_equal_overlaps():
    boxes = jigsaw_boxes(300, 300, 3, 0.25)
    xs = sorted({(x1, x2) for x1, _, x2, _ in boxes})
    assert xs[0][0] == 0 and xs[-1][1] == 300
    assert {x2 - x1 for x1, x2 in xs} == {150}  # (1 + 2c) / m of the side
    assert [xs[i][1] - xs[i + 1][0] for i in range(2)] == [75, 75]  # 2 c L / (m - 1)


def test_patches_are_the_crops_named_by_the_boxes_row_major():
    img = np.random.default_rng(0).integers(0, 255, (90, 120, 3), dtype=np.uint8)
    out = JigsawSplit(grid=2, overlap=0.3, with_boxes=True)(dict(img=img))
    assert len(out['img']) == 4
    for patch, (x1, y1, x2, y2) in zip(out['img'], out['jigsaw_boxes']):
        np.testing.assert_array_equal(patch, img[y1:y2, x1:x2])
    assert out['jigsaw_boxes'][1][0] > 0 and out['jigsaw_boxes'][2][1] > 0  # 1 = top-right


def test_random_overlap_is_drawn_per_image_within_the_range():
    np.random.seed(0)
    split = JigsawSplit(grid=2, overlap=(0.15, 0.45), with_boxes=True)
    img = np.zeros((400, 400, 3), dtype=np.uint8)
    overlaps = []
    for _ in range(200):
        out = split(dict(img=img.copy()))
        c = out['jigsaw_overlap']
        side = 400 / 2 + c * 400
        assert all(abs((x2 - x1) - side) <= 1 and abs((y2 - y1) - side) <= 1
                   for x1, y1, x2, y2 in out['jigsaw_boxes'])  # same c on both axes
        overlaps.append(c)
    assert 0.15 <= min(overlaps) < 0.18 and 0.42 < max(overlaps) < 0.45
    assert abs(np.mean(overlaps) - 0.3) < 0.02


def test_each_patch_gets_its_own_augmentation():
    np.random.seed(1)
    img = np.tile(np.arange(64, dtype=np.uint8), (64, 1))[..., None].repeat(3, axis=2)
    split = JigsawSplit(overlap=0.0, patch_pipeline=[dict(type='RandomFlip', prob=0.5)])
    flips = set()
    for _ in range(20):
        patches = split(dict(img=img.copy()))['img']
        flips |= {bool(p[0, 0, 0] > p[0, -1, 0]) for p in patches}
    assert flips == {True, False}


@pytest.mark.parametrize('overlap', [0.5, -0.1, (0.2, 0.6), (0.4, 0.2), 'big', (0.1, 0.2, 0.3)])
def test_overlap_outside_the_allowed_range_is_refused(overlap):
    with pytest.raises(ValueError, match='overlap'):
        JigsawSplit(overlap=overlap)


def test_grid_below_2_is_refused():
    with pytest.raises(ValueError, match='grid must be an integer >= 2'):
        JigsawSplit(grid=1)


def test_an_image_too_small_for_the_patches_names_the_file():
    with pytest.raises(ValueError, match='tiny.png of 10 x 12 pixels is too small'):
        JigsawSplit(grid=2, overlap=0.2, min_patch_size=8)(
            dict(img=np.zeros((10, 12, 3), np.uint8), img_path='tiny.png'))


@pytest.mark.parametrize('shape', [(48, 40), (48, 40, 4)])
def test_grey_and_rgba_arrays_split_and_pack(shape):
    from mmpretrain.datasets.transforms import PackInputs
    img = np.random.default_rng(0).integers(0, 255, shape, dtype=np.uint8)
    split = JigsawSplit(patch_pipeline=[
        dict(type='RandomResizedCrop', scale=16, backend='pillow'),
        dict(type='RandomFlip', prob=0.5)])
    packed = PackInputs()(split(dict(img=img)))
    channels = 1 if len(shape) == 2 else 4
    assert [tuple(t.shape) for t in packed['inputs']] == [(channels, 16, 16)] * 4


def test_overlap_messages_fit_the_value():
    with pytest.raises(ValueError, match='must be >= 0 \\(0 cuts plain, touching patches\\), '
                                         'got -0.1'):
        JigsawSplit(overlap=-0.1)
    with pytest.raises(ValueError, match='at 0.5 every patch would be the whole image'):
        JigsawSplit(overlap=0.5)
    with pytest.raises(ValueError, match='low <= high'):
        JigsawSplit(overlap=(0.4, 0.2))


def test_patch_geometry_is_one_crop_of_the_patch_resized_and_flipped():
    """Each output patch equals some sub-rectangle of its patch box resized to patch_size; a
    gradient image tells the crop apart from its mirror image."""
    np.random.seed(3)
    ramp = np.tile(np.arange(200, dtype=np.uint8), (200, 1))  # value = column
    img = np.stack([ramp, ramp.T, np.full_like(ramp, 7)], axis=2)
    split = JigsawSplit(overlap=0.3, patch_size=20, crop_scale=(0.2, 1.0), flip_prob=0.5,
                        with_boxes=True)
    flips = []
    for _ in range(40):
        out = split(dict(img=img.copy()))
        for patch, (x1, y1, x2, y2) in zip(out['img'], out['jigsaw_boxes']):
            assert patch.shape == (20, 20, 3) and patch.dtype == np.uint8
            assert np.all(patch[..., 2] == 7)
            columns, rows = patch[0, :, 0].astype(int), patch[:, 0, 1].astype(int)
            assert x1 - 1 <= columns.min() and columns.max() <= x2  # inside its patch box
            assert y1 - 1 <= rows.min() and rows.max() <= y2
            assert np.all(np.diff(rows) >= 0)  # never flipped vertically
            flips.append(columns[0] > columns[-1])
    assert 0.3 < np.mean(flips) < 0.7


def test_crop_areas_cover_the_configured_scale():
    np.random.seed(4)
    areas = []
    for _ in range(300):
        x, y, w, h = random_resized_crop_box(100, 100, (0.2, 1.0), (3 / 4, 4 / 3))
        assert 0 <= x and x + w <= 100 and 0 <= y and y + h <= 100
        areas.append(w * h / 1e4)
    assert 0.18 < min(areas) < 0.25 and max(areas) > 0.9


def test_the_photometric_recipe_set_here_runs_on_the_cpu():
    """The CPU fallback: colours change in the workers; without a recipe only the geometry."""
    import torch
    torch.manual_seed(5)
    img = np.random.default_rng(5).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    recipe = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, jitter_prob=1.0)
    geometry_only = JigsawSplit(overlap=0.0, patch_size=32)
    split = JigsawSplit(overlap=0.0, patch_size=32, photometric=recipe)
    np.random.seed(6)
    plain = geometry_only(dict(img=img.copy()))['img']
    np.random.seed(6)
    out = split(dict(img=img.copy()))['img']
    assert all(not np.array_equal(a, b) for a, b in zip(plain, out))
    assert all(p.dtype == np.uint8 and p.shape == (32, 32, 3) for p in out)
    np.random.seed(6)
    assert all(np.array_equal(a, b) for a, b in zip(plain, geometry_only(dict(img=img))['img']))


def test_training_keeps_no_boxes():
    out = JigsawSplit(overlap=0.3, patch_size=16)(dict(img=np.zeros((40, 40, 3), np.uint8)))
    assert 'jigsaw_boxes' not in out and len(out['img']) == 4


def test_cpu_photometric_works_on_rgb_and_refuses_bgr_by_name():
    """Grayscale with luma weights: red (0.2989) is the first channel of an RGB image; an image
    a loader recorded as BGR, or that mmcv's loader read from a file, is refused."""
    red = np.zeros((32, 32, 3), np.uint8)
    red[..., 0] = 200
    recipe = dict(jitter_prob=0., grayscale_prob=1.0, blur_prob=0.)
    split = JigsawSplit(overlap=0.0, photometric=recipe)
    for results in (dict(img=red.copy()),  # an array from a dataset (MNIST, CIFAR): RGB
                    dict(img=red.copy(), img_path='a.jpg', img_channel_order='rgb')):
        patch = split(results)['img'][0]
        assert abs(int(patch[0, 0, 0]) - round(0.2989 * 200)) <= 1
        assert np.all(patch == patch[..., :1])
    with pytest.raises(ValueError, match=r"a\.jpg was loaded as BGR: load it with "
                       r"dict\(type='CheckedLoadImageFromFile', channel_order='rgb'\)"):
        split(dict(img=red.copy(), img_path='a.jpg', img_channel_order='bgr'))
    with pytest.raises(ValueError, match='b.png was loaded by a loader that gives BGR'):
        split(dict(img=red.copy(), img_path='b.png'))


def test_bad_settings_are_refused_when_built():
    with pytest.raises(ValueError, match='hue must lie in'):
        JigsawSplit(photometric=dict(hue=2.0))
    with pytest.raises(ValueError, match='crop_scale'):
        JigsawSplit(patch_size=16, crop_scale=(0., 1.))
    with pytest.raises(ValueError, match="interpolation must be 'bilinear' or 'area'"):
        JigsawSplit(patch_size=16, interpolation='cubic')


def test_area_interpolation_averages_when_shrinking():
    """A one-pixel checkerboard shrunk 6.7x: area averaging gives its mean grey, bilinear
    sampling aliases to values far from it."""
    board = ((np.indices((256, 256)).sum(axis=0) % 2) * 255).astype(np.uint8)
    img = np.repeat(board[..., None], 3, axis=2)
    for interpolation, close_to_grey in (('area', True), ('bilinear', False)):
        np.random.seed(0)
        split = JigsawSplit(overlap=0.0, patch_size=19, crop_scale=(1.0, 1.0),
                            crop_ratio=(1.0, 1.0), interpolation=interpolation)
        patch = split(dict(img=img.copy()))['img'][0].astype(float)
        assert (np.abs(patch - 127.5).max() < 2) == close_to_grey


@pytest.mark.parametrize('shape', [(48, 40), (48, 40, 1), (48, 40, 4)])
def test_grey_and_four_channel_arrays_through_the_patch_geometry(shape):
    from mmpretrain.datasets.transforms import PackInputs
    img = np.random.default_rng(1).integers(0, 255, shape, dtype=np.uint8)
    split = JigsawSplit(patch_size=16, flip_prob=0.5)
    packed = PackInputs()(split(dict(img=img)))
    channels = 1 if len(shape) == 2 else shape[2]
    assert [tuple(t.shape) for t in packed['inputs']] == [(channels, 16, 16)] * 4
