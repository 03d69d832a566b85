"""tools/linear_probe.py end to end on real images in Fashion-MNIST's format."""
import json

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
