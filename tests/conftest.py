"""Shared test data: real images shipped in the foolbox package (requirements/offline-data.txt):
20 each of ImageNet (jpg), CIFAR-10, CIFAR-100, Fashion-MNIST and MNIST, labels in file names."""
import gc
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mejigclu_mm.utils.offline_data import offline_data_dir

ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Under ``pytest -n N`` (pytest-xdist, as ``make test`` runs) each of the N workers, and the
    processes it starts, gets its share of the cores: N processes of as many OpenMP threads as
    cores would oversubscribe the machine and slow every step several-fold."""
    workers = int(os.environ.get('PYTEST_XDIST_WORKER_COUNT', '1'))
    if workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        import torch
        torch.set_num_threads(threads)


# The modules that take longest (``--durations``, 2026-12-08), first in the order of the run:
# pytest-xdist then starts them early, and no worker is left alone at the end with one of them
# while the other idles. A scheduling hint only: a module missing here runs later, unchanged.
LONGEST_FIRST = (
    'tests/configs/test_transfer_configs.py', 'tests/tools/test_compare.py',
    'tests/tools/test_result_tables.py', 'tests/configs/test_segmentation_configs.py',
    'tests/configs/test_mejigclu_classification_labels.py', 'tests/configs/test_cifar_configs.py',
    'tests/configs/test_fashion_scenes_configs.py', 'tests/tools/test_dist_train.py',
    'tests/tools/test_train_resume.py', 'tests/tools/test_benchmark.py',
    'tests/test_import_side_effects.py', 'tests/runtime/test_known_warnings.py',
)


def pytest_collection_modifyitems(items):
    rank = {module: place for place, module in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split('::')[0], len(rank)))


def pytest_collection_finish(session):
    """Leave the objects of the imported stack and the collected tests out of every later
    garbage collection (``gc.freeze``): mmengine's datasets call ``gc.collect()`` each time one
    is built, and with the stack loaded each call took 0.3-0.4 s: 9 % of the CPU time of ten
    Runner-building test files (py-spy). Those objects live to the end of the session anyway."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def mmpretrain_scope():
    """Start every test in mmpretrain's registry scope, as a run of our configs does.

    mmengine builds from the registry of the current default scope; a test that ran an mmdet
    Runner would otherwise leave mmdet's scope behind for the next one.
    """
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')


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
    The training split holds all 60, the test split only the 20 Fashion-MNIST images.
    """
    root = tmp_path_factory.mktemp('fashion_mnist_format')
    paths = [p for kind in ('fashionMNIST', 'cifar10', 'cifar100') for p in real_image_paths(kind)]
    images = [np.asarray(Image.open(p).convert('L').resize((28, 28), Image.BILINEAR))
              for p in paths]
    labels = [label_of(p) % 10 for p in paths]
    for prefix, count in (('train', 60), ('t10k', 20)):
        write_idx_images(root / f'{prefix}-images-idx3-ubyte', images[:count])
        write_idx_labels(root / f'{prefix}-labels-idx1-ubyte', labels[:count])
    return root


@pytest.fixture(scope='session')
def r50_pretrain_checkpoint(tmp_path_factory):
    """A checkpoint as the MEJigClu ResNet-50 pretraining writes it (random weights, BN
    statistics and counters made non-trivial so that round trips are checked on real values)."""
    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    cfg = Config.fromfile(ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py')
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    state = model.state_dict()
    for name, value in state.items():
        if name.endswith(('running_mean', 'running_var')):
            value.copy_(torch.rand_like(value) + 0.5)
        elif name.endswith('num_batches_tracked'):
            value.fill_(1234)
    path = tmp_path_factory.mktemp('r50') / 'epoch_200.pth'
    torch.save({'meta': {'epoch': 200}, 'state_dict': state}, path)
    return path


@pytest.fixture(scope='session')
def imagenet_format_root(tmp_path_factory):
    """ImageNet's layout (train/, val/, meta/*.txt incl. the 1 % / 10 % subset lists) holding
    the 20 real ImageNet photos; labels from the file names."""
    import shutil
    root = tmp_path_factory.mktemp('imagenet_format')
    lines = []
    for split in ('train', 'val'):
        (root / split).mkdir()
        for path in real_image_paths('imagenet'):
            shutil.copy(path, root / split / path.name)
            lines.append(f'{path.name} {label_of(path)}')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text('\n'.join(lines[:20]))
    (root / 'meta' / 'val.txt').write_text('\n'.join(lines[20:]))
    (root / 'meta' / 'train_10percent.txt').write_text('\n'.join(lines[:4]))
    (root / 'meta' / 'train_1percent.txt').write_text('\n'.join(lines[:2]))
    return root


@pytest.fixture(scope='session')
def deepforest_coco_root(tmp_path_factory):
    """tools/data/prepare_deepforest.py's output: real tree-crown tiles in COCO format."""
    from prepare_deepforest import prepare
    root = tmp_path_factory.mktemp('deepforest')
    prepare(str(root))
    return root


