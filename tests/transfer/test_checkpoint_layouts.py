"""One resolver for the field's checkpoint layouts: a file in each, keys as the public code saves
them (random values; real shapes are tested through the tools and the init)."""
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

from mejigclu_mm.runtime import NonFiniteCheckpointError
from mejigclu_mm.transfer import (CheckpointLayoutError, expected_resnet_keys,
                                  read_checkpoint_weights, resolve_backbone, to_detectron2)


def resnet_state(seed=0, depth=18):
    """Every tensor name of a torchvision ResNet, with small random values."""
    generator = torch.Generator().manual_seed(seed)
    return OrderedDict((name, torch.tensor(7) if name.endswith('num_batches_tracked')
                        else torch.randn(3, generator=generator))
                       for name in expected_resnet_keys(depth))


def under(prefix, state):
    return OrderedDict((prefix + name, value) for name, value in state.items())


def head(prefix, *names):
    return OrderedDict((f'{prefix}{name}', torch.randn(2)) for name in names)


MLP = ('0.weight', '0.bias', '2.weight', '2.bias')
BACKBONE = resnet_state(0)
OTHER = resnet_state(1)


def detectron2_names(state):
    return dict(to_detectron2(state)['model'])


def moco_detectron2_names(state):
    """MoCo's convert-pretrain-to-detectron2.py: 'stem.' before every name without 'layer'
    (the MLP head too), BN counters kept."""
    renamed = {}
    for name, value in state.items():
        if 'layer' not in name:
            name = 'stem.' + name
        for stage in (1, 2, 3, 4):
            name = name.replace(f'layer{stage}', f'res{stage + 1}')
        for conv in (1, 2, 3):
            name = name.replace(f'bn{conv}', f'conv{conv}.norm')
        name = name.replace('downsample.0', 'shortcut').replace('downsample.1', 'shortcut.norm')
        renamed[name] = value.numpy()
    return renamed


def torch_file(obj, legacy=False):
    def write(path):
        torch.save(obj, path, _use_new_zipfile_serialization=not legacy)
    return write


def pickle_file(obj):
    def write(path):
        path.write_bytes(pickle.dumps(obj, protocol=2))
    return write


