"""tools/test.py evaluates a checkpoint with a config's test loop."""
import json

import pytest
from conftest import ROOT

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


@pytest.mark.slow
def test_evaluates_a_trained_checkpoint(fashion_mnist_format_root, tmp_path):
    import test as test_tool

    import train
    loader = [f'{name}.{key}' for name in ('train_dataloader', 'val_dataloader', 'test_dataloader')
              for key in (f'dataset.data_root={fashion_mnist_format_root}', 'num_workers=0',
                          'persistent_workers=False', 'batch_size=8')]
    train.main([str(LINEAR), '--work-dir', str(tmp_path / 'train'), '--cfg-options',
                'model.backbone.init_cfg=None', 'train_cfg.max_epochs=1', *loader])
    out = tmp_path / 'metrics.json'
    metrics = test_tool.main([str(LINEAR), str(tmp_path / 'train' / 'epoch_1.pth'),
                              '--work-dir', str(tmp_path / 'test'), '--out', str(out),
                              '--cfg-options', 'model.backbone.init_cfg=None', *loader])
    assert 0 <= metrics['accuracy/top1'] <= 100
    assert json.loads(out.read_text())['accuracy/top1'] == metrics['accuracy/top1']


@pytest.mark.slow
def test_refuses_a_pretraining_checkpoint_for_a_linear_config(tmp_path):
    import test as test_tool

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    pretrain = Config.fromfile(
        ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    src = tmp_path / 'epoch_100.pth'
    torch.save({'state_dict': MODELS.build(pretrain.model).state_dict()}, src)
    with pytest.raises(SystemExit) as error:
        test_tool.main([str(LINEAR), str(src), '--work-dir', str(tmp_path / 'test')])
    message = str(error.value.code)
    assert f'test: {src} does not hold the model of {LINEAR}' in message
    assert '2 of its 102 tensors are missing: head.fc.weight, head.fc.bias' in message
    assert "Its keys start with: ['backbone', " in message and "'heads']" in message
    assert f'model.backbone.init_cfg.checkpoint={src}' in message


@pytest.mark.slow
def test_refuses_an_incomplete_checkpoint(tmp_path):
    import test as test_tool
    src = tmp_path / 'epoch_1.pth'
    src.write_bytes(b'')
    with pytest.raises(SystemExit, match=f'test: {src}: checkpoint {src} is incomplete'):
        test_tool.main([str(LINEAR), str(src), '--work-dir', str(tmp_path / 'test'),
                        '--cfg-options', 'model.backbone.init_cfg=None'])


@pytest.mark.slow
def test_refuses_a_checkpoint_with_nan_weights(tmp_path):
    import test as test_tool

    import torch
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    cfg = Config.fromfile(LINEAR)
    cfg.model.backbone.init_cfg = None
    state = MODELS.build(cfg.model).state_dict()
    state['head.fc.weight'] = torch.full_like(state['head.fc.weight'], float('nan'))
    src = tmp_path / 'epoch_100.pth'
    torch.save({'state_dict': state}, src)
    with pytest.raises(SystemExit) as error:
        test_tool.main([str(LINEAR), str(src), '--work-dir', str(tmp_path / 'test'),
                        '--cfg-options', 'model.backbone.init_cfg=None'])
    assert str(error.value.code).startswith(
        f'test: checkpoint {src} has 1 of 102 tensors with NaN or Inf values (e.g. '
        f'head.fc.weight): the run that wrote it diverged')


@pytest.mark.slow
def test_names_a_file_that_is_no_checkpoint(tmp_path):
    import test as test_tool
    src = tmp_path / 'epoch_1.pth'
    src.write_text('<!DOCTYPE html><html><title>404 Not Found</title></html>')
    with pytest.raises(SystemExit, match=f'test: {src}: {src} is not a PyTorch checkpoint: it is '
                                         f'an HTML page'):
        test_tool.main([str(LINEAR), str(src), '--work-dir', str(tmp_path / 'test'),
                        '--cfg-options', 'model.backbone.init_cfg=None'])


def test_out_is_checked_before_any_work(tmp_path):
    """Issue 27.4: --out x.pth ran the whole test before failing on the suffix, and --out
    replaced any file (a detectron2 .pkl, a knn.json). Refused before the config is read."""
    import pickle

    import test as test_tool
    missing = str(tmp_path / 'no_such_checkpoint.pth')
    with pytest.raises(SystemExit, match=r'--out .*x.pth: writes .json / .yaml / .yml / .pkl'):
        test_tool.main([str(LINEAR), missing, '--out', str(tmp_path / 'x.pth')])
    foreign = tmp_path / 'model_final.pkl'
    foreign.write_bytes(pickle.dumps({'model': {'w': [1.0]}, '__author__': 'detectron2'}))
    knn = tmp_path / 'knn.json'
    knn.write_text('{"knn": {"top1": 50.0}}')
    for path in (foreign, knn):
        before = path.read_bytes()
        with pytest.raises(SystemExit, match=f'--out {path} exists and was not written by '
                           'tools/test.py'):
            test_tool.main([str(LINEAR), missing, '--out', str(path)])
        assert path.read_bytes() == before
    with pytest.raises(SystemExit, match='is an input of this tool'):
        test_tool.main([str(LINEAR), str(knn), '--out', str(knn)])
