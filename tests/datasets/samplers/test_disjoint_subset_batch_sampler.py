from unittest import mock

import pytest
from mmengine.dataset import DefaultSampler

from mejigclu_mm.datasets.samplers import DisjointSubsetBatchSampler

MODULE = 'mejigclu_mm.datasets.samplers.disjoint_subset_batch_sampler'


def build(dataset_size, batch_size, rank=0, world_size=1, seed=0, **kwargs):
    sampler = DefaultSampler(range(dataset_size), shuffle=True, seed=seed)
    with mock.patch(f'{MODULE}.get_dist_info', return_value=(rank, world_size)):
        return DisjointSubsetBatchSampler(sampler, batch_size=batch_size, **kwargs)


def subset_of(batch_sampler):
    return {int(index): s for s, row in enumerate(batch_sampler.subsets) for index in row}


def test_batch_position_j_always_draws_from_subset_j_across_epochs():
    batch_sampler = build(50, batch_size=8)
    owner = subset_of(batch_sampler)
    assert len(owner) == 48  # 50 // 8 * 8; the remainder is left out
    seen_orders = set()
    for epoch in range(3):
        batch_sampler.sampler.set_epoch(epoch)  # what mmengine's DistSamplerSeedHook calls
        epoch_batches = list(batch_sampler)
        assert len(epoch_batches) == len(batch_sampler) == 6
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
    for rank_batches in zip(*[list(s) for s in samplers]):
        global_batch = [i for b in rank_batches for i in b]
        assert [owner[i] for i in global_batch] == list(range(world * per_gpu))


def test_a_dataset_smaller_than_the_global_batch_is_refused():
    with pytest.raises(ValueError, match='6 images, fewer than the 8 subsets'):
        build(6, batch_size=8)


def test_a_sampler_without_dataset_is_refused():
    with pytest.raises(TypeError, match='needs a sampler with a dataset'):
        DisjointSubsetBatchSampler(iter(range(10)), batch_size=2)


def test_the_split_does_not_depend_on_the_run_seed():
    """A resumed run may get another seed: every image must keep its subset, i.e. its label."""
    first, resumed = build(100, 8, seed=123), build(100, 8, seed=98765)
    assert subset_of(first) == subset_of(resumed)
    assert subset_of(build(100, 8, split_seed=1)) != subset_of(first)  # the split's own seed
    # the run's seed still varies the order inside the subsets
    assert list(first) != list(resumed)


def test_the_dataloader_gives_its_batch_size_and_sampler(tmp_path, imagenet_images):
    """Built from a dataloader config as mmengine builds mmdet's AspectRatioBatchSampler."""
    import shutil

    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    import mejigclu_mm  # noqa: F401
    init_default_scope('mmpretrain')
    for path in imagenet_images[:8]:
        shutil.copy(path, tmp_path)
    loader = Runner.build_dataloader(dict(
        batch_size=4, num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=True),
        batch_sampler=dict(type='DisjointSubsetBatchSampler'),
        dataset=dict(type='mmpretrain.CustomDataset', data_root=str(tmp_path), with_label=False,
                     pipeline=[])), seed=3)
    assert isinstance(loader.batch_sampler, DisjointSubsetBatchSampler)
    assert loader.batch_sampler.batch_size == 4
    assert loader.batch_sampler.sampler.seed == 3
    assert len(loader) == 2 and [len(batch) for batch in loader.batch_sampler] == [4, 4]


def batch_sampler_worker(rank, world_size, out_dir):
    import json
    sampler = DefaultSampler(range(50), seed=7)
    sampler.set_epoch(2)
    batch_sampler = DisjointSubsetBatchSampler(sampler, batch_size=3)
    with open(f'{out_dir}/{rank}.json', 'w') as file:
        json.dump(dict(batches=list(batch_sampler), subsets=batch_sampler.subsets.tolist()), file)


@pytest.mark.slow
def test_two_processes_each_global_batch_holds_every_subset_in_order(tmp_path):
    import json

    from distributed import run_in_processes
    run_in_processes(batch_sampler_worker, 2, str(tmp_path))
    results = [json.loads((tmp_path / f'{r}.json').read_text()) for r in range(2)]
    assert results[0]['subsets'] == results[1]['subsets']
    owner = {i: s for s, row in enumerate(results[0]['subsets']) for i in row}
    assert len(owner) == 48  # 6 subsets of 8 images; 2 images left out
    per_rank = [r['batches'] for r in results]
    assert len(per_rank[0]) == len(per_rank[1]) == 8
    for rank0, rank1 in zip(*per_rank):  # global batch = rank 0's 3 images, then rank 1's
        assert [owner[i] for i in rank0 + rank1] == list(range(6))
