"""The table and plot tools on work dirs of tiny real runs: pretraining (JigClu-like and
MEJigClu-like), then linear evaluation and detection fine-tuning from each."""
import json
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT

PRETRAIN = ROOT / 'configs/pretrain/{}_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
LINEAR = ROOT / 'configs/linear/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
DET = ROOT / 'configs/det/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py'
LIGHT = ['randomness.seed=0', 'default_hooks.logger.interval=1', 'train_cfg.max_epochs=1']


def run(config, work_dir, *options):
    import train
    train.main([str(config), '--work-dir', str(work_dir), '--cfg-options', *LIGHT, *options])


def loader(name, root, **extra):
    options = [f'{name}.dataset.data_root={root}', f'{name}.num_workers=0',
               f'{name}.persistent_workers=False']
    return options + [f'{name}.{k}={v}' for k, v in extra.items()]


@pytest.fixture(scope='module')
def pretrain_dirs(tmp_path_factory, fashion_mnist_format_root, deepforest_coco_root):
    root = tmp_path_factory.mktemp('runs')
    dirs = {}
    for method in ('mejigclu', 'jigclu'):
        work_dir = dirs[method] = root / method
        extra = ['model.heads.cls.num_classes=8', 'train_dataloader.sampler.batch_size=8'
                 ] if method == 'mejigclu' else []
        run(PRETRAIN.parent / PRETRAIN.name.format(method), work_dir, *extra,
            *loader('train_dataloader', fashion_mnist_format_root, batch_size=8),
            'train_dataloader.dataset.indices=16')
        checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
        run(LINEAR, work_dir / 'linear', f'model.backbone.init_cfg.checkpoint={checkpoint}',
            'train_cfg.val_interval=1',
            *loader('train_dataloader', fashion_mnist_format_root, batch_size=8),
            *loader('val_dataloader', fashion_mnist_format_root, batch_size=8),
            'train_dataloader.dataset.indices=16', 'val_dataloader.dataset.indices=16')
        run(DET, work_dir / 'det', 'model.backbone.init_cfg=None', 'train_cfg.val_interval=1',
            *loader('train_dataloader', deepforest_coco_root, batch_size=2),
            *loader('val_dataloader', deepforest_coco_root, batch_size=2),
            'train_dataloader.dataset.indices=2', 'val_dataloader.dataset.indices=2',
            f'val_evaluator.ann_file={deepforest_coco_root}/annotations/val.json')
    return dirs


def last_logged(work_dir, key):
    """The metric as the run logged it, read straight from its scalars.json."""
    (scalars, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    values = [json.loads(line)[key] for line in scalars.read_text().splitlines()
              if key in json.loads(line)]
    return values[-1]


def parse(table):
    rows = [[c.strip() for c in line.strip('|').split('|')] for line in table.splitlines()]
    return rows[0], rows[2:]


def test_ablation_table_has_the_table4_shape(pretrain_dirs):
    import ablation_table
    header, rows = parse(ablation_table.main([str(pretrain_dirs['jigclu']),
                                              str(pretrain_dirs['mejigclu'])]))
    assert header == ['L_loc', 'L_clu', 'L_cls', 'overlap', 'det AP', 'det AP50', 'det AP75',
                      'linear top-1']
    assert rows[0][:4] == ['✓', '✓', '', '0.3']
    assert rows[1][:4] == ['', '✓', '✓', 'random [0.15, 0.45]']
    for row, method in zip(rows, ('jigclu', 'mejigclu')):
        work_dir = pretrain_dirs[method]
        assert row[4] == f"{100 * last_logged(work_dir / 'det', 'coco/bbox_mAP'):.1f}"
        assert row[6] == f"{100 * last_logged(work_dir / 'det', 'coco/bbox_mAP_75'):.1f}"
        assert row[7] == f"{last_logged(work_dir / 'linear', 'accuracy/top1'):.1f}"


def test_results_table_one_row_per_initialisation(pretrain_dirs, tmp_path):
    import results_table
    out = tmp_path / 'results.md'
    table = results_table.main([f'MEJigClu={pretrain_dirs["mejigclu"]}',
                                f'JigClu={pretrain_dirs["jigclu"]}', '--out', str(out)])
    assert out.read_text().strip() == table
    header, rows = parse(table)
    assert header == ['initialisation', 'det AP', 'det AP50', 'det AP75', 'linear top-1']
    assert [r[0] for r in rows] == ['MEJigClu', 'JigClu']
    top1 = last_logged(pretrain_dirs['jigclu'] / 'linear', 'accuracy/top1')
    assert rows[1][4] == f'{top1:.1f}'


def test_results_table_refuses_a_folder_without_runs(tmp_path):
    import results_table
    with pytest.raises(SystemExit, match='no downstream metrics'):
        results_table.main([f'empty={tmp_path}'])


def test_plot_curves_writes_losses_and_knn_pngs_per_run(pretrain_dirs, tmp_path):
    import plot_curves
    paths = plot_curves.main([str(pretrain_dirs['mejigclu']), str(pretrain_dirs['jigclu']),
                              '--out-dir', str(tmp_path)])
    # the Fashion-MNIST pretraining base runs KNNMonitorHook, so each run has a kNN plot too
    assert [Path(p).name for p in paths] == ['mejigclu_losses.png', 'mejigclu_knn.png',
                                             'jigclu_losses.png', 'jigclu_knn.png']
    for path in paths:
        with Image.open(path) as image:
            assert image.format == 'PNG' and image.width >= 500


def test_pretraining_setup_refuses_a_downstream_run(pretrain_dirs):
    from mejigclu_mm.utils.run_logs import pretraining_setup
    with pytest.raises(ValueError, match='no JigsawClustering pretraining run'):
        pretraining_setup(str(pretrain_dirs['jigclu'] / 'linear'))
    assert pretraining_setup(str(pretrain_dirs['mejigclu']))['heads'] == {'clu': 1.0,
                                                                         'cls': 1.0}


def test_results_table_reads_the_knn_and_probe_results(tmp_path):
    """The JSON files tools/knn_eval.py and tools/linear_probe.py write (--out) become the
    'kNN k=20 top-1' and 'probe top-1 / top-5' columns, next to fine-tuning runs."""
    import results_table
    rows = {'MEJigClu': (86.21, 90.8, 99.1), 'random init': (78.1, 84.7, 98.9)}
    args = []
    for name, (knn, top1, top5) in rows.items():
        folder = tmp_path / name.replace(' ', '_')
        folder.mkdir()
        (folder / 'knn.json').write_text(json.dumps(
            {'checkpoint': 'x.pth', 'knn': {'10': 1.0, '20': knn, '100': 2.0, '200': 3.0}}))
        (folder / 'linear_probe.json').write_text(json.dumps(
            {'checkpoint': 'x.pth', 'top1': top1, 'top5': top5, 'l2': 0.01}))
        args.append(f'{name}={folder}')
    header, cells = parse(results_table.main(args))
    assert header == ['initialisation', 'kNN k=20 top-1', 'probe top-1', 'probe top-5']
    assert cells == [['MEJigClu', '86.2', '90.8', '99.1'],
                     ['random init', '78.1', '84.7', '98.9']]
    (tmp_path / 'MEJigClu' / 'knn.json').write_text('{"top1": 3}')
    with pytest.raises(ValueError, match='knn.json: not a result of the tool'):
        results_table.main(args)
