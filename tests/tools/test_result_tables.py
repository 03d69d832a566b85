"""The table and plot tools on work dirs of tiny real runs: pretraining (JigClu-like and
MEJigClu-like), then linear evaluation, detection and segmentation fine-tuning from each; and
on work dirs with a crashed, missing or unreadable result, which are reported, not dropped."""
import json
import re
import shutil
from pathlib import Path

import pytest
from conftest import ROOT
from PIL import Image

PRETRAIN = str(ROOT / 'configs/{0}/{0}_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
DET = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py'
SEG = ROOT / 'configs/mejigclu/benchmarks/mmsegmentation/pspnet_r18-cifar_1xb8-6e_fashion-scenes.py'
LIGHT = ['randomness.seed=0', 'default_hooks.logger.interval=1', 'train_cfg.max_epochs=1']


def run(config, work_dir, *options):
    import train
    train.main([str(config), '--work-dir', str(work_dir), '--cfg-options', *LIGHT, *options])


def loader(name, root, **extra):
    options = [f'{name}.dataset.data_root={root}/', f'{name}.num_workers=0',
               f'{name}.persistent_workers=False']
    return options + [f'{name}.{k}={v}' for k, v in extra.items()]


@pytest.fixture(scope='module')
def pretrain_dirs(tmp_path_factory, fashion_mnist_format_root, fashion_scenes_root):
    root = tmp_path_factory.mktemp('runs')
    dirs = {}
    for method in ('mejigclu', 'jigclu'):
        work_dir = dirs[method] = root / method
        extra = ['model.heads.cls.num_classes=8'] if method == 'mejigclu' else []
        run(PRETRAIN.format(method), work_dir, *extra,
            *loader('train_dataloader', fashion_mnist_format_root, batch_size=8),
            'train_dataloader.dataset.indices=16')
        checkpoint = (work_dir / 'last_checkpoint').read_text().strip()
        backbone = f'model.backbone.init_cfg.checkpoint={checkpoint}'
        run(LINEAR, work_dir / 'linear', backbone, 'train_cfg.val_interval=1',
            *loader('train_dataloader', fashion_mnist_format_root, batch_size=8),
            *loader('val_dataloader', fashion_mnist_format_root, batch_size=8),
            'train_dataloader.dataset.indices=16', 'val_dataloader.dataset.indices=16')
        scenes = [*loader('train_dataloader', fashion_scenes_root, batch_size=4),
                  *loader('val_dataloader', fashion_scenes_root, batch_size=4),
                  'train_dataloader.dataset.indices=4', 'train_cfg.val_interval=1']
        run(DET, work_dir / 'det', backbone, *scenes,
            f'val_evaluator.ann_file={fashion_scenes_root}/annotations/val.json')
        run(SEG, work_dir / 'seg', backbone, *scenes)
    return dirs


def last_logged(work_dir, key):
    """The metric as the run logged it, read straight from its scalars.json."""
    (scalars, ) = Path(work_dir).glob('*/vis_data/scalars.json')
    values = [json.loads(line)[key] for line in scalars.read_text().splitlines()
              if key in json.loads(line)]
    return values[-1]


def parse(table):
    """(header, rows, notes) of a table the tools print."""
    lines = table.splitlines()
    rows = [[c.strip() for c in line.strip('|').split('|')] for line in lines
            if line.startswith('|')]
    return rows[0], rows[2:], [line for line in lines if line.startswith('- ')]


TRANSFER_COLUMNS = ['det AP', 'det AP50', 'det AP75', 'linear top-1', 'seg mIoU', 'seg mAcc',
                    'seg allAcc']


@pytest.mark.slow
def test_ablation_table_has_the_table4_shape(pretrain_dirs, tmp_path):
    import ablation_table
    out = tmp_path / 'ablation.md'
    table = ablation_table.main([str(pretrain_dirs['jigclu']), str(pretrain_dirs['mejigclu']),
                                 '--out', str(out)])
    assert out.read_text() == f'<!-- written by tools/ablation_table.py -->\n{table}\n'
    header, rows, notes = parse(table)
    assert header == ['L_loc', 'L_clu', 'L_cls', 'overlap', *TRANSFER_COLUMNS]
    assert rows[0][:4] == ['✓', '✓', '', '0.3']
    assert rows[1][:4] == ['', '✓', '✓', 'random [0.15, 0.45]']
    assert notes == []
    for row, method in zip(rows, ('jigclu', 'mejigclu')):
        work_dir = pretrain_dirs[method]
        assert row[4] == f"{100 * last_logged(work_dir / 'det', 'coco/bbox_mAP'):.1f}"
        assert row[6] == f"{100 * last_logged(work_dir / 'det', 'coco/bbox_mAP_75'):.1f}"
        assert row[7] == f"{last_logged(work_dir / 'linear', 'accuracy/top1'):.1f}"
        assert row[8] == f"{last_logged(work_dir / 'seg', 'mIoU'):.1f}"


@pytest.mark.slow
def test_results_table_one_row_per_initialisation(pretrain_dirs, tmp_path):
    import results_table
    out = tmp_path / 'results.md'
    table = results_table.main([f'MEJigClu={pretrain_dirs["mejigclu"]}',
                                f'JigClu={pretrain_dirs["jigclu"]}', '--out', str(out)])
    assert out.read_text() == f'<!-- written by tools/results_table.py -->\n{table}\n'
    header, rows, notes = parse(table)
    assert header == ['initialisation', *TRANSFER_COLUMNS]
    assert [r[0] for r in rows] == ['MEJigClu', 'JigClu'] and notes == []
    top1 = last_logged(pretrain_dirs['jigclu'] / 'linear', 'accuracy/top1')
    assert rows[1][4] == f'{top1:.1f}'
    assert rows[1][6] == f"{last_logged(pretrain_dirs['jigclu'] / 'seg', 'mAcc'):.1f}"


def crash_run(work_dir, stamp):
    """What a run that died before evaluating leaves: its timestamp folder with the log and the
    config dump, no scalars."""
    folder = Path(work_dir) / stamp
    (folder / 'vis_data').mkdir(parents=True)
    (folder / f'{stamp}.log').write_text('Traceback (most recent call last):\nRuntimeError\n')
    (folder / 'vis_data' / 'config.py').write_text('')


@pytest.mark.slow
def test_results_table_reports_crashed_and_missing_runs(pretrain_dirs, tmp_path):
    """The newest detection run of one row crashed, another row has no segmentation run, and
    a task nobody ran is expected: every one shows in its cells and in a note."""
    import results_table
    rows = {}
    for name in ('mejigclu', 'jigclu'):
        rows[name] = tmp_path / name
        shutil.copytree(pretrain_dirs[name], rows[name], ignore=shutil.ignore_patterns('*.pth'))
    crash_run(rows['mejigclu'] / 'det', '29991231_235959')
    shutil.rmtree(rows['jigclu'] / 'seg')
    table = results_table.main([f'MEJigClu={rows["mejigclu"]}', f'JigClu={rows["jigclu"]}',
                                '--expect', 'det', 'seg', 'trees'])
    header, cells, notes = parse(table)
    assert header == ['initialisation', *TRANSFER_COLUMNS, 'trees']
    assert cells[0][1:4] == ['no result'] * 3  # det of MEJigClu: its newest run crashed
    assert cells[1][5:8] == ['no run'] * 3  # seg of JigClu
    assert cells[0][8] == cells[1][8] == 'no run'  # trees: expected, run by no one
    assert re.search(r'^- MEJigClu / det: .*/mejigclu/det: its newest run logged no evaluation '
                     r'.*29991231_235959/29991231_235959\.log; an older run \(\d{8}_\d{6}\) has '
                     r'results, not shown$', notes[0])
    assert notes[1:] == [f'- MEJigClu / trees: no run: nothing for it in {rows["mejigclu"]}',
                         f'- JigClu / seg: no run: nothing for it in {rows["jigclu"]}',
                         f'- JigClu / trees: no run: nothing for it in {rows["jigclu"]}']


def test_a_task_whose_only_run_crashed_keeps_its_column(tmp_path):
    import results_table
    (tmp_path / 'knn.json').write_text(json.dumps(
        {'checkpoint': 'x.pth', 'knn': {'20': 70.04}, 'k_used': {'20': 20}}))
    crash_run(tmp_path / 'det', '20260101_000000')
    header, cells, notes = parse(results_table.main([f'random init={tmp_path}']))
    assert header == ['initialisation', 'kNN k=20 top-1', 'det']
    assert cells == [['random init', '70.0', 'no result']]
    assert len(notes) == 1 and notes[0].startswith(f'- random init / det: {tmp_path}/det: its '
                                                   'newest run logged no evaluation')


@pytest.mark.slow
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


@pytest.mark.slow
def test_pretraining_setup_refuses_a_downstream_run(pretrain_dirs):
    from mejigclu_mm.cli.run_logs import pretraining_setup
    with pytest.raises(ValueError, match='no JigsawClustering pretraining run'):
        pretraining_setup(str(pretrain_dirs['jigclu'] / 'linear'))
    assert pretraining_setup(str(pretrain_dirs['mejigclu']))['heads'] == {'clu': 1.0,
                                                                         'cls': 1.0}


def test_results_table_refuses_a_folder_without_runs(tmp_path):
    import results_table
    with pytest.raises(SystemExit, match='no downstream metrics'):
        results_table.main([f'empty={tmp_path}'])


def write_frozen_feature_results(folder, knn, top1, top5):
    folder.mkdir()
    (folder / 'knn.json').write_text(json.dumps(
        {'checkpoint': 'x.pth', 'knn': {'10': 1.0, '20': knn, '100': 2.0, '200': 3.0}}))
    (folder / 'linear_probe.json').write_text(json.dumps(
        {'checkpoint': 'x.pth', 'top1': top1, 'top5': top5, 'l2': 0.01}))


def test_results_table_reads_the_knn_and_probe_results(tmp_path):
    """The JSON files tools/knn_eval.py and tools/linear_probe.py write (--out) become the
    'kNN k=20 top-1' and 'probe top-1 / top-5' columns, next to fine-tuning runs."""
    import results_table
    rows = {'MEJigClu': (86.21, 90.8, 99.1), 'random init': (78.1, 84.7, 98.9)}
    args = []
    for name, values in rows.items():
        write_frozen_feature_results(tmp_path / name.replace(' ', '_'), *values)
        args.append(f'{name}={tmp_path / name.replace(" ", "_")}')
    header, cells, _ = parse(results_table.main(args))
    assert header == ['initialisation', 'kNN k=20 top-1', 'probe top-1', 'probe top-5']
    assert cells == [['MEJigClu', '86.2', '90.8', '99.1'],
                     ['random init', '78.1', '84.7', '98.9']]
    (tmp_path / 'MEJigClu' / 'knn.json').write_text('{"top1": 3}')
    with pytest.raises(SystemExit, match='knn.json: not a result of the tool'):
        results_table.main(args)


@pytest.mark.parametrize('content', ['', '{"knn": {"20": 7', '[1, 2]'])
def test_an_unreadable_result_file_is_named(content, tmp_path):
    import results_table
    write_frozen_feature_results(tmp_path / 'row', 70.0, 80.0, 99.0)
    (tmp_path / 'row' / 'knn.json').write_text(content)
    with pytest.raises(SystemExit, match=re.escape(str(tmp_path / 'row' / 'knn.json'))):
        results_table.main([f'row={tmp_path / "row"}'])


def test_results_table_out_must_be_markdown(tmp_path):
    import results_table
    write_frozen_feature_results(tmp_path / 'row', 70.0, 80.0, 99.0)
    (tmp_path / 'knn_copy.json').write_text('{}')
    with pytest.raises(SystemExit):
        results_table.main([f'row={tmp_path / "row"}', '--out', str(tmp_path / 'knn_copy.json')])
    assert (tmp_path / 'knn_copy.json').read_text() == '{}'


def test_results_table_writes_over_its_own_table_only(tmp_path):
    """Issue 27.4: --out notes.md replaced any .md; now only an earlier table of this tool."""
    import results_table
    write_frozen_feature_results(tmp_path / 'row', 70.0, 80.0, 99.0)
    notes, out = tmp_path / 'notes.md', tmp_path / 'results.md'
    notes.write_text('# my notes\n')
    with pytest.raises(SystemExit, match=f'--out {notes} exists and was not written by '
                       'tools/results_table.py; it is not written over'):
        results_table.main([f'row={tmp_path / "row"}', '--out', str(notes)])
    assert notes.read_text() == '# my notes\n'
    table = results_table.main([f'row={tmp_path / "row"}', '--out', str(out)])
    assert results_table.main([f'row={tmp_path / "row"}', '--out', str(out)]) == table
    assert out.read_text().endswith(table + '\n')
    import ablation_table
    with pytest.raises(SystemExit, match='was written by tools/results_table.py'):
        ablation_table.main([str(tmp_path / 'row'), '--out', str(out)])


@pytest.mark.slow
def test_a_detector_without_detections_has_ap_0(fashion_scenes_root, tmp_path):
    """A detector that makes no detection (every score under the threshold): mmdet logs an
    error and no metric, and the table said the run "stopped before evaluating"."""
    import results_table
    scenes = [*loader('train_dataloader', fashion_scenes_root, batch_size=4),
              *loader('val_dataloader', fashion_scenes_root, batch_size=4),
              'train_dataloader.dataset.indices=4', 'train_cfg.val_interval=1']
    run(DET, tmp_path / 'row' / 'det', 'model.backbone.init_cfg=None',
        'model.test_cfg.rcnn.score_thr=1.01', *scenes,
        f'val_evaluator.ann_file={fashion_scenes_root}/annotations/val.json')
    (log, ) = (tmp_path / 'row' / 'det').glob('*/*.log')
    assert 'The testing results of the whole dataset is empty.' in log.read_text()
    header, cells, notes = parse(results_table.main([f'no detections={tmp_path / "row"}']))
    assert header == ['initialisation', 'det AP', 'det AP50', 'det AP75']
    assert cells == [['no detections', '0.0', '0.0', '0.0']] and notes == []
