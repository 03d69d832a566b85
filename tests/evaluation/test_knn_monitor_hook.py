"""KNNMonitorHook on mmpretrain's MoCo (narrow backbone): kNN at the right epochs, train mode."""
from types import SimpleNamespace

import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

from mejigclu_mm.cli.run_logs import read_scalars
from mejigclu_mm.evaluation import knn_accuracy
from mejigclu_mm.evaluation import KNNMonitorHook
from mmpretrain.registry import DATASETS

MOCO = ROOT / 'configs/mocov2/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
TEST_PIPELINE = [
    dict(type='NumpyToPIL', to_rgb=False),
    dict(type='torchvision/Grayscale', num_output_channels=3),
    dict(type='PILToNumpy', to_bgr=False),
    dict(type='Resize', scale=(32, 32), backend='pillow'),
    dict(type='PackInputs'),
]


def labelled_loader(root, split, indices=None):
    dataset = dict(type='FashionMNIST', data_root=str(root), split=split,
                   test_mode=split == 'test', pipeline=TEST_PIPELINE)
    if indices is not None:
        dataset['indices'] = indices
    return dict(batch_size=16, num_workers=0, dataset=dataset)


def independent_features(model, dataset, mean, std):
    """Backbone features computed here without the package: normalise, forward, pool."""
    samples = [dataset[i] for i in range(len(dataset))]
    images = (torch.stack([s['inputs'] for s in samples]).float() - mean) / std
    model.eval()
    with torch.no_grad():
        feats = model.backbone(images)[-1].mean((2, 3))
    model.train()
    labels = torch.tensor([int(s['data_samples'].gt_label) for s in samples])
    return feats / feats.norm(dim=1, keepdim=True), labels


@pytest.mark.slow
def test_logs_knn_at_the_interval_and_the_last_epoch(fashion_mnist_format_root, tmp_path):
    cfg = Config.fromfile(MOCO)
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(fashion_mnist_format_root),
        'train_dataloader.dataset.indices': 8, 'train_dataloader.batch_size': 8,
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': 3, 'param_scheduler.0.T_max': 3, 'param_scheduler.0.end': 3,
        'randomness.seed': 0, 'work_dir': str(tmp_path), 'experiment_name': 'knn_monitor',
        # a narrow ResNet_CIFAR-18 (16-128 channels) keeps the test fast
        'model.backbone.stem_channels': 16, 'model.backbone.base_channels': 16,
        'model.neck.in_channels': 128, 'model.neck.hid_channels': 128})
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [dict(
        type='KNNMonitorHook', interval=2, k=(5, 20),
        bank_dataloader=labelled_loader(fashion_mnist_format_root, 'train', indices=40),
        query_dataloader=labelled_loader(fashion_mnist_format_root, 'test'))]
    runner = Runner.from_cfg(cfg)
    runner.train()

    records = [r for r in read_scalars(str(tmp_path)) if 'knn/top1_k20' in r]
    assert [r['step'] for r in records] == [2, 3]  # epoch 2 (interval) and 3 (last)
    assert all(0 <= r[f'knn/top1_k{k}'] <= 100 for r in records for k in (5, 20))
    hub_values = runner.message_hub.get_scalar('knn/top1_k20').data[0]
    assert list(hub_values) == [r['knn/top1_k20'] for r in records]
    model = runner.model
    assert model.training and model.backbone.training  # train mode restored

    # The last value is the kNN of the final model's features.
    hook, norm = cfg.custom_hooks[0], cfg.model.data_preprocessor  # grey: one mean / std
    bank, bank_labels = independent_features(
        model, DATASETS.build(hook['bank_dataloader']['dataset']), norm.mean[0], norm.std[0])
    query, query_labels = independent_features(
        model, DATASETS.build(hook['query_dataloader']['dataset']), norm.mean[0], norm.std[0])
    assert len(bank) == 40 and len(query) == 20
    expected = knn_accuracy(query, query_labels, bank, bank_labels, 10, (5, 20))
    assert records[-1]['knn/top1_k5'] == expected[5]
    assert records[-1]['knn/top1_k20'] == expected[20]