optimizer = {'state': {}, 'param_groups': [{'lr': 0.03, 'momentum': 0.9, 'params': [0, 1]}]}
# name: (writer, prefix found, dropped groups, other entries)
LAYOUTS = {
    'ours, pretraining': (
        torch_file({'meta': {'epoch': 200}, 'state_dict': OrderedDict(
            **under('backbone.', BACKBONE), **head('heads.clu.mlp.', *MLP),
            **head('heads.cls.mlp.', *MLP)), 'message_hub': {}, 'optimizer': optimizer}),
        'backbone.', {'heads': 8}, ['meta', 'message_hub', 'optimizer']),
    'ours, converted (--to mmdet)': (
        torch_file({'state_dict': BACKBONE, 'meta': {'converted_by': 'mejigclu_mm'}}),
        '', {}, ['meta']),
    'mmpretrain MoCo (momentum_encoder)': (
        torch_file({'state_dict': OrderedDict(
            **under('backbone.', BACKBONE), **head('neck.mlp.', *MLP),
            **under('momentum_encoder.module.0.', OTHER),
            **head('momentum_encoder.module.1.mlp.', *MLP),
            **head('', 'momentum_encoder.steps', 'queue', 'queue_ptr'))}),
        'backbone.', {'neck': 4, 'momentum_encoder.module.0': 120, 'momentum_encoder': 5,
                      'queue': 1, 'queue_ptr': 1}, []),
    'mmselfsup 0.x MoCo (encoder_q / encoder_k, backbone alias)': (
        torch_file({'state_dict': OrderedDict(
            **under('encoder_q.0.', BACKBONE), **under('encoder_k.0.', OTHER),
            **under('backbone.', BACKBONE), **head('', 'queue'))}),
        'backbone.', {'encoder_q.0': 120, 'encoder_k.0': 120, 'queue': 1}, []),
    'official JigClu script': (
        torch_file({'epoch': 200, 'arch': 'resnet50', 'state_dict': OrderedDict(
            **under('module.encoder.', BACKBONE), **head('module.encoder.fc_clu.', *MLP),
            **head('module.encoder.fc_loc.', 'weight', 'bias')), 'optimizer': optimizer}),
        'module.encoder.', {'module.encoder.fc_clu': 4, 'module.encoder.fc_loc': 2},
        ['epoch', 'arch', 'optimizer']),
    'official JigClu detection conversion (torch legacy, detectron2 names)': (
        torch_file(OrderedDict(
            **{f'backbone.bottom_up.{k}': torch.from_numpy(v)
               for k, v in moco_detectron2_names(BACKBONE).items()},
            **head('backbone.bottom_up.fc_clu.', *MLP)), legacy=True),
        'backbone.bottom_up.', {'backbone.bottom_up.fc_clu': 4}, []),
    'official MoCo script': (
        torch_file({'epoch': 200, 'arch': 'resnet50', 'state_dict': OrderedDict(
            **under('module.encoder_q.', BACKBONE), **head('module.encoder_q.fc.', *MLP),
            **under('module.encoder_k.', OTHER), **head('module.encoder_k.fc.', *MLP),
            **head('module.', 'queue', 'queue_ptr')), 'optimizer': optimizer}),
        'module.encoder_q.', {'module.encoder_q.fc': 4, 'module.encoder_k': 124,
                              'module.queue': 1, 'module.queue_ptr': 1},
        ['epoch', 'arch', 'optimizer']),
    'torchvision state dict': (
        torch_file(OrderedDict(**BACKBONE, **head('fc.', 'weight', 'bias'))), '', {'fc': 2}, []),
    'detectron2, ours (--to detectron2)': (
        pickle_file({'model': detectron2_names(BACKBONE), '__author__': 'mejigclu_mm',
                     'matching_heuristics': True}),
        '', {}, ['__author__', 'matching_heuristics']),
    'detectron2, MoCo\'s conversion': (
        pickle_file({'model': moco_detectron2_names(OrderedDict(
            **BACKBONE, **head('fc.', *MLP))), '__author__': 'MOCO', 'matching_heuristics': True}),
        '', {'stem.fc': 4}, ['__author__', 'matching_heuristics']),
    'detectron2 model zoo detector': (
        pickle_file({'model': {**{f'backbone.bottom_up.{k}': v
                                  for k, v in detectron2_names(BACKBONE).items()},
                               'backbone.fpn_lateral2.weight': np.ones(2, np.float32),
                               'roi_heads.box_predictor.cls_score.weight': np.ones(2)},
                     '__author__': 'Detectron2 Model Zoo'}),
        'backbone.bottom_up.', {'backbone.fpn_lateral2': 1, 'roi_heads': 1}, ['__author__']),
}


# to_detectron2 leaves the BN counters out (detectron2 has none); MoCo's and JigClu's keep them.
WITHOUT_BN_COUNTERS = ('detectron2, ours (--to detectron2)', 'detectron2 model zoo detector')


def written(tmp_path, layout):
    write, *expected = LAYOUTS[layout]
    path = tmp_path / f'{layout.split()[0].strip(",")}.file'
    write(path)
    return read_checkpoint_weights(str(path)), expected


@pytest.mark.parametrize('layout', list(LAYOUTS))
def test_each_layout_gives_its_resnet_alone(layout, tmp_path):
    weights, (prefix, dropped, others) = written(tmp_path, layout)
    backbone = resolve_backbone(weights)
    assert backbone.prefix == prefix
    expected = OrderedDict((k, v) for k, v in BACKBONE.items()
                           if layout not in WITHOUT_BN_COUNTERS or 'num_batches' not in k)
    assert list(backbone.state) == list(expected)
    for name, value in expected.items():
        assert torch.equal(backbone.state[name], value), name
    assert backbone.dropped == dropped
    assert backbone.others == others


