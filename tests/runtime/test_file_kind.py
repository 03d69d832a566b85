"""Files that are no checkpoint are named for what they are, from their first bytes."""
import gzip
import io
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from mejigclu_mm.runtime import NotACheckpointError
from mejigclu_mm.runtime.file_kind import checkpoint_file_kind

LFS_POINTER = ('version https://git-lfs.github.com/spec/v1\n'
               'oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n'
               'size 102538541\n')
HTML = ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        '<title>Google Drive - Virus scan warning</title></head><body>Download anyway</body>'
        '</html>\n')


def image_bytes(fmt):
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize('fmt, name', [('JPEG', 'JPEG'), ('PNG', 'PNG'), ('GIF', 'GIF'),
                                       ('WEBP', 'WebP'), ('TIFF', 'TIFF'), ('BMP', 'BMP')])
def test_images_are_named(fmt, name, tmp_path):
    path = tmp_path / 'epoch_200.pth'
    path.write_bytes(image_bytes(fmt))
    with pytest.raises(NotACheckpointError) as error:
        checkpoint_file_kind(str(path))
    assert str(error.value).startswith(f'{path} is not a PyTorch checkpoint: it is a {name} '
                                       f'image')


def test_git_lfs_pointer_says_how_to_fetch_the_file(tmp_path):
    path = tmp_path / 'jigclu_r50.pth'
    path.write_text(LFS_POINTER)
    with pytest.raises(NotACheckpointError) as error:
        checkpoint_file_kind(str(path))
    message = str(error.value)
    assert f'{path} is not a PyTorch checkpoint: it is a Git LFS pointer ({len(LFS_POINTER)} ' \
           f'bytes) to a file of 97.8 MB' in message
    assert 'git lfs pull' in message and 'code' not in message


def test_html_page_is_called_a_download_that_returned_a_page(tmp_path):
    path = tmp_path / 'moco_v2_800ep.pth.tar'
    path.write_text('\ufeff\n  ' + HTML)
    with pytest.raises(NotACheckpointError) as error:
        checkpoint_file_kind(str(path))
    message = str(error.value)
    assert 'an HTML page' in message and 'titled "Google Drive - Virus scan warning"' in message
    assert 'the download returned a web page' in message


def test_other_text_quotes_its_first_line(tmp_path):
    path = tmp_path / 'model.pth'
    path.write_text("_base_ = './mejigclu.py'\nmodel = dict()\n")
    with pytest.raises(NotACheckpointError, match='a text file .* starting with "_base_ = '):
        checkpoint_file_kind(str(path))


def test_gzip_and_npy_are_named(tmp_path):
    packed = tmp_path / 'r50.pth.gz'
    packed.write_bytes(gzip.compress(b'x' * 100))
    with pytest.raises(NotACheckpointError, match='a gzip archive'):
        checkpoint_file_kind(str(packed))
    array = tmp_path / 'r50.npy'
    np.save(array, np.zeros(3))
    with pytest.raises(NotACheckpointError, match='a NumPy .npy array'):
        checkpoint_file_kind(str(array))


def test_checkpoints_and_pickles_are_told_apart(tmp_path):
    kinds = {}
    zipped, legacy, plain, empty = (tmp_path / name for name in ('a.pth', 'b.pth', 'c.pkl', 'd'))
    torch.save({'w': torch.ones(1)}, zipped)
    torch.save({'w': torch.ones(1)}, legacy, _use_new_zipfile_serialization=False)
    plain.write_bytes(pickle.dumps({'model': {'stem.conv1.weight': np.ones(1)}}))
    empty.write_bytes(b'')
    for path in (zipped, legacy, plain, empty):
        kinds[path.name] = checkpoint_file_kind(str(path))
    assert kinds == {'a.pth': 'zip', 'b.pth': 'torch-legacy', 'c.pkl': 'pickle', 'd': 'empty'}


def test_unrecognised_binary_is_left_to_torch(tmp_path):
    path = tmp_path / 'noise.bin'
    path.write_bytes(bytes(range(7, 256)) * 4)
    assert checkpoint_file_kind(str(path)) == 'unknown'
