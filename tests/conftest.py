"""Shared test data: real images shipped in the foolbox package (requirements/offline-data.txt):
20 each of ImageNet (jpg), CIFAR-10, CIFAR-100, Fashion-MNIST and MNIST, labels in file names."""
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mejigclu_mm.utils.offline_data import offline_data_dir

ROOT = Path(__file__).resolve().parents[1]


def real_image_paths(kind):
    """The 20 real images of one kind in foolbox/data, sorted (imagenet, cifar10, cifar100,
    fashionMNIST, mnist)."""
    paths = sorted(offline_data_dir('foolbox').glob(f'{kind}_*'))
    assert len(paths) == 20, f'expected 20 foolbox {kind} images, found {len(paths)}'
    return paths


def label_of(path):
    """Class label from a foolbox file name such as cifar10_07_3.png."""
    return int(re.match(r'.*_(\d+)\.\w+$', path.name).group(1))


def write_idx_images(path, images):
    with open(path, 'wb') as file:
        file.write(struct.pack('>IIII', 0x803, len(images), 28, 28))
        file.write(np.stack(images).astype(np.uint8).tobytes())


def write_idx_labels(path, labels):
    with open(path, 'wb') as file:
        file.write(struct.pack('>II', 0x801, len(labels)))
        file.write(np.asarray(labels, dtype=np.uint8).tobytes())


@pytest.fixture(scope='session')
def imagenet_images():
    """20 real ImageNet validation photos."""
    return real_image_paths('imagenet')


@pytest.fixture(scope='session')
def fashion_mnist_format_root(tmp_path_factory):
    """A data root in Fashion-MNIST's file format with 60 real images as 28 x 28 grey: the 20
    Fashion-MNIST images and 40 CIFAR-10 / CIFAR-100 photos (labels: file-name class mod 10).
    Train and test splits both hold all 60.
    """
    root = tmp_path_factory.mktemp('fashion_mnist_format')
    paths = [p for kind in ('fashionMNIST', 'cifar10', 'cifar100') for p in real_image_paths(kind)]
    images = [np.asarray(Image.open(p).convert('L').resize((28, 28), Image.BILINEAR))
              for p in paths]
    labels = [label_of(p) % 10 for p in paths]
    for prefix in ('train', 't10k'):
        write_idx_images(root / f'{prefix}-images-idx3-ubyte', images)
        write_idx_labels(root / f'{prefix}-labels-idx1-ubyte', labels)
    return root