@pytest.fixture(scope='session')
def voc_format_root(tmp_path_factory):
    """A VOCdevkit with two real annotated aerial images (deepforest's Pascal VOC XML) as
    VOC2007 trainval/test and VOC2012 trainval; the class is deepforest's 'Tree'."""
    root = tmp_path_factory.mktemp('VOCdevkit')
    source = offline_data_dir('deepforest')
    for year in ('2007', '2012'):
        base = root / f'VOC{year}'
        for sub in ('Annotations', 'JPEGImages', 'ImageSets/Main'):
            (base / sub).mkdir(parents=True)
        names = ['OSBS_029', 'SOAP_061']
        for name in names:
            Image.open(source / f'{name}.png').convert('RGB').save(base / 'JPEGImages' / f'{name}.jpg')
            (base / 'Annotations' / f'{name}.xml').write_text(
                (source / f'{name}.xml').read_text().replace('.png<', '.jpg<'))
        for split in ('trainval', 'test'):
            (base / 'ImageSets/Main' / f'{split}.txt').write_text('\n'.join(names))
    return root


@pytest.fixture(scope='session')
def batch_options():
    """``--cfg-options`` that set a config's batch size consistently: the dataloader's (which
    a ``DisjointSubsetBatchSampler`` takes) and a patch classification head's ``num_classes``
    (one class per image of the global batch)."""
    from mmengine.config import Config

    def options(config, batch_size, processes=1):
        cfg = Config.fromfile(ROOT / config)
        result = [f'train_dataloader.batch_size={batch_size}']
        if 'num_classes' in cfg.model.get('heads', {}).get('cls', {}):
            result.append(f'model.heads.cls.num_classes={batch_size * processes}')
        return result

    return options


@pytest.fixture(scope='session')
def fashion_scenes_root(tmp_path_factory, fashion_mnist_format_root):
    """tools/data/prepare_fashion_scenes.py's output from real Fashion-MNIST garments (the 20 of
    ``fashion_mnist_format_root``'s test split): 8 training, 4 validation and 4 test scenes of 64 px."""
    from prepare_fashion_scenes import main
    root = tmp_path_factory.mktemp('fashion_scenes') / 'scenes'
    main(['--src', str(fashion_mnist_format_root), '--out', str(root), '--train', '8',
          '--val', '4', '--test', '4'])
    return root


@pytest.fixture(scope='session')
def voc_segmentation_root(tmp_path_factory, fashion_scenes_root):
    """A VOCdevkit/VOC2012 in mmseg's Pascal VOC + augmented-set layout (JPEGImages,
    SegmentationClass, SegmentationClassAug, ImageSets/Segmentation/{train,aug,val}.txt) holding
    the scenes of ``fashion_scenes_root`` as RGB JPEGs with their label maps (labels 1-10 are
    valid VOC class indices)."""
    root = tmp_path_factory.mktemp('VOCdevkit') / 'VOC2012'
    for sub in ('JPEGImages', 'SegmentationClass', 'SegmentationClassAug',
                'ImageSets/Segmentation'):
        (root / sub).mkdir(parents=True)
    lists = {'train': [], 'aug': [], 'val': []}
    for split, listed in (('train', ('train', 'aug')), ('val', ('val', ))):
        for image in sorted((fashion_scenes_root / 'images' / split).glob('*.png')):
            name = f'{split}_{image.stem}'
            Image.open(image).convert('RGB').save(root / 'JPEGImages' / f'{name}.jpg')
            labels = Image.open(fashion_scenes_root / 'labels' / split / image.name)
            for folder in ('SegmentationClass', 'SegmentationClassAug'):
                labels.save(root / folder / f'{name}.png')
            for listing in listed:
                lists[listing].append(name)
    half = len(lists['train']) // 2  # as in VOC, the augmented list holds other images
    lists['train'], lists['aug'] = lists['train'][:half], lists['aug'][half:]
    for listing, names in lists.items():
        (root / 'ImageSets/Segmentation' / f'{listing}.txt').write_text('\n'.join(names) + '\n')
    return root
