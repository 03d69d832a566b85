"""CheckedLoadImageFromFile: truncated and corrupt images are refused by name, or skipped with a
count in the log; complete images load as mmcv's LoadImageFromFile loads them."""
import io
import shutil

import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import MMLogger
from PIL import Image

from mejigclu_mm.datasets.transforms import CheckedLoadImageFromFile, UnreadableImageError
from mmpretrain.datasets import CustomDataset


@pytest.fixture
def bad_images(imagenet_images, tmp_path):
    """A truncated JPEG (60 % of a real photo saved as baseline JPEG, the common kind; foolbox's
    are progressive), and a corrupt one (a JPEG header, then garbage)."""
    buffer = io.BytesIO()
    Image.open(imagenet_images[0]).convert('RGB').save(buffer, 'JPEG', quality=90)
    data = buffer.getvalue()
    truncated = tmp_path / 'truncated.jpg'
    truncated.write_bytes(data[:int(len(data) * 0.6)])
    corrupt = tmp_path / 'corrupt.jpg'
    corrupt.write_bytes(data[:4] + np.random.default_rng(0).bytes(2000))
    return truncated, corrupt


def load(transform, path):
    return transform(dict(img_path=str(path)))


def test_complete_images_load_as_with_mmcv(imagenet_images):
    for path in imagenet_images:
        expected = load(LoadImageFromFile(), path)
        got = load(CheckedLoadImageFromFile(), path)
        assert np.array_equal(got['img'], expected['img']), path
        assert got['img_shape'] == got['ori_shape'] == expected['img_shape']
        assert got['img_channel_order'] == 'bgr'


def test_rgb_loading_is_the_bgr_image_with_its_channels_reversed(imagenet_images):
    for path in imagenet_images[:5]:
        bgr = load(CheckedLoadImageFromFile(), path)['img']
        rgb = load(CheckedLoadImageFromFile(channel_order='rgb'), path)
        assert np.array_equal(rgb['img'], bgr[..., ::-1]) and rgb['img_channel_order'] == 'rgb'
        as_pil = np.asarray(Image.open(path).convert('RGB'))
        assert np.abs(rgb['img'].astype(int) - as_pil).mean() < 2  # decoders differ slightly


def test_mmcv_trains_on_a_truncated_jpeg_silently(bad_images, imagenet_images):
    """The problem: mmcv's loader returns the cut photo at full size, the rest filled in."""
    img = load(LoadImageFromFile(), bad_images[0])['img']
    assert img.shape[:2] == Image.open(imagenet_images[0]).size[::-1]


def test_a_truncated_progressive_jpeg_is_refused_as_truncated(imagenet_images, tmp_path):
    data = imagenet_images[0].read_bytes()  # progressive: OpenCV returns nothing when cut
    path = tmp_path / 'cut_progressive.jpg'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(UnreadableImageError, match=r'cut_progressive\.jpg: truncated JPEG'):
        load(CheckedLoadImageFromFile(), path)


def test_a_truncated_jpeg_is_refused_by_name(bad_images):
    with pytest.raises(UnreadableImageError, match=r"truncated\.jpg: truncated JPEG.*"
                       r"on_error='skip'"):
        load(CheckedLoadImageFromFile(), bad_images[0])


def test_a_corrupt_jpeg_is_refused_by_name(bad_images):
    with pytest.raises(AssertionError, match='failed to load image'):
        load(LoadImageFromFile(), bad_images[1])  # mmcv's message
    with pytest.raises(UnreadableImageError, match=r'corrupt\.jpg: cannot be decoded'):
        load(CheckedLoadImageFromFile(), bad_images[1])


def test_a_missing_file_is_refused_by_name(tmp_path):
    with pytest.raises(UnreadableImageError, match=r'nothere\.jpg: file not found'):
        load(CheckedLoadImageFromFile(), tmp_path / 'nothere.jpg')


def test_data_after_the_end_marker_is_no_truncation(imagenet_images, tmp_path):
    """Some cameras append data (a video, padding) after a complete JPEG."""
    path = tmp_path / 'appended.jpg'
    path.write_bytes(imagenet_images[1].read_bytes() + b'\x00\x01 appended data' * 50)
    expected = load(LoadImageFromFile(), imagenet_images[1])['img']
    assert np.array_equal(load(CheckedLoadImageFromFile(), path)['img'], expected)


