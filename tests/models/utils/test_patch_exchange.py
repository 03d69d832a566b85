"""The montage exchange: each rank receives exactly its montages' patches (all_to_all), with
the same slots and labels as an all-gather of the whole batch, and about its own bytes."""
import pytest
import torch
import torch.distributed as dist

from distributed import run_in_processes
from mejigclu_mm.models.utils import exchange_by_all_gather, exchange_patches


def labelled_patches(images, grid, size=16):
    """uint8 patches; patch (image i, position q) is filled with the value 4 * i + q."""
    return [torch.stack([torch.full((3, size, size), 4 * i + q, dtype=torch.uint8)
                         for i in images]) for q in range(grid * grid)]


def check_slots_hold_what_labels_name(slots, targets, rank, grid):
    local_n = slots.size(1)
    rows = slice(rank * grid * grid * local_n, (rank + 1) * grid * grid * local_n)
    expected = 4 * targets.source_image[rows] + targets.source_position[rows]
    assert torch.equal(slots[:, :, 0, 0, 0].reshape(-1).long(), expected)
    assert torch.all(slots == slots[:, :, :1, :1, :1])  # whole patches moved, not parts


@pytest.mark.parametrize('grid,num_images', [(2, 8), (3, 5)])
def test_one_process_slots_hold_the_patches_their_labels_name_each_once(grid, num_images):
    torch.manual_seed(0)
    slots, targets = exchange_patches(labelled_patches(range(num_images), grid), grid)
    assert slots.shape == (grid * grid, num_images, 3, 16, 16) and slots.dtype == torch.uint8
    check_slots_hold_what_labels_name(slots, targets, 0, grid)
    pairs = set(zip(targets.source_image.tolist(), targets.source_position.tolist()))
    assert pairs == {(i, q) for i in range(num_images) for q in range(grid * grid)}
    assert targets.num_images == num_images and targets.grid == grid


def test_labels_follow_the_permutation():
    perm = torch.randperm(4 * 16, generator=torch.Generator().manual_seed(1))
    _, targets = exchange_patches(labelled_patches(range(16), 2), 2, perm)
    assert torch.equal(targets.source_image, perm % 16)  # slot-major: perm[slot * N + k]
    assert torch.equal(targets.source_position, perm // 16)
    per_montage = targets.source_image.view(4, 16).t()
    assert sum(len(set(m.tolist())) > 1 for m in per_montage) >= 12  # images are mixed


def test_rejects_wrong_number_or_shapes_of_patches():
    patches = labelled_patches(range(4), 2)
    with pytest.raises(ValueError, match='grid \\* grid = 4'):
        exchange_patches(patches[:3], 2)
    patches[1] = torch.zeros(4, 3, 5, 5, dtype=torch.uint8)
    with pytest.raises(ValueError, match='one shape'):
        exchange_patches(patches, 2)


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
    torch.manual_seed(5)  # the permutation is drawn on rank 0 and broadcast
    slots, targets = exchange_patches(patches, grid)
    new_bytes, counter.received = counter.received, 0
    perm = torch.randperm(grid * grid * local_n * world_size)
    dist.broadcast(perm, src=0)
    counter.received = 0
    ref_slots, ref_targets = exchange_by_all_gather(patches, grid, perm)
    old_bytes = counter.received
    same_perm_slots, same_perm_targets = exchange_patches(patches, grid, perm)
    monkeypatch.undo()
    torch.save(dict(slots=slots, targets=targets, ref_slots=ref_slots, ref_targets=ref_targets,
                    same_perm_slots=same_perm_slots, same_perm_targets=same_perm_targets,
                    own=own_bytes, new=new_bytes,
                    old=old_bytes), f'{out_dir}/{rank}.pth')


@pytest.mark.parametrize('world_size', [2, 4])
def test_ranks_receive_their_own_bytes_and_match_the_all_gather(world_size, tmp_path):
    grid, local_n = 2, 3
    run_in_processes(exchange_worker, world_size, grid, local_n, str(tmp_path))
    results = [torch.load(tmp_path / f'{r}.pth', weights_only=False) for r in range(world_size)]
    used = []
    for rank, result in enumerate(results):
        targets = result['targets']
        # every rank derives the same labels for all gathered rows, without communication
        assert torch.equal(targets.source_image, results[0]['targets'].source_image)
        check_slots_hold_what_labels_name(result['slots'], targets, rank, grid)
        used += result['slots'][:, :, 0, 0, 0].reshape(-1).tolist()
        # for the same permutation, the all-gather path gives the same slots and labels
        assert torch.equal(result['same_perm_slots'], result['ref_slots'])
        for field in ('source_image', 'source_position'):
            assert torch.equal(getattr(result['same_perm_targets'], field),
                               getattr(result['ref_targets'], field))
        # bytes received per step: about the rank's own patches (plus the permutation)
        assert result['new'] <= 1.2 * result['own']
        assert result['old'] >= 0.95 * world_size * result['own']
    assert sorted(used) == sorted(4 * i + q for i in range(world_size * local_n)
                                  for q in range(grid * grid))  # every patch exactly once