@pytest.mark.parametrize('layout', ['official JigClu script', 'detectron2 model zoo detector'])
def test_the_prefix_is_the_keys_as_stored(layout, tmp_path):
    weights, (prefix, _, _) = written(tmp_path, layout)
    assert resolve_backbone(weights, prefix).prefix == prefix
    assert resolve_backbone(weights, prefix.rstrip('.')).prefix == prefix  # as mmengine reads it
    stripped = prefix.split('.', 1)[1]  # e.g. 'encoder.': not how the file stores it
    with pytest.raises(CheckpointLayoutError) as error:
        resolve_backbone(weights, stripped)
    assert f'no key of {weights.path} starts with the prefix "{stripped}"' in str(error.value)
    assert f'the ResNet stands under "{prefix}"' in str(error.value)


def test_momentum_copies_and_aliases_are_named_in_the_note(tmp_path):
    weights, _ = written(tmp_path, 'mmselfsup 0.x MoCo (encoder_q / encoder_k, backbone alias)')
    note = resolve_backbone(weights).note
    assert 'left out the momentum copy under "encoder_k.0."' in note
    assert 'the same weights also stand under "encoder_q.0."' in note
    momentum = resolve_backbone(weights, 'encoder_k.0.')  # a prefix takes what it names
    assert torch.equal(momentum.state['conv1.weight'], OTHER['conv1.weight'])


def test_two_different_resnets_without_a_prefix_are_refused_with_both_listed(tmp_path):
    path = tmp_path / 'two.pth'
    torch.save({'state_dict': OrderedDict(**under('student.', BACKBONE),
                                          **under('pretrained.', OTHER))}, path)
    weights = read_checkpoint_weights(str(path))
    with pytest.raises(CheckpointLayoutError) as error:
        resolve_backbone(weights)
    assert f'{path} holds 2 ResNets, under "student.", "pretrained."' in str(error.value)
    assert '--prefix P' in str(error.value) and 'prefix=P' in str(error.value)
    chosen = resolve_backbone(weights, 'pretrained.')
    assert torch.equal(chosen.state['layer4.1.bn2.bias'], OTHER['layer4.1.bn2.bias'])
    assert chosen.dropped == {'student': 120}


def test_a_file_without_a_resnet_is_refused_with_its_key_groups(tmp_path):
    path = tmp_path / 'heads.pth'
    torch.save({'state_dict': OrderedDict(**head('heads.clu.mlp.', *MLP),
                                          **under('backbone.', OrderedDict(
                                              (k, v) for k, v in BACKBONE.items()
                                              if not k.startswith('conv1.'))))}, path)
    with pytest.raises(CheckpointLayoutError) as error:
        resolve_backbone(read_checkpoint_weights(str(path)))
    assert f'{path} holds no ResNet' in str(error.value)
    assert "its keys start with: ['backbone', 'heads']" in str(error.value)


@pytest.mark.parametrize('layout', ['official JigClu script', 'detectron2, ours (--to detectron2)'])
def test_non_finite_weights_are_refused_with_the_file_and_count(layout, tmp_path):
    write, prefix, _, _ = LAYOUTS[layout]
    path = tmp_path / 'diverged.file'
    write(path)
    loaded = read_checkpoint_weights(str(path))
    for name in (f'{prefix}conv1.weight', f'{prefix}layer2.0.bn1.running_var'):
        loaded.tensors[name] = torch.full((3, ), float('nan'))
    with pytest.raises(NonFiniteCheckpointError) as error:
        resolve_backbone(loaded)
    stored = 'stem.conv1.weight' if 'detectron2' in layout else f'{prefix}conv1.weight'
    assert str(error.value).startswith(
        f'checkpoint {path} has 2 of 100 tensors with NaN or Inf values (e.g. {stored}): the run '
        f'that wrote it diverged')
