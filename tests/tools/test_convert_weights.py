"""tools/convert_weights.py: round trips into torchvision, mmdet and detectron2, and refusals."""
import os
import pickle

import convert_weights
import pytest
import torch
import torchvision
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.transfer import from_detectron2

R50_PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py'
FASTER_RCNN = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_fpn_syncbn_1x_coco.py'


def backbone_of(checkpoint):
    return {k[len('backbone.'):]: v for k, v in checkpoint['state_dict'].items()
            if k.startswith('backbone.')}


def test_torchvision_takes_it_with_only_fc_missing(r50_pretrain_checkpoint, tmp_path):
    dst = tmp_path / 'tv.pth'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to',
                                 'torchvision']) == 0
    model = torchvision.models.resnet50()
    result = model.load_state_dict(torch.load(dst, weights_only=True), strict=False)
    assert sorted(result.missing_keys) == ['fc.bias', 'fc.weight']
    assert result.unexpected_keys == []
    source = backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True))
    for name, value in model.state_dict().items():
        if not name.startswith('fc.'):
            assert torch.equal(value, source[name]), name


def test_faster_rcnn_backbone_loads_it_through_init_cfg(r50_pretrain_checkpoint, tmp_path):
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    dst = tmp_path / 'mmdet.pth'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to', 'mmdet']) == 0
    cfg = Config.fromfile(FASTER_RCNN)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg.checkpoint = str(dst)
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    source = backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True))
    loaded = detector.backbone.state_dict()
    assert set(loaded) == set(source)  # no backbone key missing or left over
    for name, value in loaded.items():
        assert torch.equal(value, source[name]), name


def test_detectron2_names_and_round_trip(r50_pretrain_checkpoint, tmp_path, capsys):
    dst = tmp_path / 'd2.pkl'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to',
                                 'detectron2']) == 0
    out = capsys.readouterr().out
    assert 'ResNet-50 backbone under "backbone."' in out
    assert 'dropped heads.*: 8 tensors (not the backbone)' in out
    assert 'dropped other entries: meta' in out
    with open(dst, 'rb') as file:
        converted = pickle.load(file)  # our own output
    assert converted['matching_heuristics'] is True and converted['__author__']
    model = converted['model']
    source = backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True))
    by_hand = {  # detectron2 name: torchvision name
        'stem.conv1.weight': 'conv1.weight',
        'stem.conv1.norm.running_var': 'bn1.running_var',
        'res2.0.conv1.norm.weight': 'layer1.0.bn1.weight',
        'res2.0.shortcut.weight': 'layer1.0.downsample.0.weight',
        'res3.0.shortcut.norm.bias': 'layer2.0.downsample.1.bias',
        'res5.2.conv3.norm.running_mean': 'layer4.2.bn3.running_mean',
        'res4.5.conv2.weight': 'layer3.5.conv2.weight',
    }
    for d2_name, tv_name in by_hand.items():
        assert torch.equal(torch.as_tensor(model[d2_name]), source[tv_name]), d2_name
    back = from_detectron2(model)
    expected = {k: v for k, v in source.items() if not k.endswith('num_batches_tracked')}
    assert set(back) == set(expected)
    for name, value in expected.items():
        assert torch.equal(back[name], value), name


def run_tool(src, tmp_path, capsys):
    code = convert_weights.main([str(src), str(tmp_path / 'out.pth'), '--to', 'mmdet'])
    return code, capsys.readouterr().err


def test_checkpoint_without_backbone_is_refused(tmp_path, capsys):
    src = tmp_path / 'heads_only.pth'
    torch.save({'state_dict': {'heads.clu.mlp.0.weight': torch.zeros(2, 2)}}, src)
    code, err = run_tool(src, tmp_path, capsys)
    assert code == 1 and f'{src} holds no ResNet' in err and "start with: ['heads']" in err
    assert not (tmp_path / 'out.pth').exists()


