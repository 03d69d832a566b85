"""mmengine checkpoints load under torch >= 2.6 with safe unpickling, and nothing unsafe does."""
import os
import pickle
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from mmengine.runner.checkpoint import load_from_local
from torch import nn

import mejigclu_mm  # noqa: F401
from mejigclu_mm.runtime import (TRUSTED_ENV, NotACheckpointError, UnsafeCheckpointError,
                                 load_checkpoint_file, safe_checkpoint_loading)
from mejigclu_mm.runtime.safe_checkpoint import mmengine_globals_allowed


class TinyModel(BaseModel):

    def __init__(self, init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.linear = nn.Linear(3, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=(out ** 2).mean()) if mode == 'loss' else out


def make_runner(work_dir, max_epochs, **kwargs):
    data = [dict(inputs=torch.full((3, ), float(i))) for i in range(8)]
    return Runner(
        model=kwargs.pop('model', TinyModel()), work_dir=str(work_dir),
        train_dataloader=dict(dataset=data, batch_size=2, collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1]),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           safe_checkpoint=dict(type='SafeCheckpointHook')),
        randomness=dict(seed=0), default_scope='mmpretrain',
        # its own message hub: runners built in the same second share the timestamp name
        experiment_name=f'safe_checkpoint_{uuid.uuid4().hex}', **kwargs)


