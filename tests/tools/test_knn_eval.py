"""tools/knn_eval.py end to end on real images in Fashion-MNIST's format."""
import json

import pytest
import torch

from conftest import ROOT

LINEAR = ROOT / 'configs/linear/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


def loader_options(root):
    return [f'{loader}.{option}' for loader in ('train_dataloader', 'val_dataloader')
            for option in (f'dataset.data_root={root}', 'num_workers=0',
                           'persistent_workers=False')]


def save_pretraining_checkpoint(path):
    """A random ResNet_CIFAR-18 saved as the pretraining writes it (``backbone.`` keys)."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=18)).state_dict()
    torch.save({'meta': {'epoch': 1}, 'state_dict': {f'backbone.{k}': v for k, v in state.items()}},
               path)
    return str(path)


def test_knn_eval_writes_top1_per_k(fashion_mnist_format_root, tmp_path, capsys):
    import knn_eval
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    out = tmp_path / 'knn.json'
    results = knn_eval.main([str(LINEAR), checkpoint, '--out', str(out), '--batch-size', '32',
                             '--k', '1', '10', '20', '100', '200', '--device', 'cpu',
                             '--cfg-options', *loader_options(fashion_mnist_format_root)])
    written = json.loads(out.read_text())
    assert written == results
    assert {'checkpoint', 'config', 'knn', 'num_bank', 'num_query'} <= written.keys()
    assert written['checkpoint'] == checkpoint and written['config'] == str(LINEAR)
    assert (written['num_bank'], written['num_query']) == (60, 20)
    assert list(written['knn']) == ['1', '10', '20', '100', '200']  # 100, 200 > 60: whole bank
    assert all(0 <= v <= 100 for v in written['knn'].values())
    # The 20 query images are also in the bank: with k = 1 each finds itself.
    assert written['knn']['1'] == 100.0
    printed = capsys.readouterr().out
    assert f'k=20 top-1 {written["knn"]["20"]:.2f}' in printed


def test_defaults_random_init_and_a_missing_checkpoint(tmp_path):
    import knn_eval
    from mejigclu_mm.evaluation.cli import checkpoint_from_args
    args = knn_eval.parse_args([str(LINEAR), 'ckpt.pth'])
    assert (args.k, args.temperature, args.prefix) == ([10, 20, 100, 200], 0.07, 'auto')
    assert checkpoint_from_args(knn_eval.parse_args([str(LINEAR), 'none'])) == 'none'
    assert checkpoint_from_args(knn_eval.parse_args([str(LINEAR), '--random-init'])) == 'none'
    with pytest.raises(SystemExit, match='give a CHECKPOINT'):
        knn_eval.main([str(LINEAR)])
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit, match='missing.pth does not exist'):
        knn_eval.main([str(LINEAR), missing])


def test_the_feature_cache_is_shared_and_only_reused_for_the_same_inputs(
        fashion_mnist_format_root, tmp_path, capsys):
    import knn_eval
    import linear_probe
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    cache = tmp_path / 'features.pth'
    common = [str(LINEAR), checkpoint, '--features', str(cache), '--device', 'cpu',
              '--batch-size', '32', '--cfg-options', *loader_options(fashion_mnist_format_root)]
    first = knn_eval.main(common)
    assert cache.is_file() and 'from ' + str(cache) not in capsys.readouterr().out
    again = knn_eval.main(common)
    assert again['knn'] == first['knn'] and f'from {cache}' in capsys.readouterr().out
    linear_probe.main(common)  # the probe reads the same features
    assert f'from {cache}' in capsys.readouterr().out
    other = common[:-len(loader_options(fashion_mnist_format_root))] + loader_options(
        fashion_mnist_format_root) + ['train_dataloader.dataset.indices=30']
    assert knn_eval.main(other)['num_bank'] == 30  # other options: extracted anew
    assert 'extracting anew' in capsys.readouterr().out
