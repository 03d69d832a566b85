"""tools/test.py evaluates a checkpoint with a config's test loop."""
import json

from conftest import ROOT

LINEAR = ROOT / 'configs/linear/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


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