def test_partial_backbone_is_refused(r50_pretrain_checkpoint, tmp_path, capsys):
    checkpoint = torch.load(r50_pretrain_checkpoint, weights_only=True)
    partial = {k: v for k, v in checkpoint['state_dict'].items()
               if not k.startswith('backbone.layer3.2.')}
    src = tmp_path / 'partial.pth'
    torch.save({'state_dict': partial}, src)
    code, err = run_tool(src, tmp_path, capsys)
    assert code == 1 and 'misses' in err and 'layer3.2.conv1.weight' in err
    truncated = {k: v for k, v in checkpoint['state_dict'].items()
                 if not k.startswith('backbone.layer4.')}
    torch.save({'state_dict': truncated}, src)
    code, err = run_tool(src, tmp_path, capsys)
    assert code == 1 and 'no complete ResNet' in err


def test_unsafe_checkpoint_is_refused_without_running_code(tmp_path, capsys):
    marker = tmp_path / 'code_ran'

    class Payload:
        def __reduce__(self):
            return os.makedirs, (str(marker), )

    src = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': Payload()}, src)
    code, err = run_tool(src, tmp_path, capsys)
    assert code == 1 and 'refused to load checkpoint' in err
    assert not marker.exists()


def test_dst_that_is_src_is_refused_even_with_force(tmp_path, capsys):
    src = tmp_path / 'epoch_200.pth'
    src.write_bytes(b'the training checkpoint')
    before = src.read_bytes()
    link = tmp_path / 'link.pth'
    link.symlink_to(src)
    for dst, extra in ((src, []), (src, ['--force']), (link, ['--force']),
                       (f'{tmp_path}/sub/../epoch_200.pth', [])):
        code = convert_weights.main([str(src), str(dst), '--to', 'mmdet', *extra])
        err = capsys.readouterr().err
        assert code == 1 and f'DST {dst} is an input of this tool ({src})' in err
        assert 'another DST path (--force does not change this)' in err
    assert src.read_bytes() == before  # the training checkpoint is untouched


def test_existing_dst_needs_force(r50_pretrain_checkpoint, tmp_path, capsys):
    dst = tmp_path / 'mmdet.pth'
    dst.write_bytes(b'an older conversion')
    code = convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to', 'mmdet'])
    err = capsys.readouterr().err
    assert code == 1 and f'DST {dst} exists and' in err and 'pass --force' in err
    assert dst.read_bytes() == b'an older conversion'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to', 'mmdet',
                                 '--force']) == 0
    assert set(torch.load(dst, weights_only=True)['state_dict']) == set(
        backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True)))
    assert [p.name for p in tmp_path.iterdir()] == ['mmdet.pth']  # no .part left behind


