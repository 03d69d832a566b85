"""SafeCheckpointHook: safe loading during a run only, and checkpoints free of getattr."""
import pickle
import uuid

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.model import BaseModel
from mmengine.runner import CheckpointLoader, Runner
from mmengine.runner.checkpoint import load_from_local
from torch import nn

import mejigclu_mm  # noqa: F401
from mejigclu_mm.runtime.hooks.safe_checkpoint_hook import drop_statistics_functions
from mejigclu_mm.runtime.safe_checkpoint import mmengine_globals_allowed


class TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        return dict(loss=(out ** 2).mean()) if mode == 'loss' else out


class SchemeSpyModel(TinyModel):
    """Records mmengine's local-file loader when the Runner initialises its weights."""
    seen = {}

    def init_weights(self):
        SchemeSpyModel.seen['init_weights'] = CheckpointLoader._schemes['']


def run(work_dir, hook, model=None, **runner_args):
    hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
    if hook:
        hooks['safe_checkpoint'] = hook
    runner = Runner(
        model=model or TinyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=[dict(inputs=torch.full((3, ), float(i))) for i in range(4)],
                              batch_size=2, collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1), default_hooks=hooks,
        default_scope='mmpretrain',
        # its own message hub: runners built in the same second share the timestamp name
        experiment_name=f'safe_checkpoint_hook_{uuid.uuid4().hex}', **runner_args)
    runner.train()
    return runner, work_dir / 'epoch_1.pth'


def unsafe_globals(path):
    with mmengine_globals_allowed():
        return torch.serialization.get_unsafe_globals_in_checkpoint(str(path))


@pytest.mark.slow
def test_checkpoints_load_safely_with_the_hook_and_not_without(tmp_path):
    _, plain = run(tmp_path / 'plain', hook=None)
    assert 'builtins.getattr' in unsafe_globals(plain)  # mmengine 0.10.7 as it is
    runner, saved = run(tmp_path / 'safe', hook=dict(type='SafeCheckpointHook'))
    assert unsafe_globals(saved) == []
    # the run's own buffers are untouched and keep their statistics
    buffer = runner.message_hub.get_scalar('train/loss')
    assert '__getstate__' not in vars(buffer)
    assert buffer.statistics('mean') == pytest.approx(float(buffer.data[0].mean()))


@pytest.mark.slow
def test_safe_loading_lasts_as_long_as_the_loading(tmp_path):
    assert CheckpointLoader._schemes[''] is load_from_local
    run(tmp_path, hook=dict(type='SafeCheckpointHook'), model=SchemeSpyModel())
    assert SchemeSpyModel.seen['init_weights'] is not load_from_local  # ours while loading
    assert CheckpointLoader._schemes[''] is load_from_local  # mmengine's after it


def test_a_run_that_fails_to_load_leaves_mmengine_as_it_was(tmp_path):
    """mmengine calls no hook when a run fails: nothing of the safe loading may outlive it."""
    allowed = set(torch.serialization.get_safe_globals())
    with pytest.raises(FileNotFoundError):
        run(tmp_path, hook=dict(type='SafeCheckpointHook'), load_from=str(tmp_path / 'none.pth'))
    assert CheckpointLoader._schemes[''] is load_from_local
    assert set(torch.serialization.get_safe_globals()) == allowed


def test_buffers_pickle_without_functions_and_load_with_them():
    buffer = HistoryBuffer()
    for value in (1.0, 3.0):
        buffer.update(value)
    checkpoint = {'message_hub': {'log_scalars': {'loss': buffer}, 'runtime_info': {}}}
    assert drop_statistics_functions(checkpoint) == 1
    data = pickle.dumps(checkpoint, protocol=2)
    assert b'getattr' not in data and b'statistics_methods' not in data
    loaded = pickle.loads(data)['message_hub']['log_scalars']['loss']
    assert type(loaded) is HistoryBuffer and '__getstate__' not in vars(loaded)
    assert loaded.statistics('mean') == 2.0 and loaded.current() == 3.0
