"""The tools' model and data: checkpoint into the backbone, bank through the val pipeline."""
import pytest
import torch
from mmengine.config import Config

from conftest import ROOT
from mejigclu_mm.evaluation import (build_frozen_classifier, checkpoint_prefix,
                                    evaluation_dataloaders)

LINEAR = ROOT / 'configs/linear/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


def random_backbone_state(seed):
    """A ResNet_CIFAR-18 state dict with random weights and non-trivial BN statistics."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=18)).state_dict()
    for name, value in state.items():
        if name.endswith(('running_mean', 'running_var')):
            value.copy_(torch.rand_like(value) + 0.5)
    return state


def linear_cfg(root):
    cfg = Config.fromfile(LINEAR)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = str(root)
        cfg[loader].update(num_workers=0, persistent_workers=False, batch_size=16)
    return cfg


@pytest.mark.parametrize('prefixed', [True, False])
def test_checkpoint_goes_into_the_backbone(tmp_path, prefixed):
    state = random_backbone_state(0)
    path = tmp_path / 'ckpt.pth'
    # a pretraining / classifier checkpoint, or a backbone alone (tools/convert_weights.py)
    saved = {('backbone.' + k if prefixed else k): v for k, v in state.items()}
    if prefixed:
        saved['neck.fc.weight'] = torch.zeros(2, 2)
    torch.save({'state_dict': saved}, path)
    assert checkpoint_prefix(str(path)) == ('backbone.' if prefixed else None)
    model = build_frozen_classifier(Config.fromfile(LINEAR), str(path))
    assert not model.training
    loaded = model.backbone.state_dict()
    assert loaded.keys() == state.keys()
    for name, value in state.items():
        torch.testing.assert_close(loaded[name], value, msg=name)


def test_random_init_is_seeded_and_missing_files_are_named(tmp_path):
    cfg = Config.fromfile(LINEAR)
    weights = [build_frozen_classifier(cfg, 'none', seed=s).backbone.conv1.weight
               for s in (0, 0, 1)]
    torch.testing.assert_close(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        build_frozen_classifier(cfg, str(tmp_path / 'nope.pth'))


def test_bank_is_the_training_set_through_the_val_pipeline(fashion_mnist_format_root):
    cfg = linear_cfg(fashion_mnist_format_root)
    bank, query = evaluation_dataloaders(cfg, batch_size=32)
    assert (len(bank.dataset), len(query.dataset)) == (60, 20)
    assert [type(t).__name__ for t in bank.dataset.pipeline.transforms] == \
        [type(t).__name__ for t in query.dataset.pipeline.transforms]
    assert 'RandomResizedCrop' not in str(bank.dataset.pipeline)
    first = [next(iter(bank))['inputs'] for _ in range(2)]
    assert first[0].shape == (32, 3, 32, 32) and torch.equal(first[0], first[1])  # in order
    labels = torch.cat([torch.cat([s.gt_label for s in batch['data_samples']]) for batch in bank])
    assert labels.tolist() == [bank.dataset.get_gt_labels()[i] for i in range(60)]
