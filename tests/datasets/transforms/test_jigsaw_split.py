import numpy as np
import pytest

from mejigclu_mm.datasets.transforms import JigsawSplit, jigsaw_boxes


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
    out = JigsawSplit(grid=2, overlap=0.3)(dict(img=img))
    assert len(out['img']) == 4
    for patch, (x1, y1, x2, y2) in zip(out['img'], out['jigsaw_boxes']):
        np.testing.assert_array_equal(patch, img[y1:y2, x1:x2])
    assert out['jigsaw_boxes'][1][0] > 0 and out['jigsaw_boxes'][2][1] > 0  # 1 = top-right


def test_random_overlap_is_drawn_per_image_within_the_range():
    np.random.seed(0)
    split = JigsawSplit(grid=2, overlap=(0.15, 0.45))
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
