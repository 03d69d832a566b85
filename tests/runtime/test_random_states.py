"""Generator states in checkpoints and per-sample seeding (mejigclu_mm/runtime/random_states.py)."""
import random

import numpy as np
import torch

from mejigclu_mm.runtime.random_states import (SeededSampleFetch, capture_random_states,
                                               restore_random_states, seed_sample)


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_restored_states_repeat_the_same_draws_after_a_weights_only_round_trip(tmp_path):
    torch.manual_seed(3), np.random.seed(3), random.seed(3)
    draw()
    path = tmp_path / 'states.pth'
    torch.save(capture_random_states(), path)
    expected = [draw() for _ in range(3)]
    torch.manual_seed(99), np.random.seed(99), random.seed(99)
    restore_random_states(torch.load(path, weights_only=True))
    assert [draw() for _ in range(3)] == expected


def test_a_sample_seed_depends_on_seed_epoch_and_index_only():
    seed_sample(0, 2, 7)
    first = draw()
    draw()  # whatever happened in between
    seed_sample(0, 2, 7)
    assert draw() == first
    others = set()
    for args in ((1, 2, 7), (0, 3, 7), (0, 2, 8)):
        seed_sample(*args)
        others.add(draw())
    assert first not in others and len(others) == 3


class RandomDataset:
    def __getitem__(self, index):
        return index, float(np.random.rand())


def test_seeded_fetch_gives_each_index_its_draw_and_leaves_the_main_stream_alone():
    clock = torch.tensor([5, 1], dtype=torch.int64)
    fetch = SeededSampleFetch(RandomDataset(), clock)
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    batch_a = fetch([4, 2])
    assert (np.random.get_state()[1] == before).all()  # main process: states put back
    assert fetch([2]) == [batch_a[1]]  # index 2 draws the same in any batch
    clock[1] = 2  # next epoch: new draws
    assert fetch([2]) != [batch_a[1]]
