"""mmengine checkpoints load under torch >= 2.6 with safe unpickling, and nothing unsafe does."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from torch import nn

import mejigclu_mm  # noqa: F401
from mejigclu_mm.utils import TRUSTED_ENV, UnsafeCheckpointError, load_checkpoint_file


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
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0), **kwargs)


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


def test_runner_checkpoint_holds_only_allow_listed_globals(runner_checkpoint):
    # what remains outside torch's defaults and our allow-list: nothing (no builtins.getattr)
    assert torch.serialization.get_unsafe_globals_in_checkpoint(str(runner_checkpoint)) == []
    checkpoint = torch.load(runner_checkpoint, weights_only=True)
    assert isinstance(checkpoint['message_hub']['log_scalars']['train/loss'], HistoryBuffer)


def test_resume_restores_training_state(runner_checkpoint, tmp_path):
    runner = make_runner(tmp_path, max_epochs=2, resume=True, load_from=str(runner_checkpoint))
    runner.train()
    assert runner.epoch == 2 and runner.iter == 8
    buffer = runner.message_hub.get_scalar('train/loss')
    assert len(buffer.data[0]) == 8  # 4 iterations resumed + 4 new
    assert buffer.mean() == pytest.approx(float(buffer.data[0].mean()))  # statistics still work


def test_pretrained_init_from_runner_checkpoint(runner_checkpoint):
    saved = torch.load(runner_checkpoint, weights_only=True)['state_dict']
    model = TinyModel(init_cfg=dict(type='Pretrained', checkpoint=str(runner_checkpoint)))
    model.init_weights()
    torch.testing.assert_close(model.linear.weight.data, saved['linear.weight'])


def malicious_checkpoint(path, marker):
    torch.save({'state_dict': {}, 'meta': MakesADirectory(str(marker))}, path)


def test_code_in_a_checkpoint_is_refused_by_every_load_path(tmp_path):
    marker = tmp_path / 'code_ran'
    bad = tmp_path / 'bad.pth'
    malicious_checkpoint(bad, marker)
    loaders = {
        'load_checkpoint_file': lambda: load_checkpoint_file(bad),
        'mmengine CheckpointLoader': lambda: CheckpointLoader.load_checkpoint(str(bad)),
        'Pretrained init': lambda: TinyModel(
            init_cfg=dict(type='Pretrained', checkpoint=str(bad))).init_weights(),
        'Runner resume': lambda: make_runner(tmp_path / 'w', 2, resume=True,
                                             load_from=str(bad)).train(),
        'Runner load_from': lambda: make_runner(tmp_path / 'w2', 1, load_from=str(bad)).train(),
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
                 lambda: CheckpointLoader.load_checkpoint(str(bad))):
        with pytest.raises(UnsafeCheckpointError, match=f'refused to load checkpoint {bad}'):
            load()
        assert not marker.exists()


def test_allow_list_holds_nothing_that_reaches_code():
    allowed = {f'{getattr(g, "__module__", "")}.{getattr(g, "__qualname__", g)}'
               if not isinstance(g, tuple) else g[1]
               for g in torch.serialization.get_safe_globals()}
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


def test_empty_or_cut_off_checkpoint_is_called_incomplete(cut_checkpoints, tmp_path):
    from mejigclu_mm.utils import IncompleteCheckpointError
    reasons = {'empty': 'it is empty \\(0 bytes\\)', 'half': 'its zip archive is cut off',
               'tail': 'its zip archive is cut off'}
    for name, path in cut_checkpoints.items():
        loaders = [lambda: load_checkpoint_file(path),
                   lambda: CheckpointLoader.load_checkpoint(str(path)),
                   lambda: make_runner(tmp_path / name, 1, load_from=str(path)).train()]
        for load in loaders:
            with pytest.raises(IncompleteCheckpointError,
                               match=f'checkpoint {path} is incomplete: {reasons[name]}'):
                load()


def test_cut_off_old_style_pickle_is_called_incomplete(tmp_path):
    from mejigclu_mm.utils import IncompleteCheckpointError
    path = tmp_path / 'legacy.pth'
    path.write_bytes(pickle.dumps({'state_dict': {'w': list(range(100))}}, protocol=2)[:40])
    with pytest.raises(IncompleteCheckpointError, match='its data ends early \\(40 bytes\\)'):
        load_checkpoint_file(path)
