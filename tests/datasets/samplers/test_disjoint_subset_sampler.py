from unittest import mock

import pytest

from mejigclu_mm.datasets.samplers import DisjointSubsetSampler

MODULE = 'mejigclu_mm.datasets.samplers.disjoint_subset_sampler'


def build(dataset_size, batch_size, rank=0, world_size=1, seed=0, **kwargs):
    with mock.patch(f'{MODULE}.get_dist_info', return_value=(rank, world_size)):
        return DisjointSubsetSampler(range(dataset_size), batch_size=batch_size, seed=seed,
                                     **kwargs)


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


def test_the_split_does_not_depend_on_the_runner_seed():
    """A resumed run may get another runner seed (randomness.seed=None draws a new one before
    the checkpoint's is restored): every image must keep its subset, i.e. its label."""
    first, resumed = build(100, 8, seed=123), build(100, 8, seed=98765)
    assert subset_of(first) == subset_of(resumed)
    assert subset_of(build(100, 8, split_seed=1)) != subset_of(first)  # the split's own seed
    # the runner seed still varies the order inside the subsets
    assert list(first) != list(resumed)


def sampler_worker(rank, world_size, out_dir):
    import json
    sampler = DisjointSubsetSampler(range(50), batch_size=3, seed=7)
    sampler.set_epoch(2)
    with open(f'{out_dir}/{rank}.json', 'w') as file:
        json.dump(dict(indices=list(sampler), subsets=sampler.subsets.tolist()), file)


def test_two_processes_each_global_batch_holds_every_subset_in_order(tmp_path):
    import json

    from distributed import run_in_processes
    run_in_processes(sampler_worker, 2, str(tmp_path))
    results = [json.loads((tmp_path / f'{r}.json').read_text()) for r in range(2)]
    assert results[0]['subsets'] == results[1]['subsets']
    owner = {i: s for s, row in enumerate(results[0]['subsets']) for i in row}
    assert len(owner) == 48  # 6 subsets of 8 images; 2 images left out
    per_rank = [r['indices'] for r in results]
    assert len(per_rank[0]) == len(per_rank[1]) == 24
    for b in range(8):  # global batch b = rank 0's 3 images, then rank 1's
        global_batch = per_rank[0][3 * b:3 * b + 3] + per_rank[1][3 * b:3 * b + 3]
        assert [owner[i] for i in global_batch] == list(range(6))
