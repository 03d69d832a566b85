"""The JigClu supplementary's CIFAR recipe (3.4) as configs: pretraining, linear evaluation and
fine-tuning on CIFAR-10 / CIFAR-100, with the recipe's numbers, trained a few steps on the real
CIFAR images foolbox ships, written in the python-pickle layout mmpretrain's CIFAR10 / CIFAR100
read."""
import pickle

import numpy as np
import pytest
import torch
from conftest import ROOT, label_of, real_image_paths
from mmengine.config import Config
from PIL import Image

from mejigclu_mm.runtime.safe_checkpoint import load_checkpoint_file

DATASETS = ['cifar10', 'cifar100']
PRETRAIN = 'configs/{0}/{0}_resnet18-cifar_1xb128-coslr-100e_{1}.py'
LINEAR = 'configs/mejigclu/benchmarks/resnet18-cifar_1xb128-linear-lr10-steplr-100e_{}.py'
FINETUNE = 'configs/mejigclu/benchmarks/resnet18-cifar_1xb128-finetune-lr0.1-steplr-100e_{}.py'


@pytest.mark.parametrize('dataset', DATASETS)
def test_the_supplementary_recipe(dataset):
    for method in ('mejigclu', 'jigclu'):
        cfg = Config.fromfile(ROOT / PRETRAIN.format(method, dataset))
        assert cfg.train_dataloader.batch_size == 128 and cfg.train_cfg.max_epochs == 100
        assert cfg.train_dataloader.dataset.type == dataset.upper()
        assert cfg.model.backbone.type == 'ResNet_CIFAR'  # strides unchanged
        if method == 'mejigclu':
            assert cfg.model.heads.cls.num_classes == 128
    for config, lr, weight_decay, frozen in ((LINEAR, 10., 0., 4), (FINETUNE, 0.1, 5e-4, -1)):
        cfg = Config.fromfile(ROOT / config.format(dataset))
        assert cfg.optim_wrapper.optimizer.lr == lr
        assert cfg.optim_wrapper.optimizer.weight_decay == weight_decay
        (step, ) = cfg.param_scheduler
        assert step.milestones == [40, 60, 80] and step.gamma == 0.2
        assert cfg.train_cfg.max_epochs == 100 and cfg.train_dataloader.batch_size == 128
        assert cfg.model.backbone.type == 'ResNet_CIFAR'
        assert cfg.model.backbone.frozen_stages == frozen
        assert cfg.model.head.num_classes == cfg.model.data_preprocessor.num_classes == (
            10 if dataset == 'cifar10' else 100)
        assert [t.type for t in cfg.train_dataloader.dataset.pipeline] == [
            'RandomCrop', 'RandomFlip', 'PackInputs']  # padding, random crop, flip
        assert cfg.train_dataloader.dataset.pipeline[0].padding == 4
        assert cfg.train_dataloader.dataset.type == cfg.val_dataloader.dataset.type == (
            dataset.upper())


@pytest.fixture(scope='module')
def cifar_roots(tmp_path_factory):
    """data/cifar10 and data/cifar100 in the python-pickle layout, each holding the 20 real
    images of its kind (labels from the file names) as training and as test set."""
    roots = {}
    for dataset, folder, names, key in (
            ('cifar10', 'cifar-10-batches-py', [f'data_batch_{i}' for i in range(1, 6)],
             'labels'),
            ('cifar100', 'cifar-100-python', ['train'], 'fine_labels')):
        root = roots[dataset] = tmp_path_factory.mktemp(dataset)
        (root / folder).mkdir()
        paths = real_image_paths(dataset)
        data = np.stack([np.asarray(Image.open(p).convert('RGB')).transpose(2, 0, 1).reshape(-1)
                         for p in paths])
        labels = [label_of(p) for p in paths]
        for i, name in enumerate(names):  # the training batches share the 20 images
            part = np.array_split(np.arange(20), len(names))[i]
            entry = {'data': data[part], key: [labels[j] for j in part]}
            (root / folder / name).write_bytes(pickle.dumps(entry, protocol=2))
        test_name = 'test_batch' if dataset == 'cifar10' else 'test'
        (root / folder / test_name).write_bytes(pickle.dumps({'data': data, key: labels}))
    return roots


@pytest.fixture
def no_md5(monkeypatch):
    """mmpretrain's CIFAR datasets check each file's md5 against the published archives': let
    them read the small files written here."""
    from mmpretrain.datasets import CIFAR10, CIFAR100
    for cls in (CIFAR10, CIFAR100):
        for attr in ('train_list', 'test_list'):
            monkeypatch.setattr(cls, attr, [[name, None] for name, _ in getattr(cls, attr)])


def train(config, root, work_dir, *options, loaders=('train_dataloader', )):
    import train as train_tool
    loaders = [f'{name}.{key}' for name in loaders
               for key in ('num_workers=0', 'persistent_workers=False',
                           f'dataset.data_root={root}')]
    train_tool.main([str(ROOT / config), '--work-dir', str(work_dir), '--cfg-options',
                     'train_cfg.max_epochs=1', 'randomness.seed=0',
                     'default_hooks.logger.interval=1', *loaders, *options])
    return (work_dir / 'last_checkpoint').read_text().strip()


@pytest.mark.slow
@pytest.mark.parametrize('dataset', DATASETS)
def test_pretrain_then_linear_and_finetune_on_real_images(dataset, cifar_roots, no_md5,
                                                          tmp_path, batch_options):
    root = cifar_roots[dataset]
    checkpoints = {}
    for method in ('mejigclu', 'jigclu'):
        config = PRETRAIN.format(method, dataset)
        checkpoint = checkpoints[method] = train(
            config, root, tmp_path / method, *batch_options(config, 8),
            'param_scheduler.0.T_max=1', 'param_scheduler.0.end=1')
        state = load_checkpoint_file(checkpoint)
        assert state['meta']['iter'] == 2  # 20 images, 8 per step, incomplete batch dropped
        assert all(torch.isfinite(v).all() for v in state['state_dict'].values()
                   if v.is_floating_point())
        # the kNN monitor ran after the last epoch on this dataset's class and root
        (scalars, ) = (tmp_path / method).glob('*/vis_data/scalars.json')
        assert 'knn/top1_k20' in scalars.read_text()
    pretrained = {k[len('backbone.'):]: v for k, v in load_checkpoint_file(
        checkpoints['mejigclu'])['state_dict'].items() if k.startswith('backbone.')}
    for config, frozen in ((LINEAR, True), (FINETUNE, False)):
        work_dir = tmp_path / ('linear' if frozen else 'finetune')
        checkpoint = train(config.format(dataset), root, work_dir, 'train_cfg.val_interval=1',
                           'train_dataloader.batch_size=8', 'val_dataloader.batch_size=8',
                           f'model.backbone.init_cfg.checkpoint={checkpoints["mejigclu"]}',
                           loaders=('train_dataloader', 'val_dataloader'))
        state = load_checkpoint_file(checkpoint)['state_dict']
        assert state['head.fc.weight'].shape[0] == (10 if dataset == 'cifar10' else 100)
        moved = [k for k, v in pretrained.items() if not torch.equal(state[f'backbone.{k}'], v)]
        assert (moved == []) if frozen else ('conv1.weight' in moved)
        (scalars, ) = work_dir.glob('*/vis_data/scalars.json')
        assert 'accuracy/top1' in scalars.read_text()
