"""tools/train.py runs the small real-data pretraining configs; its options build the config."""
import math

import numpy as np
import pytest
from conftest import ROOT

# ResNet-18 at a quarter of its width (layer4: 128 channels): the configs' structure at a tenth
# of the CPU time
SMALL = ['model.backbone.stem_channels=16', 'model.backbone.base_channels=16']
SMALL_HEADS = {'mejigclu': ['model.heads.clu.in_channels=128', 'model.heads.cls.in_channels=128'],
               'jigclu': ['model.heads.clu.in_channels=128', 'model.heads.loc.in_channels=128'],
               'moco': ['model.neck.in_channels=128']}

CONFIGS = {
    'mejigclu': 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    'jigclu': 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
}


def train(config, data_root, work_dir, extra=(), batch_options=None):
    import train as train_tool
    batch = batch_options(config, 8) if batch_options else ['train_dataloader.batch_size=8']
    options = [
        f'train_dataloader.dataset.data_root={data_root}', *batch,
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'train_cfg.max_epochs=4', 'param_scheduler.0.T_max=4', 'param_scheduler.0.end=4',
        'default_hooks.logger.interval=1', 'randomness.seed=0', *extra]
    return train_tool.main([str(ROOT / config), '--work-dir', str(work_dir), '--cfg-options',
                            *options])