@pytest.fixture(scope='module')
def runner_checkpoint(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('run')
    make_runner(work_dir, max_epochs=1).train()
    return work_dir / 'epoch_1.pth'


class MakesADirectory:
    """Unpickling this calls os.makedirs: a stand-in for code execution."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path, )


@pytest.mark.slow
def test_runner_checkpoint_holds_only_allow_listed_globals(runner_checkpoint):
    # what remains outside torch's defaults and our allow-list: nothing (no builtins.getattr)
    with mmengine_globals_allowed():
        assert torch.serialization.get_unsafe_globals_in_checkpoint(str(runner_checkpoint)) == []
        checkpoint = torch.load(runner_checkpoint, weights_only=True)
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'], HistoryBuffer)


def test_the_allow_list_holds_only_inside_the_block():
    outer = torch.serialization.get_safe_globals()
    mine = [np.ndarray, (np.dtype, 'my.own.name')]
    torch.serialization.add_safe_globals(mine)  # a user's own, before the block
    try:
        before = set(torch.serialization.get_safe_globals())
        with safe_checkpoint_loading():
            inside = set(torch.serialization.get_safe_globals())
            assert CheckpointLoader._schemes[''] is not load_from_local
            with safe_checkpoint_loading():  # blocks nest
                pass
            assert CheckpointLoader._schemes[''] is not load_from_local
            assert set(torch.serialization.get_safe_globals()) == inside
        assert HistoryBuffer in inside and HistoryBuffer not in before
        assert set(torch.serialization.get_safe_globals()) == before  # the user's kept
        assert CheckpointLoader._schemes[''] is load_from_local
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(outer)


def test_mmengine_is_restored_when_the_block_fails():
    with pytest.raises(RuntimeError, match='the run failed'):
        with safe_checkpoint_loading():
            raise RuntimeError('the run failed')
    assert CheckpointLoader._schemes[''] is load_from_local
    assert HistoryBuffer not in torch.serialization.get_safe_globals()


@pytest.mark.slow
def test_resume_restores_training_state(runner_checkpoint, tmp_path):
    runner = make_runner(tmp_path, max_epochs=2, resume=True, load_from=str(runner_checkpoint))
    runner.train()
    assert runner.epoch == 2 and runner.iter == 8
    buffer = runner.message_hub.get_scalar('train/loss')
    assert len(buffer.data[0]) == 8  # 4 iterations resumed + 4 new
    assert buffer.mean() == pytest.approx(float(buffer.data[0].mean()))  # statistics still work


@pytest.mark.slow
@pytest.mark.parametrize('init', ['StrictPretrained', 'Pretrained'])
def test_pretrained_init_from_runner_checkpoint(init, runner_checkpoint):
    saved = load_checkpoint_file(runner_checkpoint)['state_dict']
    model = TinyModel(init_cfg=dict(type=init, checkpoint=str(runner_checkpoint)))
    with safe_checkpoint_loading():  # mmengine's own 'Pretrained' needs it, ours does not
        model.init_weights()
    torch.testing.assert_close(model.linear.weight.data, saved['linear.weight'])


def malicious_checkpoint(path, marker):
    torch.save({'state_dict': {}, 'meta': MakesADirectory(str(marker))}, path)


def safely(load):
    """``load`` inside safe_checkpoint_loading(), as our tools run mmengine's loaders."""
    def run():
        with safe_checkpoint_loading():
            return load()
    return run


def run_failing(load):
    """``load``, a Runner run that fails, with the SafeCheckpointHook alone; mmengine's loader
    and torch's allow-list are as they were afterwards."""
    def run():
        local, allowed = CheckpointLoader._schemes[''], torch.serialization.get_safe_globals()
        try:
            return load()
        finally:
            assert CheckpointLoader._schemes[''] is local
            assert torch.serialization.get_safe_globals() == allowed
    return run


@pytest.mark.slow
def test_code_in_a_checkpoint_is_refused_by_every_load_path(tmp_path):
    marker = tmp_path / 'code_ran'
    bad = tmp_path / 'bad.pth'
    malicious_checkpoint(bad, marker)
    loaders = {
        'load_checkpoint_file': lambda: load_checkpoint_file(bad),
        'mmengine CheckpointLoader': safely(lambda: CheckpointLoader.load_checkpoint(str(bad))),
        'StrictPretrained init': lambda: TinyModel(
            init_cfg=dict(type='StrictPretrained', checkpoint=str(bad))).init_weights(),
        'mmengine Pretrained init': safely(lambda: TinyModel(
            init_cfg=dict(type='Pretrained', checkpoint=str(bad))).init_weights()),
        'Runner resume': run_failing(lambda: make_runner(tmp_path / 'w', 2, resume=True,
                                                         load_from=str(bad)).train()),
        'Runner load_from': run_failing(
            lambda: make_runner(tmp_path / 'w2', 1, load_from=str(bad)).train()),
    }
    for name, load in loaders.items():
        with pytest.raises(UnsafeCheckpointError, match=f'refused to load checkpoint {bad}'):
            load()
        assert not marker.exists(), f'{name} ran code from the checkpoint'


def test_plain_mmengine_file_with_getattr_needs_explicit_trust(tmp_path, monkeypatch):
    buffer = HistoryBuffer()
    buffer.update(1.0)
    legacy = tmp_path / 'legacy.pth'
    # what mmengine 0.10.7 writes without our fix: the statistics methods pickle via getattr
    state = dict(buffer.__dict__, statistics_methods=dict(HistoryBuffer._statistics_methods))
    torch.save({'message_hub': {'loss': _Legacy(state)}}, legacy)
    with pytest.raises(UnsafeCheckpointError, match=f'builtins.getattr.*{TRUSTED_ENV}'):
        load_checkpoint_file(legacy)
    monkeypatch.setenv(TRUSTED_ENV, os.pathsep.join(['/elsewhere.pth', str(legacy)]))
    loaded = load_checkpoint_file(legacy)
    assert loaded['message_hub']['loss'].current() == 1.0


class _Legacy:
    """Pickles like a HistoryBuffer whose state still carries its statistics functions."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return HistoryBuffer.__new__, (HistoryBuffer, ), self.state


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.pth does not exist'):
        load_checkpoint_file(tmp_path / 'nothere.pth')


def test_non_checkpoint_pickle_is_refused(tmp_path):
    path = tmp_path / 'plain.pkl'
    path.write_bytes(pickle.dumps(MakesADirectory(str(tmp_path / 'code_ran'))))
    with pytest.raises(UnsafeCheckpointError):
        load_checkpoint_file(path)
    assert not (tmp_path / 'code_ran').exists()


def test_numpy_values_that_cannot_run_code_load(tmp_path):
    import datetime

    import numpy as np
    values = {
        'empty': np.array([]),
        'empty_int': np.zeros((0, 3), dtype=np.int64),
        'datetime64': np.array(['2020-01-01', '2021-06-30'], dtype='datetime64[D]'),
        'timedelta64': np.array([1, 90], dtype='timedelta64[s]'),
        'strings': np.array(['backbone', 'neck', ''], dtype=object),
        'mixed': np.array(['a', 1, 2.5, None, b'raw', (1, 2)], dtype=object),
        'empty_object': np.array([], dtype=object),
        'dates': np.array([datetime.date(2020, 1, 1), datetime.timedelta(days=2)], dtype=object),
        'scalar': np.datetime64('2020-01-01T12:00'),
    }
    path = tmp_path / 'numpy_values.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': values}, path)
    loaded = load_checkpoint_file(path)['meta']
    for name, value in values.items():
        assert type(loaded[name]) is type(value), name
        assert loaded[name].dtype == value.dtype, name
        np.testing.assert_array_equal(loaded[name], value, err_msg=name)


class _Exec:
    """Unpickling this calls builtins.exec on code that creates a directory."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return exec, (f'import os; os.makedirs({self.path!r})', )


@pytest.mark.parametrize('payload', [MakesADirectory, _Exec])
def test_object_array_whose_element_runs_code_is_refused(payload, tmp_path):
    import numpy as np
    marker = tmp_path / 'code_ran'
    array = np.empty(2, dtype=object)
    array[:] = ['harmless', payload(str(marker))]
    bad = tmp_path / 'object_array.pth'
    torch.save({'state_dict': {}, 'meta': {'names': array}}, bad)
    for load in (lambda: load_checkpoint_file(bad),
                 safely(lambda: CheckpointLoader.load_checkpoint(str(bad)))):
        with pytest.raises(UnsafeCheckpointError, match=f'refused to load checkpoint {bad}'):
            load()
        assert not marker.exists()


def test_allow_list_holds_nothing_that_reaches_code():
    from mejigclu_mm.runtime.numpy_pickle import ALLOWED_GLOBALS
    from mejigclu_mm.runtime.safe_checkpoint import mmengine_safe_globals
    allowed = {f'{getattr(g, "__module__", "")}.{getattr(g, "__qualname__", g)}'
               if not isinstance(g, tuple) else g[1] for g in mmengine_safe_globals()}
    allowed |= {f'{module}.{name}' for module, name in ALLOWED_GLOBALS}
    assert 'builtins.bytes' in allowed and 'numpy.dtypes.ObjectDType' in allowed
    for name in allowed:
        assert not name.startswith(('os.', 'posix.', 'subprocess.', 'sys.', 'importlib.',
                                    'pickle.', 'runpy.')), name
        assert name not in {'builtins.getattr', 'builtins.eval', 'builtins.exec',
                            'builtins.__import__', 'builtins.compile', 'builtins.open',
                            'builtins.setattr', 'builtins.type', 'builtins.object'}, name


@pytest.fixture
def cut_checkpoints(runner_checkpoint, tmp_path):
    data = runner_checkpoint.read_bytes()
    files = {'empty': tmp_path / 'empty.pth', 'half': tmp_path / 'half.pth',
             'tail': tmp_path / 'tail.pth'}
    files['empty'].write_bytes(b'')
    files['half'].write_bytes(data[:len(data) // 2])
    files['tail'].write_bytes(data[:-10])  # only the end of the zip directory is missing
    return files


@pytest.mark.slow
def test_empty_or_cut_off_checkpoint_is_called_incomplete(cut_checkpoints, tmp_path):
    from mejigclu_mm.runtime import IncompleteCheckpointError
    reasons = {'empty': 'it is empty \\(0 bytes\\)', 'half': 'its zip archive is cut off',
               'tail': 'its zip archive is cut off'}
    for name, path in cut_checkpoints.items():
        loaders = [lambda: load_checkpoint_file(path),
                   safely(lambda: CheckpointLoader.load_checkpoint(str(path))),
                   run_failing(lambda: make_runner(tmp_path / name, 1,
                                                   load_from=str(path)).train())]
        for load in loaders:
            with pytest.raises(IncompleteCheckpointError,
                               match=f'checkpoint {path} is incomplete: {reasons[name]}'):
                load()


def test_cut_off_old_style_pickle_is_called_incomplete(tmp_path):
    from mejigclu_mm.runtime import IncompleteCheckpointError
    path = tmp_path / 'legacy.pth'
    path.write_bytes(pickle.dumps({'state_dict': {'w': list(range(100))}}, protocol=2)[:40])
    with pytest.raises(IncompleteCheckpointError, match='its data ends early \\(40 bytes\\)'):
        load_checkpoint_file(path)


@pytest.mark.slow
def test_files_that_are_no_checkpoint_are_named_before_any_word_about_code(tmp_path):
    lfs = tmp_path / 'epoch_200.pth'
    lfs.write_text('version https://git-lfs.github.com/spec/v1\noid sha256:' + '0' * 64
                   + '\nsize 97000000\n')
    page = tmp_path / 'download.pth'
    page.write_text('<html><head><title>Sign in</title></head></html>')
    for path, what in ((lfs, 'a Git LFS pointer'), (page, 'an HTML page')):
        loaders = [lambda: load_checkpoint_file(path),
                   safely(lambda: CheckpointLoader.load_checkpoint(str(path))),
                   run_failing(lambda: make_runner(tmp_path / path.stem, 1,
                                                   load_from=str(path)).train())]
        for load in loaders:
            with pytest.raises(NotACheckpointError) as error:
                load()
            assert str(error.value).startswith(f'{path} is not a PyTorch checkpoint: it is {what}')
            assert TRUSTED_ENV not in str(error.value) and 'run code' not in str(error.value)


def test_a_zip_archive_of_other_files_is_named(tmp_path):
    import zipfile
    path = tmp_path / 'weights.pth'
    with zipfile.ZipFile(path, 'w') as archive:
        archive.writestr('model/README.txt', 'weights inside')
    with pytest.raises(NotACheckpointError, match='a zip archive of 1 files .* without the '
                                                  'data.pkl'):
        load_checkpoint_file(path)


def test_a_detectron2_pickle_loads(tmp_path):
    path = tmp_path / 'r50.pkl'
    model = {'stem.conv1.weight': np.ones((2, 3, 7, 7), np.float32)}
    path.write_bytes(pickle.dumps({'model': model, '__author__': 'MOCO'}))
    loaded = load_checkpoint_file(path)
    np.testing.assert_array_equal(loaded['model']['stem.conv1.weight'], model['stem.conv1.weight'])


def test_bytes_of_no_known_format_are_no_checkpoint(tmp_path):
    path = tmp_path / 'noise.pth'
    path.write_bytes(bytes(range(7, 256)) * 4)
    with pytest.raises(NotACheckpointError,
                       match=f'{path} is not a PyTorch checkpoint: its first bytes'):
        load_checkpoint_file(path)


def test_a_block_never_left_changes_nothing_when_collected():
    import gc
    allowed = torch.serialization.get_safe_globals()
    abandoned = safe_checkpoint_loading()  # as in a run that failed without after_run
    abandoned.__enter__()
    CheckpointLoader._schemes[''] = load_from_local  # what the tool's own block restores
    torch.serialization.clear_safe_globals()
    torch.serialization.add_safe_globals(allowed)
    with safe_checkpoint_loading():
        del abandoned
        gc.collect()
        assert CheckpointLoader._schemes[''] is not load_from_local
        assert HistoryBuffer in torch.serialization.get_safe_globals()
    assert CheckpointLoader._schemes[''] is load_from_local
