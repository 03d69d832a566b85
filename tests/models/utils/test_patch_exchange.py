"""The montage exchange: each rank receives exactly its montages' patches (all_to_all), with
the same slots, labels and slot ids as an all-gather of the whole batch, and about its own
bytes; the permutation comes from a generator seeded alike on every rank."""
import pytest
import torch
import torch.distributed as dist
from all_gather_exchange import exchange_by_all_gather
from distributed import run_in_processes

from mejigclu_mm.models.utils import exchange_patches


def labelled_patches(images, grid, size=16):
    """uint8 patches; patch (image i, position q) is filled with the value 4 * i + q."""
    return [torch.stack([torch.full((3, size, size), 4 * i + q, dtype=torch.uint8)
                         for i in images]) for q in range(grid * grid)]


def check_slots_hold_what_labels_name(exchanged, rank, grid):
    slots, targets, slot_ids = exchanged
    local_n = slots.size(1)
    rows = slice(rank * grid * grid * local_n, (rank + 1) * grid * grid * local_n)
    expected = 4 * targets.source_image[rows] + targets.source_position[rows]
    assert torch.equal(slots[:, :, 0, 0, 0].reshape(-1).long(), expected)
    assert torch.all(slots == slots[:, :, :1, :1, :1])  # whole patches moved, not parts
    # the slot ids are the global patch ids: position * N + image
    global_id = targets.source_position[rows] * targets.num_images + targets.source_image[rows]
    assert torch.equal(slot_ids, global_id)


@pytest.mark.parametrize('grid,num_images', [(2, 8), (3, 5)])
def test_one_process_slots_hold_the_patches_their_labels_name_each_once(grid, num_images):
    exchanged = exchange_patches(labelled_patches(range(num_images), grid),
                                 torch.Generator().manual_seed(0))
    slots, targets, _ = exchanged
    assert slots.shape == (grid * grid, num_images, 3, 16, 16) and slots.dtype == torch.uint8
    check_slots_hold_what_labels_name(exchanged, 0, grid)
    pairs = set(zip(targets.source_image.tolist(), targets.source_position.tolist()))
    assert pairs == {(i, q) for i in range(num_images) for q in range(grid * grid)}
    assert targets.num_images == num_images and targets.grid == grid
    assert targets.num_patches == grid * grid * num_images


def test_labels_follow_the_permutation_and_the_generator_decides_it():
    perm = torch.randperm(4 * 16, generator=torch.Generator().manual_seed(1))
    _, targets, _ = exchange_patches(labelled_patches(range(16), 2), perm=perm)
    assert torch.equal(targets.source_image, perm % 16)  # slot-major: perm[slot * N + k]
    assert torch.equal(targets.source_position, perm // 16)
    per_montage = targets.source_image.view(4, 16).t()
    assert sum(len(set(m.tolist())) > 1 for m in per_montage) >= 12  # images are mixed
    patches = labelled_patches(range(16), 2)
    same = [exchange_patches(patches, torch.Generator().manual_seed(9))[0] for _ in range(2)]
    other = exchange_patches(patches, torch.Generator().manual_seed(10))[0]
    assert torch.equal(same[0], same[1]) and not torch.equal(same[0], other)


def test_rejects_wrong_number_or_shapes_of_patches():
    patches = labelled_patches(range(4), 2)
    with pytest.raises(ValueError, match='expected m\\*m patch batches.*got 3'):
        exchange_patches(patches[:3])
    patches[1] = torch.zeros(4, 3, 5, 5, dtype=torch.uint8)
    with pytest.raises(ValueError, match='one shape'):
        exchange_patches(patches)


class ByteCounter:
    """Wraps the collectives and adds up the bytes this rank receives."""

    def __init__(self, monkeypatch):
        self.received = 0
        for name in ('all_to_all_single', 'all_gather', 'broadcast'):
            monkeypatch.setattr(dist, name, self.counting(name, getattr(dist, name)))

    def counting(self, name, collective):
        def wrapped(*args, **kwargs):
            if name == 'all_to_all_single':
                self.received += args[0].numel() * args[0].element_size()
            elif name == 'all_gather':
                self.received += sum(t.numel() * t.element_size() for t in args[0])
            elif dist.get_rank() != kwargs.get('src', args[1] if len(args) > 1 else 0):
                self.received += args[0].numel() * args[0].element_size()
            return collective(*args, **kwargs)
        return wrapped


def exchange_worker(rank, world_size, grid, local_n, out_dir):
    import pytest as _pytest
    monkeypatch = _pytest.MonkeyPatch()
    counter = ByteCounter(monkeypatch)
    images = range(rank * local_n, (rank + 1) * local_n)
    patches = labelled_patches(images, grid)
    own_bytes = sum(p.numel() * p.element_size() for p in patches)
    # every rank's own global stream is different: the generator alone decides the permutation
    torch.manual_seed(100 + rank)
    exchanged = exchange_patches(patches, torch.Generator().manual_seed(5))
    new_bytes, counter.received = counter.received, 0
    perm = torch.randperm(grid * grid * local_n * world_size,
                          generator=torch.Generator().manual_seed(6))
    reference = exchange_by_all_gather(patches, perm)
    old_bytes = counter.received
    same_perm = exchange_patches(patches, perm=perm)
    monkeypatch.undo()
    torch.save(dict(exchanged=tuple(exchanged), reference=tuple(reference),
                    same_perm=tuple(same_perm), own=own_bytes, new=new_bytes, old=old_bytes),
               f'{out_dir}/{rank}.pth')


@pytest.mark.slow
@pytest.mark.parametrize('world_size', [2, 4])
def test_ranks_receive_their_own_bytes_and_match_the_all_gather(world_size, tmp_path):
    grid, local_n = 2, 3
    run_in_processes(exchange_worker, world_size, grid, local_n, str(tmp_path))
    results = [torch.load(tmp_path / f'{r}.pth', weights_only=False) for r in range(world_size)]
    used = []
    for rank, result in enumerate(results):
        targets = result['exchanged'][1]
        # every rank derives the same labels for all gathered rows, without communication
        assert torch.equal(targets.source_image, results[0]['exchanged'][1].source_image)
        check_slots_hold_what_labels_name(result['exchanged'], rank, grid)
        used += result['exchanged'][0][:, :, 0, 0, 0].reshape(-1).tolist()
        # for the same permutation, the all-gather path gives the same slots, labels and ids
        for mine, ref in zip(result['same_perm'], result['reference']):
            if isinstance(mine, torch.Tensor):
                assert torch.equal(mine, ref)
            else:
                assert torch.equal(mine.source_image, ref.source_image)
                assert torch.equal(mine.source_position, ref.source_position)
        # bytes received per step: about the rank's own patches
        assert result['new'] <= 1.2 * result['own']
        assert result['old'] >= 0.95 * world_size * result['own']
    assert sorted(used) == sorted(4 * i + q for i in range(world_size * local_n)
                                  for q in range(grid * grid))  # every patch exactly once
