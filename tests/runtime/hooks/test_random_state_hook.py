"""RandomStateHook: generator states survive a (safely loaded) checkpoint, samples are seeded
from (seed, epoch, index), and a resumed run repeats the uninterrupted one."""
import random

import numpy as np
import pytest
import torch
from mmengine.dataset import BaseDataset
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn
from torch.utils.data import DataLoader

import mejigclu_mm  # noqa: F401
from mejigclu_mm.runtime import load_checkpoint_file
from mejigclu_mm.runtime.random_states import (SeededSampleFetch, capture_random_states,
                                               restore_random_states)


def draws():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def noisy_sample(results):
    """A pipeline step drawing from all three generators, as augmentations do."""
    return dict(inputs=torch.tensor([results['value'] + random.random(), np.random.rand(),
                                     torch.rand(1).item()], dtype=torch.float32))


class NoisyDataset(BaseDataset):

    def __init__(self, size=12):
        self.size = size
        super().__init__(pipeline=[noisy_sample], serialize_data=False)

    def load_data_list(self):
        return [dict(value=float(i)) for i in range(self.size)]


class NoisyModel(BaseModel):
    """Draws from the main process's torch generator every step, as the montage step does."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(inputs) + 0.1 * torch.randn(inputs.size(0), 1)
        return dict(loss=(out ** 2).mean()) if mode == 'loss' else out


def test_states_round_trip_through_a_safely_loaded_checkpoint(tmp_path):
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    np.random.randn()  # a cached gaussian is part of numpy's state
    states = capture_random_states()
    expected = draws()
    torch.save({'random_states': states}, tmp_path / 'ckpt.pth')
    loaded = load_checkpoint_file(tmp_path / 'ckpt.pth')['random_states']  # weights_only=True
    draws()
    restore_random_states(loaded)
    assert draws() == expected


def fetch(dataset, clock, indices):
    return [sample['inputs'] for sample in SeededSampleFetch(dataset, clock)(indices)]


def test_a_sample_depends_on_seed_epoch_and_index_only():
    dataset = NoisyDataset()
    clock = torch.tensor([0, 0])
    alone = fetch(dataset, clock, [5])[0]
    in_batch = fetch(dataset, clock, [3, 7, 5])[2]
    torch.testing.assert_close(alone, in_batch, rtol=0, atol=0)
    clock[1] = 1
    assert not torch.equal(fetch(dataset, clock, [5])[0], alone)  # another epoch
    clock[:] = torch.tensor([1, 0])
    assert not torch.equal(fetch(dataset, clock, [5])[0], alone)  # another seed


def test_fetching_in_the_main_process_leaves_its_generators_alone():
    dataset = NoisyDataset()
    torch.manual_seed(3), random.seed(3), np.random.seed(3)
    expected = draws()
    torch.manual_seed(3), random.seed(3), np.random.seed(3)
    fetch(dataset, torch.tensor([0, 0]), [0, 1, 2])
    assert draws() == expected


def test_workers_load_what_the_main_process_loads():
    """Persistent workers, two of them, give the same samples as num_workers=0."""
    batches = {}
    for workers in (0, 2):
        dataset = NoisyDataset()
        clock = torch.tensor([0, 0]).share_memory_()
        dataset.__getitems__ = SeededSampleFetch(dataset, clock)
        loader = DataLoader(dataset, batch_size=3, num_workers=workers,
                            persistent_workers=workers > 0, collate_fn=lambda batch: batch)
        batches[workers] = []
        for epoch in range(2):
            clock[1] = epoch
            batches[workers] += [s['inputs'] for batch in loader for s in batch]
    for single, worker in zip(batches[0], batches[2]):
        torch.testing.assert_close(single, worker, rtol=0, atol=0)
    assert not torch.equal(batches[0][0], batches[0][12])  # epoch 1 differs from epoch 0


def make_runner(work_dir, max_epochs, hook=True, resume=False):
    torch.manual_seed(0)  # the model is built before the Runner seeds
    return Runner(
        model=NoisyModel(), work_dir=str(work_dir),
        train_dataloader=dict(dataset=NoisyDataset(), batch_size=3, num_workers=2,
                              persistent_workers=True, collate_fn=dict(type='default_collate'),
                              sampler=dict(type='DefaultSampler', shuffle=True)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        # SafeCheckpointHook: resume loads mmengine's checkpoints with safe loading on
        custom_hooks=[dict(type='SafeCheckpointHook')] + (
            [dict(type='RandomStateHook')] if hook else []),
        randomness=dict(seed=0), resume=resume, default_scope='mmpretrain',
        experiment_name=f'{work_dir.name}_{max_epochs}_{hook}_{resume}')  # own message hub


def train(runner):
    runner.train()
    # Stop the persistent workers while the interpreter can still tell them to (at exit torch
    # waits 5 s for each).
    runner.train_dataloader._iterator._shutdown_workers()
    return runner


def losses_with_resume(tmp_path, hook):
    """Per-iteration losses of 3 epochs: uninterrupted, and stopped after 2 then resumed."""
    full = train(make_runner(tmp_path / 'full', 3, hook))
    train(make_runner(tmp_path / 'cut', 2, hook))
    resumed = train(make_runner(tmp_path / 'cut', 3, hook, resume=True))
    return [np.asarray(run.message_hub.get_scalar('train/loss').data[0])
            for run in (full, resumed)]


@pytest.mark.slow
def test_resume_repeats_the_uninterrupted_run(tmp_path):
    full, resumed = losses_with_resume(tmp_path, hook=True)
    assert len(full) == len(resumed) == 12  # 12 samples / 3 x 3 epochs
    np.testing.assert_array_equal(resumed, full)


@pytest.mark.slow
def test_without_the_hook_the_resumed_epoch_differs(tmp_path):
    """What the hook fixes (mmengine 0.10.7 alone): the resumed epoch takes other draws."""
    full, resumed = losses_with_resume(tmp_path, hook=False)
    np.testing.assert_array_equal(resumed[:8], full[:8])
    assert not np.allclose(resumed[8:], full[8:])


@pytest.mark.slow
def test_a_checkpoint_without_states_resumes_with_a_warning(tmp_path):
    train(make_runner(tmp_path, 1, hook=False))
    train(make_runner(tmp_path, 2, resume=True))
    log = sorted(tmp_path.glob('*/*.log'))[-1].read_text()  # the resumed run's log
    assert 'the resumed checkpoint has no random states' in log
