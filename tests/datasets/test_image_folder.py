"""ImageFolderDataset: every image OpenCV or PIL reads is taken, whatever its extension's case;
what is left out is counted in the log."""
import shutil

import mmcv
from conftest import real_image_paths
from log_capture import captured_log
from PIL import Image

from mejigclu_mm.datasets.image_folder import ImageFolderDataset, image_extensions
from mmpretrain.datasets import CustomDataset


def image_folder(root):
    """The same real photo in seven formats (one in a sub-folder), and three files that are
    no images."""
    photo = real_image_paths('imagenet')[0]
    (root / 'sub').mkdir(parents=True)
    shutil.copy(photo, root / 'a.jpg')
    shutil.copy(photo, root / 'sub' / 'b.JPEG')
    image = Image.open(photo)
    for name in ('c.png', 'd.tiff', 'e.webp', 'f.gif', 'g.bmp'):
        image.save(root / name)
    (root / 'notes.txt').write_text('not an image')
    (root / 'labels.json').write_text('{}')
    (root / '.DS_Store').write_bytes(b'\x00\x00\x00\x01Bud1')
    return root


def paths(dataset):
    return sorted(dataset.get_data_info(i)['img_path'].rsplit('/', 1)[1]
                  for i in range(len(dataset)))


def test_every_image_is_taken_and_every_skipped_file_counted(tmp_path):
    root = image_folder(tmp_path / 'images')
    with captured_log() as messages:
        dataset = ImageFolderDataset(data_root=str(root))
    assert paths(dataset) == ['a.jpg', 'b.JPEG', 'c.png', 'd.tiff', 'e.webp', 'f.gif', 'g.bmp']
    assert dict(dataset.skipped) == {'.txt': 1, '.json': 1, 'hidden (name starts with ".")': 1}
    [warning] = [m for m in messages if m.startswith('ImageFolderDataset:')]
    assert f'7 images in {root}; skipped 3 file(s)' in warning
    assert '.txt (1)' in warning and '.json (1)' in warning and 'hidden' in warning


def test_with_labels_files_outside_the_class_folders_are_counted(tmp_path):
    root = image_folder(tmp_path / 'images')
    dataset = ImageFolderDataset(data_root=str(root), with_label=True)
    assert paths(dataset) == ['b.JPEG']  # the one class folder, 'sub'
    assert dataset.skipped['outside the class folders'] == 8  # 6 images, .txt, .json


def test_mmpretrains_custom_dataset_drops_them_silently(tmp_path):
    """What the dataset fixes: CustomDataset keeps 4 of the 7 images, without a word."""
    dataset = CustomDataset(data_root=str(image_folder(tmp_path / 'images')), with_label=False)
    assert paths(dataset) == ['a.jpg', 'b.JPEG', 'c.png', 'g.bmp']


def test_every_listed_image_decodes_with_opencv_or_pil(tmp_path):
    dataset = ImageFolderDataset(data_root=str(image_folder(tmp_path / 'images')))
    for index in range(len(dataset)):
        data = open(dataset.get_data_info(index)['img_path'], 'rb').read()
        decoded = [mmcv.imfrombytes(data, backend=backend) for backend in ('cv2', 'pillow')]
        assert any(img is not None and img.ndim == 3 for img in decoded)


def test_extensions_cover_opencv_and_pil_and_can_be_narrowed(tmp_path):
    assert {'.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp', '.gif', '.bmp', '.pgm', '.ppm',
            '.exr'} <= set(image_extensions())
    root = image_folder(tmp_path / 'images')
    dataset = ImageFolderDataset(data_root=str(root), extensions=('.png', ))
    assert paths(dataset) == ['c.png']
    assert dataset.skipped['.jpg'] == 1 and dataset.skipped['.jpeg'] == 1
