"""tools/linear_probe.py end to end on real images in Fashion-MNIST's format."""
import json

import pytest
import torch
from mmengine.config import Config
from test_knn_eval import LINEAR, loader_options, save_pretraining_checkpoint


def test_linear_probe_writes_top1_top5_and_the_chosen_l2(fashion_mnist_format_root, tmp_path,
                                                          capsys):
    import linear_probe
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    out = tmp_path / 'probe.json'
    grid = ['1e-3', '1e-1']
    results = linear_probe.main([str(LINEAR), checkpoint, '--out', str(out), '--l2-grid', *grid,
                                 '--batch-size', '32', '--max-iter', '50', '--cfg-options',
                                 *loader_options(fashion_mnist_format_root)])
    written = json.loads(out.read_text())
    assert written == results
    assert {'checkpoint', 'config', 'top1', 'top5', 'l2', 'holdout_top1', 'num_train',
            'num_test'} <= written.keys()
    assert 0 <= written['top1'] <= written['top5'] <= 100
    assert written['l2'] in (1e-3, 1e-1) and list(written['holdout_top1']) == ['0.001', '0.1']
    assert (written['num_train'], written['num_test']) == (60, 20)
    assert (written['num_fit'], written['num_holdout']) == (48, 12)
    assert f'top-1 {written["top1"]:.2f} top-5 {written["top5"]:.2f}' in capsys.readouterr().out


def test_random_init_on_a_subset(fashion_mnist_format_root):
    """``--random-init`` and a training subset through --cfg-options (as for big data sets)."""
    import linear_probe
    results = linear_probe.main([str(LINEAR), '--random-init', '--l2-grid', '1e-2',
                                 '--max-iter', '20', '--batch-size', '32', '--cfg-options',
                                 'train_dataloader.dataset.indices=25',
                                 *loader_options(fashion_mnist_format_root)])
    assert results['checkpoint'] == 'none' and results['l2'] == 1e-2
    assert (results['num_train'], results['num_fit'], results['num_holdout']) == (25, 20, 5)
    assert 0 <= results['top1'] <= 100


def test_nan_features_are_refused_naming_the_file(fashion_mnist_format_root, tmp_path):
    """A NaN feature set (from a cache here; a diverged backbone gives the same) is refused
    before the solver, naming where it comes from."""
    import linear_probe

    from mejigclu_mm.evaluation.feature_cache import cache_key, save_cache
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    cache = tmp_path / 'features.pth'
    argv = [str(LINEAR), checkpoint, '--features', str(cache), '--device', 'cpu',
            '--cfg-options', *loader_options(fashion_mnist_format_root)]
    cfg = Config.fromfile(LINEAR)
    cfg.merge_from_dict(linear_probe.parse_args(argv).cfg_options)  # as the tool merges them
    bank = torch.randn(60, 8)
    bank[[3, 7]] = float('nan')
    save_cache(str(cache), cache_key(cfg, checkpoint, 'auto', 0, random_init=False),
               dict(bank=bank, bank_labels=torch.arange(60) % 10, query=torch.randn(20, 8),
                    query_labels=torch.arange(20) % 10, num_classes=10, checkpoint=checkpoint))
    with pytest.raises(SystemExit, match=f'the features cached in {cache}: 2 of 60 train '
                       r'\(bank\) features hold NaN or Inf values'):
        linear_probe.main(argv)
