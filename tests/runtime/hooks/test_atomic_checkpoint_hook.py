"""AtomicCheckpointHook: a failed save (a full disk) leaves the previous complete checkpoint and
a last_checkpoint naming it; old checkpoints go only once the new one is whole."""
import pytest
import torch
from file_limits import file_size_limit, leftovers
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

import mejigclu_mm  # noqa: F401
from mejigclu_mm.runtime import load_checkpoint_file

pytestmark = pytest.mark.slow  # runs mmengine Runners

CHECKPOINT_BYTES = 4 * 200_000  # the model's buffer: every checkpoint is larger than this


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.register_buffer('bulk', torch.zeros(CHECKPOINT_BYTES // 4))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            return dict(loss=(out ** 2).mean())
        return [dict(score=float(out.mean()))] * len(inputs) if mode == 'predict' else out


def samples(num=6):
    return [dict(inputs=torch.full((3, ), float(i))) for i in range(num)]


class EpochMetric(BaseMetric):
    """'acc' rises with every validation: each one is a new best."""

    calls = 0

    def process(self, data_batch, data_samples):
        self.results.append(0)

    def compute_metrics(self, results):
        EpochMetric.calls += 1
        return dict(acc=float(EpochMetric.calls))


def make_runner(work_dir, max_epochs, checkpoint, resume=False, validate=False):
    loader = dict(dataset=samples(), batch_size=3, num_workers=0,
                  collate_fn=dict(type='default_collate'),
                  sampler=dict(type='DefaultSampler', shuffle=False))
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs, val_interval=1),
        val_dataloader=loader if validate else None, val_cfg=dict() if validate else None,
        val_evaluator=[EpochMetric()] if validate else None,
        default_hooks=dict(checkpoint=checkpoint, logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[dict(type='SafeCheckpointHook')],  # resumes with safe loading
        resume=resume, default_scope='mmpretrain', randomness=dict(seed=0),
        experiment_name=f'{work_dir.name}_{max_epochs}_{resume}_{checkpoint["type"]}')


def test_keeps_the_newest_checkpoints_and_records_the_global_batch(tmp_path):
    hook = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=2)
    make_runner(tmp_path, 3, hook).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_2.pth', 'epoch_3.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_3.pth')
    assert leftovers(tmp_path) == []
    checkpoint = load_checkpoint_file(tmp_path / 'epoch_3.pth')
    assert checkpoint['meta']['epoch'] == 3
    assert (checkpoint['meta']['global_batch'], checkpoint['meta']['world_size']) == (3, 1)
    assert checkpoint['message_hub']['runtime_info']['keep_ckpt_ids'] == [2, 3]


def save_that_fails(tmp_path, hook_type):
    """One epoch saved, then a resumed run whose next save meets a full disk."""
    hook = dict(type=hook_type, interval=1, max_keep_ckpts=1)
    make_runner(tmp_path, 1, hook).train()
    first = (tmp_path / 'epoch_1.pth').read_bytes()
    runner = make_runner(tmp_path, 2, hook, resume=True)
    with pytest.raises(OSError):
        with file_size_limit(CHECKPOINT_BYTES // 4):  # logs fit, a checkpoint does not
            runner.train()
    return first


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path):
    first = save_that_fails(tmp_path, 'AtomicCheckpointHook')
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_1.pth']
    assert (tmp_path / 'epoch_1.pth').read_bytes() == first
    assert load_checkpoint_file(tmp_path / 'epoch_1.pth')['meta']['epoch'] == 1
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    assert leftovers(tmp_path) == []


def test_mmengines_hook_loses_the_checkpoint_there(tmp_path):
    """What the hook fixes: mmengine 0.10.7 deletes epoch_1.pth first and leaves a cut-off
    epoch_2.pth with last_checkpoint naming the deleted file."""
    save_that_fails(tmp_path, 'CheckpointHook')
    assert not (tmp_path / 'epoch_1.pth').exists()
    assert (tmp_path / 'epoch_2.pth').stat().st_size < CHECKPOINT_BYTES


def test_a_new_best_checkpoint_replaces_the_old_one_after_it_is_written(tmp_path):
    EpochMetric.calls = 0
    hook = dict(type='AtomicCheckpointHook', interval=1, max_keep_ckpts=1, save_best='acc',
                rule='greater')
    make_runner(tmp_path, 3, hook, validate=True).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['best_acc_epoch_3.pth',
                                                              'epoch_3.pth']
    assert load_checkpoint_file(tmp_path / 'best_acc_epoch_3.pth')['meta']['epoch'] == 3
    assert leftovers(tmp_path) == []