def test_cut_off_src_is_called_incomplete(r50_pretrain_checkpoint, tmp_path, capsys):
    data = r50_pretrain_checkpoint.read_bytes()
    for name, content in (('empty.pth', b''), ('cut.pth', data[:len(data) // 3])):
        src = tmp_path / name
        src.write_bytes(content)
        code, err = run_tool(src, tmp_path, capsys)
        assert code == 1 and f'checkpoint {src} is incomplete' in err, err
        assert not (tmp_path / 'out.pth').exists()


@pytest.fixture(scope='module')
def r18_cifar_pretrain_checkpoint(tmp_path_factory):
    """A Fashion-MNIST pretraining checkpoint: ResNet_CIFAR-18, 3 x 3 stem."""
    from mmengine.registry import init_default_scope

    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(
        ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    path = tmp_path_factory.mktemp('r18') / 'epoch_1.pth'
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return path


@pytest.mark.parametrize('to', ['torchvision', 'detectron2'])
def test_small_image_stem_is_refused_for_7x7_stem_formats(to, r18_cifar_pretrain_checkpoint,
                                                         tmp_path, capsys):
    dst = tmp_path / ('out.pkl' if to == 'detectron2' else 'out.pth')
    code = convert_weights.main([str(r18_cifar_pretrain_checkpoint), str(dst), '--to', to])
    err = capsys.readouterr().err
    assert code == 1 and not dst.exists()
    assert 'non-standard stem: conv1 is 3 x 3' in err and '--allow-nonstandard-stem' in err


def test_small_image_stem_loads_into_torchvision_with_the_same_stem(
        r18_cifar_pretrain_checkpoint, tmp_path, capsys):
    from torch import nn
    dst = tmp_path / 'tv.pth'
    assert convert_weights.main([str(r18_cifar_pretrain_checkpoint), str(dst), '--to',
                                 'torchvision', '--allow-nonstandard-stem']) == 0
    assert 'warning' in capsys.readouterr().err
    state = torch.load(dst, weights_only=True)
    with pytest.raises(RuntimeError, match='size mismatch for conv1.weight'):
        torchvision.models.resnet18().load_state_dict(state, strict=False)
    model = torchvision.models.resnet18()
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    result = model.load_state_dict(state, strict=False)
    assert sorted(result.missing_keys) == ['fc.bias', 'fc.weight']
    assert result.unexpected_keys == []


def test_standard_stem_needs_no_flag(r50_pretrain_checkpoint, tmp_path, capsys):
    dst = tmp_path / 'd2.pkl'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to',
                                 'detectron2']) == 0
    assert 'non-standard' not in capsys.readouterr().err


def torchvision_resnet18_state(seed=0):
    torch.manual_seed(seed)
    state = torchvision.models.resnet18().state_dict()
    for name, value in state.items():
        if name.endswith(('running_mean', 'running_var')):
            value.copy_(torch.rand_like(value) + 0.5)
    return state


def official_jigclu_checkpoint(path, state):
    """As the official JigClu main.py saves it: DDP's module., the encoder, its two heads."""
    weights = {f'module.encoder.{k}': v for k, v in state.items() if not k.startswith('fc.')}
    weights.update({f'module.encoder.fc_clu.{k}': torch.randn(4) for k in
                    ('0.weight', '0.bias', '2.weight', '2.bias')})
    weights.update({'module.encoder.fc_loc.weight': torch.randn(4, 512),
                    'module.encoder.fc_loc.bias': torch.zeros(4)})
    torch.save({'epoch': 200, 'arch': 'resnet18', 'state_dict': weights,
                'optimizer': {'state': {}, 'param_groups': []}}, path)
    return path


@pytest.mark.parametrize('prefix', [[], ['--prefix', 'module.encoder.']])
@pytest.mark.parametrize('to', ['detectron2', 'mmdet', 'torchvision'])
def test_official_jigclu_checkpoint_converts_without_its_heads(to, prefix, tmp_path, capsys):
    state = torchvision_resnet18_state()
    src = official_jigclu_checkpoint(tmp_path / 'model_best.pth.tar', state)
    dst = tmp_path / f'r18.{"pkl" if to == "detectron2" else "pth"}'
    assert convert_weights.main([str(src), str(dst), '--to', to, *prefix]) == 0
    out = capsys.readouterr().out
    assert 'ResNet-18 backbone under "module.encoder."' in out
    assert 'dropped module.encoder.fc_clu.*: 4 tensors' in out
    assert 'dropped module.encoder.fc_loc.*: 2 tensors' in out
    assert 'dropped other entries: epoch, arch, optimizer' in out
    assert 'converted fc' not in out
    if to == 'detectron2':
        with open(dst, 'rb') as file:
            written = from_detectron2(pickle.load(file)['model'])
    else:
        written = torch.load(dst, weights_only=True)
        written = written['state_dict'] if to == 'mmdet' else written
    backbone = {k: v for k, v in state.items() if not k.startswith('fc.')}
    assert set(written) == {k for k in backbone
                            if to != 'detectron2' or not k.endswith('num_batches_tracked')}
    for name, value in written.items():
        assert torch.equal(value, backbone[name]), name


def test_torchvision_state_dict_converts_with_fc_dropped(tmp_path, capsys):
    src = tmp_path / 'resnet18.pth'
    torch.save(torchvision_resnet18_state(), src)
    assert convert_weights.main([str(src), str(tmp_path / 'r18.pkl'), '--to', 'detectron2']) == 0
    out = capsys.readouterr().out
    assert 'ResNet-18 backbone under ""' in out and 'dropped fc.*: 2 tensors' in out


def test_detectron2_settings_are_printed_and_written_beside_the_pkl(r50_pretrain_checkpoint,
                                                                    tmp_path, capsys):
    import yaml
    dst = tmp_path / 'r50_d2.pkl'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to',
                                 'detectron2']) == 0
    out = capsys.readouterr().out
    for line in ('MODEL.RESNETS.STRIDE_IN_1X1: False', 'INPUT.FORMAT: RGB',
                 'MODEL.PIXEL_MEAN: [123.675, 116.28, 103.53]',
                 'MODEL.PIXEL_STD: [58.395, 57.12, 57.375]', f'MODEL.WEIGHTS: {dst}',
                 'MODEL.RESNETS.DEPTH: 50'):
        assert f'  {line}\n' in out, line
    assert f'written to {tmp_path / "r50_d2.yaml"}' in out
    settings = yaml.safe_load((tmp_path / 'r50_d2.yaml').read_text())
    assert settings['MODEL']['WEIGHTS'] == str(dst)
    assert settings['MODEL']['RESNETS'] == {'DEPTH': 50, 'STRIDE_IN_1X1': False}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['r50_d2.pkl', 'r50_d2.yaml']


