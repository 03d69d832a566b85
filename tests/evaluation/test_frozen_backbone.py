"""The tools' model and data: checkpoint into the backbone, bank through the val pipeline."""
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.evaluation import (build_frozen_classifier, checkpoint_prefix,
                                    evaluation_dataloaders)

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


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
    assert checkpoint_prefix(str(path)) == ('backbone.' if prefixed else '')
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


def test_the_official_jigclu_file_goes_in_with_or_without_its_prefix(tmp_path, capsys):
    state = random_backbone_state(0)
    path = tmp_path / 'model_best.pth.tar'
    weights = {f'module.encoder.{k}': v for k, v in state.items()}
    weights.update({'module.encoder.fc_loc.weight': torch.zeros(4, 512),
                    'module.encoder.fc_loc.bias': torch.zeros(4)})
    torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': weights}, path)
    assert checkpoint_prefix(str(path)) == 'module.encoder.'
    for prefix in ('auto', 'module.encoder.'):
        model = build_frozen_classifier(Config.fromfile(LINEAR), str(path), prefix=prefix)
        for name, value in state.items():
            torch.testing.assert_close(model.backbone.state_dict()[name], value, msg=name)
        assert (f'{path} (prefix "module.encoder."; dropped: module.encoder.fc_loc.* '
                f'(2 tensors); other entries: epoch, arch)') in capsys.readouterr().out


def test_a_diverged_checkpoint_is_refused(tmp_path):
    from mejigclu_mm.runtime import NonFiniteCheckpointError
    state = random_backbone_state(0)
    state['layer4.1.bn2.running_var'][0] = float('nan')
    path = tmp_path / 'epoch_9.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, path)
    with pytest.raises(NonFiniteCheckpointError, match=f'checkpoint {path} has 1 of 100 tensors'):
        build_frozen_classifier(Config.fromfile(LINEAR), str(path))


def is_channels_last(model):
    weight = model.backbone.conv1.weight
    return weight.is_contiguous(memory_format=torch.channels_last) and \
        not weight.is_contiguous()


@pytest.mark.parametrize('hook, on_cpu, on_cuda', [
    (dict(type='ChannelsLastHook'), False, True),  # the hook's default devices: CUDA only
    (dict(type='ChannelsLastHook', devices=('cuda', 'cpu')), True, True),
    (dict(type='mmpretrain.ChannelsLastHook', devices=['cpu']), True, False),
    (dict(type='ChannelsLastHook', convert=False, devices=('cpu', )), False, False),
    (None, False, False),
])
def test_channels_last_follows_the_hooks_rule(hook, on_cpu, on_cuda):
    from mejigclu_mm.evaluation.frozen_backbone import converts_to_channels_last
    cfg = Config.fromfile(LINEAR)
    cfg.custom_hooks = [hook] if hook else []
    assert converts_to_channels_last(cfg, 'cpu') is on_cpu
    assert converts_to_channels_last(cfg, 'cuda:1') is on_cuda
    model = build_frozen_classifier(cfg, 'none', device='cpu')
    assert is_channels_last(model) is on_cpu


def test_the_frozen_feature_tools_refuse_a_resnet34_for_the_r18_config(tmp_path):
    # issue 27.6: kNN / linear-probe / feature tools kept the first blocks of each stage
    from mmengine.registry import init_default_scope

    from mejigclu_mm.transfer import PretrainedCheckpointError
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=34)).state_dict()
    path = tmp_path / 'r34.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, path)
    with pytest.raises(PretrainedCheckpointError, match='ResNet-34 .* is a ResNet-18'):
        build_frozen_classifier(Config.fromfile(LINEAR), str(path))
