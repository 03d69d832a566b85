"""tools/compare.py with tiny arms on real Fashion-MNIST images and scenes: paired runs of two
identical arms are identical, a killed comparison continues, a folder holds one comparison;
the report resolves a consistent difference and not a null one."""
import json
import shutil

import pytest
from conftest import ROOT
from warm_python import warm_subprocess

import compare as compare_tool
from mejigclu_mm.cli.comparison import jobs

JIGCLU = str(ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
LINEAR = str(ROOT / 'configs/mejigclu/benchmarks/'
             'resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py')


def spec_file(tmp_path, data_root, scenes, **changes):
    loader = {'num_workers': 0, 'persistent_workers': False}
    spec = dict(
        arms=dict(A=JIGCLU, B=JIGCLU), baseline='random init', seeds=[0, 1],
        pretrain_options={'train_dataloader.dataset.data_root': str(data_root),
                          'train_dataloader.dataset.indices': 16,
                          'train_dataloader.batch_size': 8,
                          **{f'train_dataloader.{k}': v for k, v in loader.items()},
                          'train_cfg.max_epochs': 1, 'param_scheduler.0.T_max': 1,
                          'param_scheduler.0.end': 1, 'default_hooks.checkpoint.interval': 1},
        frozen_probes=dict(config=LINEAR, options={
            'train_dataloader.dataset.data_root': str(data_root),
            'val_dataloader.dataset.data_root': str(data_root),
            **{f'{split}.{k}': v for split in ('train_dataloader', 'val_dataloader')
               for k, v in loader.items()}}),
        dense_probes=dict(scenes=str(scenes), train_scenes=0, test_split='test'),
        contrasts=[('A', 'B'), ('A', 'random init')], report_losses=['loss_loc'])
    spec.update(changes)
    path = tmp_path / 'comparison.py'
    path.write_text('\n'.join(f'{key} = {value!r}' for key, value in spec.items()) + '\n')
    return str(path)


@pytest.fixture(scope='module')
def identical(tmp_path_factory, fashion_mnist_format_root, fashion_scenes_root):
    """A comparison of its ten jobs, forked from a warm interpreter (warm_python.py; jobs as
    real processes: tests/cli/comparison/test_jobs.py)."""
    root = tmp_path_factory.mktemp('compare')
    spec = spec_file(root, fashion_mnist_format_root, fashion_scenes_root)
    work_dir = root / 'work'
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jobs, 'subprocess', warm_subprocess())
        report = compare_tool.main([spec, '--work-dir', str(work_dir), '--jobs', '2',
                                    '--threads', '1'])
    return spec, work_dir, report


@pytest.mark.slow  # pretrains and probes 4 tiny runs
def test_two_identical_arms_differ_by_exactly_zero_and_are_not_resolved(identical):
    _, work_dir, report = identical
    results = json.loads((work_dir / 'results.json').read_text())
    assert results['seeds'] == [0, 1] and results['missing'] == []
    assert set(results['values']) == {'knn', 'probe', 'seg_miou', 'seg_garment_miou',
                                      'seg_fg_iou', 'naming'}
    for metric, analysis in results['analysis'].items():
        same = analysis['contrasts'][0]
        assert (same['first'], same['second']) == ('A', 'B')
        assert same['differences'] == [0.0, 0.0], metric
        assert same['low'] <= 0 <= same['high'] and not same['resolved']
    assert 'A - B: +0.00 [+0.00, +0.00] probe top-1 points: not resolved' in report['markdown']
    # common random numbers: the arms of a seed started from the saved initial backbone
    for seed in (0, 1):
        config = (work_dir / f'seed{seed}' / 'A.py').read_text()
        assert f"seed{seed}/initial_backbone.pth'" in config and f'random_seed={seed}' in config
        assert "type='DisjointSubsetBatchSampler'" in config
    assert (work_dir / 'paired_seeds.png').stat().st_size > 1000
    losses = results['losses']['A']
    assert len(losses) == 2 and all('loss_loc' in run for run in losses)


@pytest.mark.slow
def test_a_killed_comparison_continues_with_the_runs_it_lacks(identical, capsys, monkeypatch):
    spec, work_dir, _ = identical
    monkeypatch.setattr(jobs, 'subprocess', warm_subprocess())
    before = json.loads((work_dir / 'results.json').read_text())
    (work_dir / 'seed1' / 'B' / 'probes.json').unlink()  # killed while probing B of seed 1
    capsys.readouterr()
    # the same thread count as the first call: the L-BFGS fits are deterministic for one
    compare_tool.main([spec, '--work-dir', str(work_dir), '--threads', '1'])
    out = capsys.readouterr().out
    assert out.count('started ') == 1 and 'started seed 1 B: probes' in out
    assert json.loads((work_dir / 'results.json').read_text())['values'] == before['values']


