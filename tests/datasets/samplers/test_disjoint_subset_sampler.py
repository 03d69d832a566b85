from unittest import mock

import pytest

from mejigclu_mm.datasets.samplers import DisjointSubsetSampler

MODULE = 'mejigclu_mm.datasets.samplers.disjoint_subset_sampler'


def build(dataset_size, batch_size, rank=0, world_size=1, seed=0):
    with mock.patch(f'{MODULE}.get_dist_info', return_value=(rank, world_size)):
        return DisjointSubsetSampler(range(dataset_size), batch_size=batch_size, seed=seed)


def batches(sampler, batch_size):
    indices = list(sampler)
    return [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]


def subset_of(sampler):
    return {int(index): s for s, row in enumerate(sampler.subsets) for index in row}


def test_batch_position_j_always_draws_from_subset_j_across_epochs():
    sampler = build(50, batch_size=8)
    owner = subset_of(sampler)
    assert len(owner) == 48  # 50 // 8 * 8; the remainder is left out
    seen_orders = set()
    for epoch in range(3):
        sampler.set_epoch(epoch)
        epoch_batches = batches(sampler, 8)
        assert len(epoch_batches) == len(sampler) // 8 == 6
        for batch in epoch_batches:
            assert [owner[i] for i in batch] == list(range(8))
        flat = [i for b in epoch_batches for i in b]
        assert sorted(flat) == sorted(owner)  # every kept image once per epoch
        seen_orders.add(tuple(flat))
    assert len(seen_orders) == 3  # reshuffled inside the subsets every epoch


def test_ranks_take_their_slice_of_each_global_batch():
    world, per_gpu = 2, 4
    samplers = [build(40, per_gpu, rank=r, world_size=world) for r in range(world)]
    owner = subset_of(samplers[0])
    assert subset_of(samplers[1]) == owner  # the same split on every rank
    per_rank = [batches(s, per_gpu) for s in samplers]
    for rank_batches in zip(*per_rank):
        global_batch = [i for b in rank_batches for i in b]
        assert [owner[i] for i in global_batch] == list(range(world * per_gpu))


def test_a_dataset_smaller_than_the_global_batch_is_refused():
    with pytest.raises(ValueError, match='6 images, fewer than the 8 subsets'):
        build(6, batch_size=8)