def test_existing_settings_file_needs_force_and_nothing_is_written(r50_pretrain_checkpoint,
                                                                   tmp_path, capsys):
    dst, settings = tmp_path / 'r50_d2.pkl', tmp_path / 'r50_d2.yaml'
    settings.write_text('MODEL: {WEIGHTS: mine.pkl}\n')
    code = convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to', 'detectron2'])
    err = capsys.readouterr().err
    assert code == 1 and f'settings {settings} exists and' in err and 'pass --force' in err
    assert not dst.exists() and settings.read_text() == 'MODEL: {WEIGHTS: mine.pkl}\n'
    src = tmp_path / 'epoch_1.yaml'  # the settings file would be SRC: refused even with --force
    src.write_bytes(r50_pretrain_checkpoint.read_bytes())
    code = convert_weights.main([str(src), str(tmp_path / 'epoch_1.pkl'), '--to', 'detectron2',
                                 '--force'])
    assert code == 1 and f'settings {src} is an input of this tool' in capsys.readouterr().err


def test_its_own_detectron2_output_converts_back(r50_pretrain_checkpoint, tmp_path):
    pkl, back = tmp_path / 'r50_d2.pkl', tmp_path / 'r50_mmdet.pth'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(pkl), '--to',
                                 'detectron2']) == 0
    assert convert_weights.main([str(pkl), str(back), '--to', 'mmdet']) == 0
    source = backbone_of(torch.load(r50_pretrain_checkpoint, weights_only=True))
    converted = torch.load(back, weights_only=True)['state_dict']
    assert set(converted) == {k for k in source if not k.endswith('num_batches_tracked')}
    for name, value in converted.items():
        assert torch.equal(value, source[name]), name


def test_an_image_is_named_as_an_image(imagenet_images, tmp_path, capsys):
    code, err = run_tool(imagenet_images[0], tmp_path, capsys)
    assert code == 1
    assert f'{imagenet_images[0]} is not a PyTorch checkpoint: it is a JPEG image' in err
    assert 'run code' not in err and not (tmp_path / 'out.pth').exists()