def test_iteration_interval_and_last_iteration():
    hook = KNNMonitorHook(bank_dataloader={}, query_dataloader={}, interval=3, by_epoch=False)
    steps = []
    hook.evaluate = lambda runner, step: steps.append(step)
    for it in range(8):
        runner = SimpleNamespace(iter=it, max_iters=8, epoch=0, max_epochs=1)
        hook.after_train_iter(runner, batch_idx=it)
    hook.after_train_epoch(runner)  # epochs do not count with by_epoch=False
    assert steps == [3, 6, 8]
    with pytest.raises(ValueError, match='interval must be >= 1'):
        KNNMonitorHook(bank_dataloader={}, query_dataloader={}, interval=0)


def test_sets_share_the_hook_dataset_keys_and_take_the_training_set_class_and_root(
        fashion_mnist_format_root):
    """A loader's own dataset keys win over the hook's shared ones; type and data_root come
    from the innermost training dataset when a set names neither."""
    hook = KNNMonitorHook(
        dataset=dict(download=False, pipeline=TEST_PIPELINE, indices=5),
        bank_dataloader=dict(batch_size=4, num_workers=0, dataset=dict(split='train')),
        query_dataloader=dict(batch_size=4, num_workers=0,
                              dataset=dict(split='test', test_mode=True, indices=7)))
    train_set = dict(type='FashionMNIST', data_root=str(fashion_mnist_format_root),
                     split='train', pipeline=[])
    runner = SimpleNamespace(seed=0, cfg=Config(dict(train_dataloader=dict(
        dataset=dict(type='RepeatDataset', times=2, dataset=train_set)))))
    hook.before_train(runner)
    bank, query = (loader.dataset for loader in hook._loaders)
    assert type(bank).__name__ == type(query).__name__ == 'FashionMNIST'
    assert (len(bank), len(query)) == (5, 7)  # the shared indices, then the query's own
    assert bank.data_root == query.data_root == str(fashion_mnist_format_root)
    assert not bank.test_mode and query.test_mode
    assert tuple(bank[0]['inputs'].shape) == (3, 32, 32)  # the shared pipeline
    assert hook.bank_dataloader['dataset'] == dict(split='train')  # the config is not changed


@pytest.mark.slow
def test_the_shipped_monitor_follows_the_training_data_root_on_jigsaw_clustering(
        fashion_mnist_format_root, tmp_path, capsys):
    """The Fashion-MNIST pretraining configs ship the monitor without a data_root of its own:
    pointed at another copy of the data, it evaluates that copy (60 train / 20 test images
    here, fewer than its 2000 / 1000), through JigsawClustering's mode='tensor'."""
    cfg = Config.fromfile(
        ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    cfg.merge_from_dict({
        'train_dataloader.dataset.data_root': str(fashion_mnist_format_root),
        'train_dataloader.dataset.indices': 16, 'train_dataloader.batch_size': 8,
        'model.heads.cls.num_classes': 8,
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'train_cfg.max_epochs': 1, 'work_dir': str(tmp_path), 'experiment_name': 'shipped',
        'model.backbone.stem_channels': 8, 'model.backbone.base_channels': 8,
        'model.heads.clu.in_channels': 64, 'model.heads.clu.hid_channels': 64,
        'model.heads.cls.in_channels': 64, 'model.heads.cls.hid_channels': 64})
    monitor = next(h for h in cfg.custom_hooks if h['type'] == 'KNNMonitorHook')
    for loader in ('bank_dataloader', 'query_dataloader'):
        monitor[loader].update(num_workers=0)
    cfg.default_hooks.checkpoint = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    records = [r for r in read_scalars(str(tmp_path)) if 'knn/top1_k20' in r]
    assert [r['step'] for r in records] == [1] and 'knn/top1_k200' in records[0]
    out = capsys.readouterr().out
    assert '60 bank / 20 query images' in out
    # k = 200 > 60: said, and computed with the whole bank
    assert 'the bank holds 60 images, fewer than k = 200: those are computed with every bank ' \
           'image (k = 60)' in out