@pytest.mark.slow
@pytest.mark.parametrize('name', ['mejigclu', 'jigclu'])
def test_a_few_iterations_on_real_images(name, fashion_mnist_format_root, tmp_path,
                                         batch_options):
    """What cannot flip with BLAS, thread count or a library's patch version: the number of
    steps, finite losses, chance-level losses before the first update (a fact about the
    initialisation, with a wide margin), the learning rate of every step (the cosine schedule,
    exact arithmetic), weights that moved, and the checkpoints. Whether 28 CPU steps already
    lower the loss is not asserted: it is a small difference that drifts with all of these."""
    import torch
    runner = train(CONFIGS[name], fashion_mnist_format_root, tmp_path,
                   ['default_hooks.checkpoint.interval=2', *SMALL, *SMALL_HEADS[name]],
                   batch_options)
    hub = runner.message_hub
    totals = np.asarray(hub.get_scalar('train/loss').data[0])
    assert len(totals) == 28  # 60 images // 8 per batch = 7 iterations x 4 epochs
    assert np.all(np.isfinite(totals))
    first = {k: hub.get_scalar(f'train/{k}').data[0][0] for k in ('loss_clu', 'loss_cls',
                                                                    'loss_loc')
             if f'train/{k}' in hub.log_scalars}
    n = 8
    # Before any update: the clustering loss is (T / T_base) log(4n - 1) whenever the embeddings
    # are alike (untrained ones are), whatever their values; the classification / location
    # losses are cross-entropies over n / 4 classes near chance (only near: the logits of a
    # random head are not 0, so a wide band).
    assert first['loss_clu'] == pytest.approx((0.3 / 0.07) * math.log(4 * n - 1), rel=0.1)
    if name == 'mejigclu':
        assert first['loss_cls'] == pytest.approx(math.log(n), rel=0.5)
    else:
        assert first['loss_loc'] == pytest.approx(math.log(4), rel=0.5)
    # SGD lr 0.03, cosine to 0 over 4 epochs, stepped per epoch (by_epoch=True)
    lrs = np.asarray(hub.get_scalar('train/lr').data[0])
    expected = [0.03 * (1 + math.cos(math.pi * (i // 7) / 4)) / 2 for i in range(28)]
    np.testing.assert_allclose(lrs, expected, rtol=1e-9)
    assert (tmp_path / 'epoch_4.pth').exists()  # the last epoch is always saved
    assert (tmp_path / 'last_checkpoint').read_text().strip() == str(tmp_path / 'epoch_4.pth')
    from mejigclu_mm.runtime import load_checkpoint_file
    weights = [load_checkpoint_file(tmp_path / f'epoch_{e}.pth')['state_dict']
               for e in (2, 4)]
    moved = [k for k, v in weights[0].items() if v.is_floating_point()
             and not torch.equal(v, weights[1][k])]
    assert any(k.startswith('backbone.') for k in moved)
    assert any(k.startswith('heads.') for k in moved)


@pytest.mark.slow
def test_mocov2_peer_config_trains_and_converts(fashion_mnist_format_root, tmp_path):
    """The MoCo v2 row of `make demo`: mmpretrain's MoCo on the same data and backbone trains
    through tools/train.py, and its query encoder (not the momentum encoder) is what the
    converter hands to mmdet."""
    import convert_weights
    import torch
    config = 'configs/mocov2/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
    runner = train(config, fashion_mnist_format_root, tmp_path / 'moco',
                   [*SMALL, *SMALL_HEADS['moco']])
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 28 and np.all(np.isfinite(losses))
    model = runner.model
    # The queue took 28 batches of 8 keys: 224 of its 4096 slots were written.
    assert int(model.queue_ptr) == 28 * 8
    from mejigclu_mm.runtime import load_checkpoint_file
    checkpoint = load_checkpoint_file(tmp_path / 'moco' / 'epoch_4.pth')['state_dict']
    dst = tmp_path / 'moco_mmdet.pth'
    assert convert_weights.main([str(tmp_path / 'moco' / 'epoch_4.pth'), str(dst),
                                 '--to', 'mmdet']) == 0
    converted = torch.load(dst, weights_only=True)['state_dict']
    assert len(converted) == len(model.backbone.state_dict())
    for key, value in converted.items():
        assert torch.equal(value, checkpoint[f'backbone.{key}']), key
    # The two encoders differ after training (the momentum encoder, mmpretrain's encoder_k,
    # moves 0.1 % per step), so the comparison above tells which one was converted.
    query = checkpoint['backbone.conv1.weight']
    key = checkpoint['encoder_k.module.0.conv1.weight']
    assert not torch.equal(query, key)


def merged(argv):
    import train as train_tool
    from mmengine.config import Config
    args = train_tool.parse_args(argv)
    return train_tool.merge_args(Config.fromfile(args.config), args)


@pytest.mark.parametrize('flags, dtype', [(['--amp'], None),
                                          (['--amp-dtype', 'float16'], 'float16'),
                                          (['--amp-dtype', 'bfloat16'], 'bfloat16'),
                                          (['--amp', '--amp-dtype', 'bfloat16'], 'bfloat16')])
def test_amp_options_give_mmengines_amp_optim_wrapper(flags, dtype):
    cfg = merged([str(ROOT / CONFIGS['mejigclu']), *flags])
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper' and wrapper.loss_scale == 'dynamic'
    assert wrapper.get('dtype') == dtype  # None: autocast's default, float16 on CUDA
    assert wrapper.optimizer.type == 'SGD'  # the config's optimizer is kept


def test_amp_without_a_gpu_is_refused_with_what_to_do(tmp_path):
    import train as train_tool
    from mmengine.device import get_device
    if get_device() != 'cpu':
        pytest.skip('this machine has an accelerator: AMP runs here')
    with pytest.raises(SystemExit, match=r'--amp / --amp-dtype \(bfloat16\) needs a GPU.*'
                       'Train without --amp'):
        train_tool.main([str(ROOT / CONFIGS['mejigclu']), '--work-dir', str(tmp_path),
                         '--amp-dtype', 'bfloat16'])


def test_a_config_that_names_no_runner_gets_the_guarded_runner():
    """Our configs name GuardedRunner themselves; one from elsewhere gets it here."""
    from mmengine.config import Config
    cfg = merged([str(ROOT / CONFIGS['jigclu'])])
    assert cfg.runner_type == 'mmpretrain.GuardedRunner'
    assert Config.fromfile(ROOT / CONFIGS['jigclu']).runner_type == cfg.runner_type
    import train as train_tool
    foreign = Config(dict(model=dict(type='x')))
    args = train_tool.parse_args(['foreign.py'])
    assert train_tool.merge_args(foreign, args).runner_type == 'mmpretrain.GuardedRunner'


# --- nothing lost: the work dir (refusals before anything is built) ---

def test_a_new_run_into_a_work_dir_with_checkpoints_needs_resume_or_overwrite(tmp_path):
    import train as train_tool
    (tmp_path / 'epoch_1.pth').write_bytes(b'an earlier run')
    with pytest.raises(SystemExit, match=rf'work dir {tmp_path} holds checkpoints of an earlier '
                       r'run \(epoch_1.pth\): continue it with --resume, or start again with '
                       '--overwrite'):
        train_tool.main([str(ROOT / CONFIGS['jigclu']), '--work-dir', str(tmp_path)])
    assert (tmp_path / 'epoch_1.pth').read_bytes() == b'an earlier run'
    assert not (tmp_path / '.train.lock').exists()  # released


def test_resume_with_nothing_to_resume_stops_naming_the_work_dir(tmp_path):
    import train as train_tool
    typo = tmp_path / 'mejigclu_tpyo'
    with pytest.raises(SystemExit, match=f'nothing to resume in work dir {typo}'):
        train_tool.main([str(ROOT / CONFIGS['jigclu']), '--work-dir', str(typo), '--resume'])
    assert not typo.exists()  # no folder left behind by the typo
    with pytest.raises(SystemExit, match='missing.pth does not exist'):
        train_tool.main([str(ROOT / CONFIGS['jigclu']), '--work-dir', str(typo), '--resume',
                         str(tmp_path / 'missing.pth')])
    with pytest.raises(SystemExit, match='give one of them'):
        train_tool.main([str(ROOT / CONFIGS['jigclu']), '--work-dir', str(typo), '--resume',
                         '--overwrite'])


def test_a_work_dir_held_by_a_running_run_is_refused(tmp_path):
    import os

    import train as train_tool

    from mejigclu_mm.runtime.work_dir_lock import WorkDirLock
    with WorkDirLock(str(tmp_path)):  # as a run in another process holds it
        with pytest.raises(SystemExit, match=rf'work dir {tmp_path} is in use by another '
                           rf'training run \(pid {os.getpid()}'):
            train_tool.main([str(ROOT / CONFIGS['jigclu']), '--work-dir', str(tmp_path)])


def test_unknown_top_level_options_are_warned_about():
    from log_capture import captured_log
    with captured_log() as messages:
        cfg = merged([str(ROOT / CONFIGS['jigclu']), '--cfg-options', 'max_epochs=1'])
    assert cfg.max_epochs == 1 and cfg.train_cfg.max_epochs == 100  # as mmengine merges it
    assert any(m.startswith('--cfg-options max_epochs: the config has no top-level key') and
               'train_cfg.max_epochs' in m for m in messages)


# --- resume refuses what does not fit; divergence stops the run (tiny real runs) ---

def tiny_run(name, data_root, work_dir, *options, epochs=1, config=None, extra=()):
    """tools/train.py on the fixture's 60 images, a quarter-width ResNet-18, ``epochs``."""
    import train as train_tool
    return train_tool.main([
        str(ROOT / (config or CONFIGS[name])), '--work-dir', str(work_dir), *extra,
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        f'train_cfg.max_epochs={epochs}', f'param_scheduler.0.T_max={epochs}',
        f'param_scheduler.0.end={epochs}', 'custom_hooks=[]', *SMALL, *SMALL_HEADS[name],
        *options])


def my_config_text():
    """A user's 1-line config inside the work dir it trains into (issue 27.2)."""
    return f"_base_ = ['{ROOT / CONFIGS['mejigclu']}']\n"


@pytest.fixture(scope='module')
def mejigclu_batch_8(fashion_mnist_format_root, tmp_path_factory, batch_options):
    """A MEJigClu checkpoint of one epoch at a global batch of 8, trained from a config that
    lies in the work dir (``my_config.py``)."""
    work_dir = tmp_path_factory.mktemp('mejigclu_b8')
    (work_dir / 'my_config.py').write_text(my_config_text())
    tiny_run('mejigclu', fashion_mnist_format_root, work_dir,
             *batch_options(CONFIGS['mejigclu'], 8), config=str(work_dir / 'my_config.py'))
    return work_dir / 'epoch_1.pth'


def refused_resume(name, checkpoint, data_root, work_dir, *options):
    """The message with which ``tools/train.py --resume checkpoint`` (2 epochs of ``name`` in
    ``work_dir``) stops, checked to come before anything ran."""
    with pytest.raises(SystemExit) as error:
        tiny_run(name, data_root, work_dir, *options, epochs=2,
                 extra=['--resume', str(checkpoint)])
    assert not list(work_dir.glob('*.pth'))
    return str(error.value)


@pytest.mark.slow
def test_resume_at_another_global_batch_is_refused(mejigclu_batch_8, fashion_mnist_format_root,
                                                    tmp_path, batch_options):
    message = refused_resume('mejigclu', mejigclu_batch_8, fashion_mnist_format_root, tmp_path,
                             *batch_options(CONFIGS['mejigclu'], 16))
    assert f'--resume: checkpoint {mejigclu_batch_8} (epoch 1, iteration 7) does not fit ' \
           'this run' in message
    assert 'global batch: 8 images per step when it was saved (1 process(es)), 16 now' in message
    assert 'of another shape: heads.cls.' in message and '(checkpoint (8,' in message


@pytest.mark.slow
def test_resume_of_another_method_is_refused(mejigclu_batch_8, fashion_mnist_format_root,
                                             tmp_path):
    message = refused_resume('jigclu', mejigclu_batch_8, fashion_mnist_format_root, tmp_path,
                             'train_dataloader.batch_size=8')
    assert "of the model's tensors missing from the checkpoint: heads.loc." in message
    assert 'tensor(s) the model does not have: heads.cls.' in message


@pytest.mark.slow
def test_resume_of_a_converted_backbone_points_at_init_cfg(mejigclu_batch_8,
                                                           fashion_mnist_format_root, tmp_path):
    import convert_weights
    converted = tmp_path / 'r18_mmdet.pth'
    assert convert_weights.main([str(mejigclu_batch_8), str(converted), '--to', 'mmdet']) == 0
    work_dir = tmp_path / 'work'
    message = refused_resume('mejigclu', converted, fashion_mnist_format_root, work_dir,
                             'train_dataloader.batch_size=8', 'model.heads.cls.num_classes=8')
    assert f'{converted} is not a checkpoint of a training run' in message
    assert f'model.backbone.init_cfg.checkpoint={converted}' in message


@pytest.mark.slow
def test_a_pretraining_checkpoint_resumed_in_a_linear_config_points_at_init_cfg(
        mejigclu_batch_8, fashion_mnist_format_root, tmp_path):
    import train as train_tool
    linear = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
    with pytest.raises(SystemExit) as error:
        train_tool.main([str(linear), '--work-dir', str(tmp_path), '--resume',
                         str(mejigclu_batch_8), '--cfg-options', *SMALL,
                         'model.head.in_channels=128'])
    message = str(error.value)
    assert "2 of the model's tensors missing from the checkpoint: head.fc.weight, head.fc.bias" \
        in message
    assert 'tensor(s) the model does not have: ' in message and 'heads.clu.' in message
    assert 'global batch: 8 images per step when it was saved (1 process(es)), 256 now' in message
    assert f'model.backbone.init_cfg.checkpoint={mejigclu_batch_8}' in message


@pytest.mark.slow
def test_divergence_stops_the_run_at_its_first_nan(fashion_mnist_format_root, tmp_path):
    from mejigclu_mm.runtime.hooks import NonFiniteLossError
    with pytest.raises(NonFiniteLossError, match=r'the training loss is not finite at iteration '
                       r'\d+ \(epoch \d\): loss=(nan|inf)'):
        tiny_run('jigclu', fashion_mnist_format_root, tmp_path, 'train_dataloader.batch_size=8',
                 'optim_wrapper.optimizer.lr=100000.0', epochs=2)
    assert not list(tmp_path.glob('*.pth'))  # no checkpoint of a diverged model


@pytest.mark.slow
def test_a_moved_work_dir_resumes_from_its_own_checkpoint(fashion_mnist_format_root, tmp_path):
    import shutil
    first, moved = tmp_path / 'first', tmp_path / 'moved'
    tiny_run('jigclu', fashion_mnist_format_root, first, 'train_dataloader.batch_size=8')
    assert (first / 'last_checkpoint').read_text() == str(first / 'epoch_1.pth')
    shutil.move(first, moved)
    from log_capture import captured_log
    with captured_log() as messages:  # said before the run's logger exists
        runner = tiny_run('jigclu', fashion_mnist_format_root, moved,
                          'train_dataloader.batch_size=8', epochs=2, extra=['--resume'])
    assert f'names {first / "epoch_1.pth"}, which does not exist; resuming from the file of ' \
           f'that name in the work dir, {moved / "epoch_1.pth"}' in '\n'.join(messages)
    assert runner.iter == 2 * 7 and (moved / 'epoch_2.pth').exists()
    log = sorted(moved.glob('*/*.log'))[-1].read_text()
    assert 'resumed epoch: 1, iter: 7' in log


# --- the run guards reach every run; resume continues only the run it names (issue 27) ---

BENCHMARKS = 'configs/mejigclu/benchmarks/'
GUARDED_KINDS = [CONFIGS['mejigclu'], CONFIGS['jigclu'],
                 'configs/mocov2/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
                 BENCHMARKS + 'resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py',
                 BENCHMARKS + 'mmdetection/faster-rcnn_r50_fpn_syncbn_1x_coco.py',
                 BENCHMARKS + 'mmsegmentation/pspnet_r18-cifar_1xb8-6e_fashion-scenes.py']


@pytest.mark.parametrize('config', GUARDED_KINDS)
def test_a_config_read_by_any_train_py_carries_every_guard(config):
    """What mmpretrain's / mmdet's / mim's train.py read (Config.fromfile, RUNNERS.build):
    GuardedRunner and every guard hook, nothing left for tools/train.py to add."""
    from mmengine.config import Config

    from mejigclu_mm.runtime.config_checks import pipeline_warnings
    from mejigclu_mm.runtime.guard_hooks import GUARD_HOOKS, complete_guard_hooks
    cfg = Config.fromfile(ROOT / config)
    assert cfg.runner_type == 'mmpretrain.GuardedRunner'
    assert {key: cfg.default_hooks[key]['type'] for key in GUARD_HOOKS} == \
        {key: f'mmpretrain.{name}' for key, name in GUARD_HOOKS.items()}
    assert cfg.default_hooks.checkpoint.type.split('.')[-1] == 'AtomicCheckpointHook'
    assert complete_guard_hooks(cfg) == [] and pipeline_warnings(cfg) == []


def files_of(folder):
    return {str(path.relative_to(folder)): path.read_bytes()
            for path in folder.rglob('*') if path.is_file()}


@pytest.mark.slow
def test_a_config_inside_the_work_dir_is_not_replaced_by_the_record(mejigclu_batch_8):
    from mejigclu_mm.runtime.config_dump import HEADER
    work_dir = mejigclu_batch_8.parent
    assert (work_dir / 'my_config.py').read_text() == my_config_text()  # the user's own
    records = sorted(work_dir.glob('my_config.*.py'))
    assert len(records) == 1 and records[0].read_text().startswith(HEADER)


@pytest.mark.slow
def test_resume_into_a_work_dir_with_another_runs_checkpoints_is_refused(
        mejigclu_batch_8, fashion_mnist_format_root, tmp_path, batch_options):
    other = tmp_path / 'A'
    other.mkdir()
    (other / 'epoch_2.pth').write_bytes(b'another run')
    with pytest.raises(SystemExit) as error:
        tiny_run('mejigclu', fashion_mnist_format_root, other,
                 *batch_options(CONFIGS['mejigclu'], 8), epochs=2,
                 extra=['--resume', str(mejigclu_batch_8)])
    assert f'--resume {mejigclu_batch_8}: work dir {other} holds checkpoints of another run ' \
           '(epoch_2.pth)' in str(error.value)
    assert files_of(other) == {'epoch_2.pth': b'another run'}  # refused before any write


@pytest.mark.slow
def test_a_refused_resume_leaves_the_work_dir_as_it_was(mejigclu_batch_8, fashion_mnist_format_root,
                                                        batch_options):
    work_dir = mejigclu_batch_8.parent
    before = files_of(work_dir)
    with pytest.raises(SystemExit, match='global batch: 8 images per step when it was saved'):
        tiny_run('mejigclu', fashion_mnist_format_root, work_dir,
                 *batch_options(CONFIGS['mejigclu'], 16), epochs=2, extra=['--resume'],
                 config=str(work_dir / 'my_config.py'))
    after = files_of(work_dir)
    assert {name: after.get(name) for name in before} == before  # config record, run.json, ...
    # only the refused run's own log folder is new
    assert len({name.split('/')[0] for name in set(after) - set(before)}) <= 1


@pytest.mark.slow
def test_resume_on_a_dataset_of_another_size_is_refused(mejigclu_batch_8,
                                                        fashion_mnist_format_root, tmp_path,
                                                        batch_options):
    message = refused_resume('mejigclu', mejigclu_batch_8, fashion_mnist_format_root, tmp_path,
                             *batch_options(CONFIGS['mejigclu'], 8),
                             'train_dataloader.dataset.indices=48')
    assert "DisjointSubsetBatchSampler's subsets (split_seed, subsets, dataset length)" in message
    assert 'every image change its subset' in message
    assert ', 60) when saved' in message and ', 48) now' in message


@pytest.mark.slow
def test_resume_after_an_overwrite_run_that_saved_nothing_is_refused(
        mejigclu_batch_8, fashion_mnist_format_root, tmp_path, batch_options):
    import shutil
    work_dir = tmp_path / 'w'
    shutil.copytree(mejigclu_batch_8.parent, work_dir)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_1.pth'))
    # a new run over it with --overwrite that stops before its first save
    with pytest.raises(Exception):
        tiny_run('mejigclu', tmp_path / 'missing_data', work_dir,
                 *batch_options(CONFIGS['mejigclu'], 8), extra=['--overwrite'])
    assert (work_dir / 'epoch_1.pth').read_bytes() == mejigclu_batch_8.read_bytes()
    with pytest.raises(SystemExit) as error:
        tiny_run('mejigclu', fashion_mnist_format_root, work_dir,
                 *batch_options(CONFIGS['mejigclu'], 8), epochs=2, extra=['--resume'])
    message = str(error.value)
    assert f'the last run started in {work_dir}' in message and 'with overwrite' in message
    assert 'the last run saved no checkpoint' in message
    assert f'name its checkpoint: --resume {work_dir / "epoch_1.pth"}' in message
