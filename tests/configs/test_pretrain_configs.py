"""Every pretraining config builds, and its own pipeline + model run one loss step on real
images, so that a user who points it at the real data set is not the first to find a typo."""
import math
import re

import numpy as np
import pytest
import torch
from conftest import ROOT, real_image_paths
from mmengine.config import Config
from mmengine.dataset import default_collate
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from PIL import Image

import mejigclu_mm  # noqa: F401
from mmpretrain.registry import DATASETS, MODELS, TRANSFORMS

# The JigsawClustering configs; the MoCo v2 peer config (mmpretrain's MoCo) is run by
# tests/tools/test_train.py.
PRETRAIN = sorted(p for method in ('mejigclu', 'jigclu')
                  for p in (ROOT / 'configs' / method).glob('*.py'))
EXPECTED_HEADS = {'mejigclu': {'clu', 'cls'}, 'mejigclu-shuffled': {'clu', 'cls'},
                  'mejigclu-overlap0.3': {'clu', 'cls'}, 'jigclu': {'clu', 'loc'}}


def heads_expected(path):
    return EXPECTED_HEADS[path.name.split('_')[0]]


@pytest.mark.parametrize('path', PRETRAIN, ids=lambda p: p.name)
def test_config_builds_and_runs_a_loss_step(path, imagenet_images, fashion_mnist_format_root):
    torch.manual_seed(0)
    cfg = Config.fromfile(path)
    init_default_scope(cfg.default_scope)
    assert set(cfg.model.heads) == heads_expected(path)
    batch_sampler = cfg.train_dataloader.get('batch_sampler')
    # full global batches: the batch sampler drops the last one itself (torch forbids
    # drop_last beside it), else drop_last
    assert (batch_sampler is not None) != cfg.train_dataloader.drop_last
    if 'cls' in cfg.model.heads:  # the papers' recipes: one class per image of the global batch
        gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', path.name).groups())
        assert per_gpu == cfg.train_dataloader.batch_size
        assert cfg.model.heads.cls.num_classes == gpus * per_gpu
        cfg.model.heads.cls.num_classes = 2
        # one fixed subset per class, unless the config says it keeps the shuffled reading
        if 'shuffled' in path.name:
            assert batch_sampler is None
        else:
            assert batch_sampler.type == 'DisjointSubsetBatchSampler'
    else:
        assert batch_sampler is None  # JigClu: labels only hold within a batch
    # the photometric recipe lives in one place: the data preprocessor (device)
    assert cfg.model.data_preprocessor.photometric is not None
    assert all(t.get('photometric') is None for t in cfg.train_dataloader.dataset.pipeline)
    if cfg.train_dataloader.dataset.type == 'FashionMNIST':
        dataset_cfg = dict(cfg.train_dataloader.dataset, data_root=str(fashion_mnist_format_root))
        dataset = DATASETS.build(dataset_cfg)
        samples = [dataset[0], dataset[1]]
    else:
        pipeline = [TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline]
        samples = []
        cifar = cfg.train_dataloader.dataset.type.lower()
        for image in (real_image_paths(cifar) if cifar.startswith('cifar')
                      else imagenet_images)[:2]:
            # mmpretrain's CIFAR datasets hand the pipeline RGB arrays; the others a file
            results = (dict(img=np.asarray(Image.open(image).convert('RGB')))
                       if cifar.startswith('cifar') else dict(img_path=str(image)))
            for transform in pipeline:
                results = transform(results)
            samples.append(results)
    model = revert_sync_batchnorm(MODELS.build(cfg.model))  # as the Runner does without DDP
    data = model.data_preprocessor(default_collate(samples), training=True)
    losses = model(**data, mode='loss')
    assert set(losses) == {f'loss_{h}' for h in heads_expected(path)}
    assert all(math.isfinite(v.item()) for v in losses.values())


def test_the_imagenet_knn_monitor_queries_val_with_the_inference_pipeline():
    """ImageNet's test split has no labels: the monitor its dataset base offers queries val."""
    cfg = Config.fromfile(ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py')
    assert cfg.knn_monitor.query_dataloader.dataset.split == 'val'
    assert cfg.knn_monitor.bank_dataloader.dataset.split == 'train'
    assert cfg.knn_monitor.dataset.pipeline == cfg.test_pipeline