def test_a_truncated_png_is_refused(imagenet_images, tmp_path):
    path = tmp_path / 'photo.png'
    Image.open(imagenet_images[2]).save(path)
    path.write_bytes(path.read_bytes()[:-5000])
    with pytest.raises(UnreadableImageError, match='truncated PNG'):
        load(CheckedLoadImageFromFile(), path)


def test_skipped_files_are_named_and_counted_in_the_log(bad_images, tmp_path):
    log_file = tmp_path / 'run.log'
    MMLogger.get_instance('test_load_image_skip', log_file=str(log_file))
    transform = CheckedLoadImageFromFile(on_error='skip')
    assert load(transform, bad_images[0]) is None
    assert load(transform, bad_images[1]) is None
    log = log_file.read_text()
    assert f'skipped {bad_images[0]}: truncated JPEG' in log
    assert '1 image(s) skipped so far' in log
    assert f'skipped {bad_images[1]}: cannot be decoded' in log
    assert '2 image(s) skipped so far' in log


def test_a_dataset_skips_a_bad_file_and_loads_another(imagenet_images, bad_images, tmp_path):
    root = tmp_path / 'images'
    root.mkdir()
    for path in imagenet_images[:3]:
        shutil.copy(path, root)
    shutil.copy(bad_images[0], root)
    dataset = CustomDataset(data_root=str(root), with_label=False,
                            pipeline=[dict(type='CheckedLoadImageFromFile', on_error='skip')])
    bad_index = [i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'].endswith('truncated.jpg')][0]
    sample = dataset[bad_index]
    assert not sample['img_path'].endswith('truncated.jpg')
    strict = CustomDataset(data_root=str(root), with_label=False,
                           pipeline=[dict(type='CheckedLoadImageFromFile')])
    with pytest.raises(UnreadableImageError, match='truncated.jpg'):
        strict[bad_index]


def test_an_unknown_on_error_is_refused():
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'ignore'"):
        CheckedLoadImageFromFile(on_error='ignore')
    with pytest.raises(ValueError, match="channel_order must be 'bgr' or 'rgb', got 'hsv'"):
        CheckedLoadImageFromFile(channel_order='hsv')


def test_the_skip_count_is_the_runs_across_workers(imagenet_images, bad_images, tmp_path):
    from torch.utils.data import DataLoader
    root = tmp_path / 'images'
    root.mkdir()
    for path in [*imagenet_images[:4], *bad_images]:
        shutil.copy(path, root)
    dataset = CustomDataset(data_root=str(root), with_label=False,
                            pipeline=[dict(type='CheckedLoadImageFromFile', on_error='skip')])
    loader = DataLoader(dataset, batch_size=3, num_workers=2, collate_fn=lambda batch: batch)
    samples = [sample for batch in loader for sample in batch]
    assert len(samples) == 6 and not any('truncated' in s['img_path'] or 'corrupt' in
                                         s['img_path'] for s in samples)
    assert int(dataset.pipeline.transforms[0].skipped) >= 2  # both, counted in the workers


def test_a_gif_opencv_cannot_decode_loads_through_pil(imagenet_images, tmp_path):
    """ImageFolderDataset takes every format OpenCV or PIL reads; OpenCV 4.10 has no GIF
    decoder, so the loader falls back to PIL (BGR, as OpenCV would give it)."""
    path = tmp_path / 'photo.gif'
    rgb = Image.open(imagenet_images[0]).convert('RGB')
    rgb.save(path)
    img = CheckedLoadImageFromFile()(dict(img_path=str(path)))['img']
    expected = np.asarray(Image.open(path).convert('RGB'))[..., ::-1]
    assert img.shape == expected.shape and np.array_equal(img, expected)
    # In RGB order OpenCV's failure is an error from cvtColor rather than None: still PIL's
    rgb_img = CheckedLoadImageFromFile(channel_order='rgb')(dict(img_path=str(path)))['img']
    assert np.array_equal(rgb_img, expected[..., ::-1])
