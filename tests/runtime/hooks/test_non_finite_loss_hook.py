"""NonFiniteLossHook: the first NaN / Inf loss stops the run, naming the iteration and the terms,
before a checkpoint of that iteration is saved."""
import math
from types import SimpleNamespace

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

import mejigclu_mm  # noqa: F401
from mejigclu_mm.runtime.hooks import NonFiniteLossError, NonFiniteLossHook


def after_iter(outputs, iteration=4, epoch=1):
    runner = SimpleNamespace(iter=iteration, epoch=epoch)
    NonFiniteLossHook().after_train_iter(runner, 0, outputs=outputs)


def test_names_the_iteration_and_every_non_finite_loss_term():
    outputs = dict(loss=torch.tensor(math.nan), loss_clu=torch.tensor(1.5),
                   loss_cls=torch.tensor(math.inf), acc=torch.tensor(math.nan))
    with pytest.raises(NonFiniteLossError) as error:
        after_iter(outputs)
    message = str(error.value)
    assert 'iteration 5 (epoch 2)' in message
    assert 'loss=nan' in message and 'loss_cls=inf' in message
    assert 'loss_clu' not in message  # finite
    assert 'acc' not in message  # not a loss


def test_finite_losses_and_other_outputs_pass():
    after_iter(dict(loss=torch.tensor(0.3), loss_bbox=torch.tensor([0.1, 0.2]), acc=99.0))
    after_iter(None)  # loops that return nothing
    after_iter(dict(loss_rpn_cls=[torch.tensor(0.2), torch.tensor(0.1)]))  # mmdet's lists
    with pytest.raises(NonFiniteLossError, match='loss_rpn_cls=-inf'):
        after_iter(dict(loss_rpn_cls=[torch.tensor(0.2), torch.tensor(-math.inf)]))


def test_interval_must_be_positive():
    with pytest.raises(ValueError, match='interval must be >= 1'):
        NonFiniteLossHook(interval=0)


class DivergingModel(BaseModel):
    """A finite loss for two steps, NaN from the third."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)
        self.steps = 0

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.steps += 1
        loss = (self.linear(inputs) ** 2).mean()
        return dict(loss=loss * math.nan if self.steps >= 3 else loss)


@pytest.mark.slow
def test_a_run_stops_at_its_first_nan_before_saving_it(tmp_path):
    runner = Runner(
        model=DivergingModel(), work_dir=str(tmp_path),
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(3))] * 8, batch_size=2,
                              num_workers=0, collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=8),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, by_epoch=False)),
        custom_hooks=[dict(type='NonFiniteLossHook')], default_scope='mmpretrain')
    with pytest.raises(NonFiniteLossError, match=r'iteration 3 \(epoch 1\): loss=nan'):
        runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['iter_1.pth', 'iter_2.pth']