def test_diverged_checkpoint_is_refused(tmp_path, capsys):
    state = torchvision_resnet18_state()
    for name in list(state)[:30]:
        if state[name].is_floating_point():
            state[name] = torch.full_like(state[name], float('nan'))
    src = tmp_path / 'epoch_3.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, src)
    code, err = run_tool(src, tmp_path, capsys)
    assert code == 1 and not (tmp_path / 'out.pth').exists()
    assert f'checkpoint {src} has 25 of 100 tensors with NaN or Inf values (e.g. ' \
           f'backbone.conv1.weight): the run that wrote it diverged' in err


@pytest.fixture(scope='module')
def ema_checkpoint(tmp_path_factory):
    """A checkpoint as mmengine's EMAHook saves it (its own before_save_checkpoint swap), of a
    model whose EMA copy differs from the weights trained by gradient; and both backbones."""
    from mmengine.hooks import EMAHook
    from mmengine.model import ExponentialMovingAverage

    from mmpretrain.models import ResNet_CIFAR
    torch.manual_seed(0)
    model = torch.nn.Module()
    model.backbone = ResNet_CIFAR(depth=18)
    hook = EMAHook()
    hook.ema_model = ExponentialMovingAverage(model)
    with torch.no_grad():  # the trained weights move on; the average lags behind
        for parameter in model.parameters():
            parameter.add_(1.0)
    trained = {k: v.clone() for k, v in model.backbone.state_dict().items()}
    averaged = {k: v.clone() for k, v in hook.ema_model.module.backbone.state_dict().items()}
    checkpoint = {'meta': {}, 'state_dict': model.state_dict()}
    hook.before_save_checkpoint(None, checkpoint)
    path = tmp_path_factory.mktemp('ema') / 'epoch_10.pth'
    torch.save(checkpoint, path)
    return path, trained, averaged


@pytest.mark.parametrize('choice', [None, 'averaged', 'trained'])
def test_an_ema_checkpoint_says_which_weights_it_took(choice, ema_checkpoint, tmp_path, capsys):
    src, trained, averaged = ema_checkpoint
    dst = tmp_path / 'backbone.pth'
    args = [str(src), str(dst), '--to', 'mmdet'] + (['--ema', choice] if choice else [])
    assert convert_weights.main(args) == 0
    out = capsys.readouterr().out
    expected = trained if choice == 'trained' else averaged
    written = torch.load(dst, weights_only=True)['state_dict']
    for key, value in expected.items():
        if not key.endswith('num_batches_tracked'):
            assert torch.equal(written[key], value), key
    assert 'dropped other entries: ema_state_dict' not in out and 'meta' in out
    assert ('weights trained by gradient from ema_state_dict' if choice == 'trained'
            else 'took the EMA (averaged) weights') in out


def test_ema_trained_without_ema_weights_is_refused(r50_pretrain_checkpoint, tmp_path, capsys):
    args = [str(r50_pretrain_checkpoint), str(tmp_path / 'x.pth'), '--to', 'mmdet', '--ema',
            'trained']
    assert convert_weights.main(args) == 1
    assert 'holds no ema_state_dict' in capsys.readouterr().err


@pytest.mark.parametrize('to, name, wanted', [('detectron2', 'r50_d2.pth', '.pkl'),
                                              ('mmdet', 'r50.pkl', '.pth / .pt / .bin / .ckpt')])
def test_a_dst_its_reader_would_misread_is_refused_before_src_is_read(tmp_path, capsys, to, name,
                                                                      wanted):
    """detectron2's checkpointer unpickles only a .pkl (any other name goes to torch.load)."""
    src = tmp_path / 'missing.pth'  # never read: the refusal comes first
    code = convert_weights.main([str(src), str(tmp_path / name), '--to', to])
    err = capsys.readouterr().err
    assert code == 1 and f'DST {tmp_path / name}: writes {wanted} files' in err
    assert 'does not exist' not in err and list(tmp_path.iterdir()) == []
