"""ImageFiles: every file is tried as an image; the unreadable ones are reported by name."""
import numpy as np
import pytest
from conftest import real_image_paths
from PIL import Image

from mejigclu_mm.datasets.transforms.load_image import UnreadableImageError
from mejigclu_mm.evaluation.image_files import ImageFiles, collate_readable, list_files, read_image


@pytest.fixture
def photo():
    return real_image_paths('imagenet')[0]


def test_lists_the_images_below_the_folder_sorted(tmp_path):
    """The project's one rule (datasets/folder_images.py): images by extension in any case,
    sub-folders included, hidden files and other files left out (ImageFiles reports them)."""
    for rel in ['b/z.jpg', 'a.JPEG', 'b/c/readme', '.hidden.png']:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b'')
    assert list_files(str(tmp_path)) == ['a.JPEG', 'b/z.jpg']
    files = ImageFiles(str(tmp_path), pipeline=lambda results: results)
    assert len(files) == 4 and [files[i]['path'] for i in (2, 3)] == ['.hidden.png', 'b/c/readme']
    with pytest.raises(NotADirectoryError, match='missing does not exist'):
        list_files(str(tmp_path / 'missing'))


@pytest.mark.parametrize('mode, suffix', [('RGB', '.png'), ('L', '.png'), ('RGBA', '.png'),
                                          ('P', '.gif'), ('RGB', '.webp'), ('RGB', '.tiff'),
                                          ('I;16', '.png')])
def test_decodes_to_bgr_uint8_whatever_the_format(tmp_path, photo, mode, suffix):
    rgb = Image.open(photo).convert('RGB').resize((40, 30))
    path = tmp_path / f'img{suffix}'
    if mode == 'I;16':
        Image.fromarray(np.asarray(rgb.convert('L'), dtype=np.uint16) * 257).save(path)
    else:
        rgb.convert(mode).save(path)
    img = read_image(str(path))
    assert img.dtype == np.uint8 and img.shape == (30, 40, 3)
    if mode == 'RGB' and suffix != '.webp':  # lossless formats: the pixels, in BGR order
        np.testing.assert_array_equal(img, np.asarray(rgb)[..., ::-1])


@pytest.mark.parametrize('content, reason', [
    (b'', 'empty file'),
    (b'hello, world\n', 'not an image OpenCV or PIL can decode'),
    (b'\xff\xd8\xff\xe0' + bytes(100), 'JPEG'),
])
def test_unreadable_files_raise_with_the_name_and_reason(tmp_path, content, reason):
    path = tmp_path / 'bad.jpg'
    path.write_bytes(content)
    with pytest.raises(UnreadableImageError, match=reason) as error:
        read_image(str(path))
    assert str(path) in str(error.value)


def test_a_truncated_jpeg_is_refused(tmp_path, photo):
    data = photo.read_bytes()
    (tmp_path / 'cut.jpg').write_bytes(data[:len(data) // 2])
    with pytest.raises(UnreadableImageError, match='truncated JPEG'):
        read_image(str(tmp_path / 'cut.jpg'))


def test_the_dataset_and_its_collate_keep_every_file_accounted_for(tmp_path, photo):
    Image.open(photo).save(tmp_path / 'a.png')
    (tmp_path / 'b.txt').write_text('text')
    Image.open(photo).resize((20, 10)).save(tmp_path / 'c.jpg')

    def pipeline(results):
        return dict(inputs=np.ascontiguousarray(results['img'][:2, :2]),
                    height=results['ori_shape'][0])

    dataset = ImageFiles(str(tmp_path), pipeline)
    assert len(dataset) == 3 and dataset.files == ['a.png', 'c.jpg']
    batch = collate_readable([dataset[i] for i in range(3)])
    assert batch['paths'] == ['a.png', 'c.jpg']
    assert [p for p, _ in batch['unreadable']] == ['b.txt']
    assert batch['data']['inputs'].shape == (2, 2, 2, 3)
    assert batch['data']['height'].tolist() == [Image.open(photo).height, 10]
    only_bad = collate_readable([dataset[2]])
    assert only_bad['data'] is None and only_bad['paths'] == []