@pytest.mark.slow
def test_a_folder_holds_one_comparison(identical, tmp_path, fashion_mnist_format_root,
                                       fashion_scenes_root):
    _, work_dir, _ = identical
    other = spec_file(tmp_path, fashion_mnist_format_root, fashion_scenes_root,
                      contrasts=[('B', 'random init')])
    with pytest.raises(SystemExit, match=r'holds another comparison: contrasts'):
        compare_tool.main([other, '--work-dir', str(work_dir), '--report-only'])
    (tmp_path / 'notes').mkdir()
    (tmp_path / 'notes' / 'mine.txt').write_text('mine')
    with pytest.raises(SystemExit, match='is not empty and holds no comparison.json'):
        compare_tool.main([other, '--work-dir', str(tmp_path / 'notes')])


def test_the_report_resolves_a_consistent_difference_not_a_null_one(tmp_path,
                                                                    fashion_mnist_format_root,
                                                                    fashion_scenes_root):
    """Probes as a pretrained arm and the random baseline give them, three seeds."""
    spec = spec_file(tmp_path, fashion_mnist_format_root, fashion_scenes_root,
                     arms=dict(pretrained=JIGCLU, twin=JIGCLU), seeds=[0, 1, 2],
                     contrasts=[('pretrained', 'random init'), ('twin', 'pretrained')])
    work_dir = tmp_path / 'work'
    with pytest.raises(SystemExit, match='no seed of .* has probes of every arm yet'):
        compare_tool.main([spec, '--work-dir', str(work_dir), '--report-only'])
    probes = {'pretrained': [81.6, 80.9, 82.2], 'twin': [81.5, 81.1, 82.0],
              'random-init': [78.7, 79.1, 79.9]}
    for arm, values in probes.items():
        for seed, value in enumerate(values):
            folder = work_dir / f'seed{seed}' / arm
            folder.mkdir(parents=True)
            (folder / 'probes.json').write_text(json.dumps(dict(knn=value - 5, probe=value)))
    report = compare_tool.main([spec, '--work-dir', str(work_dir), '--report-only'])
    text = report['markdown']
    verdicts = text.split('Verdicts')[1]
    assert 'pretrained - random init: +2.33 [' in verdicts
    assert 'probe top-1 points: resolved (pretrained higher' in verdicts
    assert 'twin - pretrained: -0.03 [' in verdicts
    assert verdicts.split('twin - pretrained')[1].split('\n')[0].count('not resolved') == 1


def test_bad_comparison_configs_are_named(tmp_path, fashion_mnist_format_root,
                                          fashion_scenes_root):
    bad = spec_file(tmp_path, fashion_mnist_format_root, fashion_scenes_root,
                    contrasts=[('A', 'C')])
    with pytest.raises(SystemExit, match=r"contrast \('A', 'C'\) must name two of the arms"):
        compare_tool.main([bad, '--work-dir', str(tmp_path / 'w')])
    with pytest.raises(SystemExit, match='--seeds 5: the config lists 2 seeds'):
        compare_tool.main([spec_file(tmp_path, fashion_mnist_format_root, fashion_scenes_root),
                           '--work-dir', str(tmp_path / 'w'), '--seeds', '5'])
    assert not (tmp_path / 'w').exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_arms_picks_arms_and_their_contrasts(capsys):
    """``--arms`` (the demo's optional MoCo / ablation arms) keeps the named arms, the
    baseline and the contrasts among them, says which contrasts it leaves out, and refuses a
    name that is no arm."""
    from mejigclu_mm.cli.comparison.spec import ComparisonError, load_spec
    config = str(ROOT / 'configs/comparisons/mejigclu-vs-peers_resnet18-cifar_fashion-mnist.py')
    spec = load_spec(config)
    compare_tool.select_arms(spec, ['MEJigClu', 'JigClu', 'MoCo v2'])
    assert set(spec.arms) == {'MEJigClu', 'JigClu', 'MoCo v2'}
    assert len(spec.contrasts) == 5 and all('cls+clu @ 0.3' not in c for c in spec.contrasts)
    assert "leaves out the contrasts MEJigClu - cls+clu @ 0.3, cls+clu @ 0.3 - JigClu" in (
        capsys.readouterr().out)
    with pytest.raises(ComparisonError, match=r"--arms \['BYOL'\]: not arms of the config"):
        compare_tool.select_arms(load_spec(config), ['BYOL'])
