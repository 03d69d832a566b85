"""The one rule for what counts as an image in a folder (datasets/folder_images.py), used by
ImageFolderDataset and by the feature extraction's ImageFiles: images by extension, hidden
entries left out and named, every real folder walked once (symlink loops included)."""
import os
import shutil

import pytest
from conftest import real_image_paths
from log_capture import captured_log

from mejigclu_mm.datasets.folder_images import find_images, image_extensions
from mejigclu_mm.datasets.image_folder import ImageFolderDataset
from mejigclu_mm.evaluation.image_files import ImageFiles, list_files


def photo_folder(root):
    """Three real photos (one in a sub-folder, upper-case extension), a text file, a hidden
    image and a hidden folder holding an image."""
    photo = real_image_paths('imagenet')[0]
    (root / 'sub').mkdir(parents=True)
    (root / '.ipynb_checkpoints').mkdir()
    for rel in ('a.jpg', 'b.png', 'sub/c.JPEG', '._a.jpg', '.ipynb_checkpoints/a.jpg'):
        shutil.copy(photo, root / rel)
    (root / 'notes.txt').write_text('not an image')
    return root


IMAGES = ['a.jpg', 'b.png', 'sub/c.JPEG']


def test_images_by_extension_hidden_entries_named(tmp_path):
    listing = find_images(str(photo_folder(tmp_path / 'photos')))
    assert listing.images == IMAGES
    assert listing.other_files == ['notes.txt']
    assert listing.hidden == ['._a.jpg', '.ipynb_checkpoints']
    assert listing.folders == ['sub']
    assert [path for path, _ in listing.left_out()] == ['._a.jpg', '.ipynb_checkpoints',
                                                        'notes.txt']
    summary = listing.summary()
    assert '3 images in' in summary and '.txt (1), hidden (2)' in summary
    assert 'hidden: ._a.jpg, .ipynb_checkpoints' in summary


def test_a_symlink_loop_is_walked_once(tmp_path):
    """``self -> .``: mmengine's listing took every image about 40 times (until the path was
    too long); each real folder is walked once, and the second path is named."""
    root = photo_folder(tmp_path / 'photos')
    os.symlink('.', root / 'self')
    listing = find_images(str(root))
    assert listing.images == IMAGES
    assert listing.repeated == [('self', '.')]
    assert 'walked once: self -> .' in listing.summary()


def test_two_loops_end_and_a_linked_folder_counts_once(tmp_path):
    """Two loops (``sub/up -> ..`` and ``sub/again -> .``) used to hang; a link to a folder
    outside the root is followed (its images are taken), a second link to it is not, and a
    link to nothing is named."""
    root = photo_folder(tmp_path / 'photos')
    os.symlink('..', root / 'sub' / 'up')
    os.symlink('.', root / 'sub' / 'again')
    outside = tmp_path / 'more'
    outside.mkdir()
    shutil.copy(real_image_paths('imagenet')[1], outside / 'd.jpg')
    os.symlink(outside, root / 'linked')
    os.symlink(outside, root / 'linked_too')
    os.symlink(tmp_path / 'nowhere', root / 'gone.jpg')
    listing = find_images(str(root))
    assert listing.images == ['a.jpg', 'b.png', 'linked/d.jpg', 'sub/c.JPEG']
    assert sorted(listing.repeated) == [('linked_too', 'linked'), ('sub/again', 'sub'),
                                        ('sub/up', '.')]
    assert listing.broken_links == ['gone.jpg']


def test_the_dataset_and_the_feature_extraction_take_the_same_files(tmp_path):
    root = photo_folder(tmp_path / 'photos')
    os.symlink('.', root / 'self')
    with captured_log() as messages:
        dataset = ImageFolderDataset(data_root=str(root))
    taken = sorted(os.path.relpath(dataset.get_data_info(i)['img_path'], root)
                   for i in range(len(dataset)))
    assert taken == IMAGES == list_files(str(root))
    assert dataset.skipped['second paths to a folder already walked (links)'] == 1
    assert dataset.skipped['hidden (name starts with ".")'] == 2
    [warning] = [m for m in messages if m.startswith('ImageFolderDataset:')]
    assert 'hidden: ._a.jpg, .ipynb_checkpoints; walked once: self -> .' in warning
    files = ImageFiles(str(root), pipeline=lambda results: results)
    assert files.files == IMAGES
    errors = {files[i]['path']: files[i]['error'] for i in range(len(IMAGES), len(files))}
    assert sorted(errors) == ['._a.jpg', '.ipynb_checkpoints', 'notes.txt', 'self']
    assert 'hidden' in errors['._a.jpg'] and str(root / 'notes.txt') in errors['notes.txt']
    assert 'walked once' in errors['self']


def test_with_labels_a_linked_class_folder_is_one_class(tmp_path):
    root = tmp_path / 'classes'
    for name in ('cat', 'dog'):
        (root / name).mkdir(parents=True)
        shutil.copy(real_image_paths('imagenet')[0], root / name / f'{name}.jpg')
    os.symlink('../cat', root / 'dog' / 'loop')
    os.symlink('cat', root / 'kitten')  # a second path to the class folder 'cat'
    dataset = ImageFolderDataset(data_root=str(root), with_label=True)
    assert dataset.CLASSES == ('cat', 'dog')
    assert len(dataset) == 2
    assert dataset.skipped['second paths to a folder already walked (links)'] == 2


def test_an_empty_folder_and_a_missing_one_are_named(tmp_path):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'empty' / 'notes.txt').write_text('text')
    with pytest.raises(RuntimeError, match=r'no image in .*empty.*left out 1: \.txt \(1\)'):
        ImageFolderDataset(data_root=str(tmp_path / 'empty'))
    with pytest.raises(NotADirectoryError, match='missing does not exist'):
        find_images(str(tmp_path / 'missing'))


def test_the_extensions_are_opencvs_and_pils():
    assert {'.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp', '.gif', '.bmp', '.exr',
            '.jp2'} <= set(image_extensions())
    assert '.txt' not in image_extensions()
