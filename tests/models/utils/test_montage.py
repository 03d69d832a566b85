import pytest
import torch

from mejigclu_mm.models.utils import stitch_montages


def labelled_patches(num_images, grid, size=3):
    """Patch (image i, position q) is filled with the value 100 * i + q."""
    return [torch.stack([torch.full((1, size, size), 100. * i + q) for i in range(num_images)])
            for q in range(grid * grid)]


@pytest.mark.parametrize('grid,num_images', [(2, 8), (3, 5)])
def test_slots_hold_the_patches_their_labels_name_each_once(grid, num_images):
    torch.manual_seed(0)
    size = 3
    montages, source_image, source_position = stitch_montages(
        labelled_patches(num_images, grid, size), grid)
    assert montages.shape == (num_images, 1, grid * size, grid * size)
    seen = set()
    for slot in range(grid * grid):
        row, col = divmod(slot, grid)
        for k in range(num_images):
            cell = montages[k, 0, row * size:(row + 1) * size, col * size:(col + 1) * size]
            index = slot * num_images + k  # slot-major, as DecoupleNeck emits features
            expected = 100. * source_image[index].item() + source_position[index].item()
            assert torch.all(cell == expected)
            seen.add((source_image[index].item(), source_position[index].item()))
    assert seen == {(i, q) for i in range(num_images) for q in range(grid * grid)}


def test_montages_mix_images_and_follow_the_permutation():
    torch.manual_seed(1)
    _, source_image, _ = stitch_montages(labelled_patches(16, 2), 2)
    per_montage = source_image.view(4, 16).t()  # montage x slot
    assert sum(len(set(m.tolist())) > 1 for m in per_montage) >= 12
    torch.manual_seed(1)
    perm = torch.randperm(4 * 16)
    assert torch.equal(source_image, perm % 16)  # p mod N, in slot-major order


def test_rejects_wrong_number_or_shapes_of_patches():
    patches = labelled_patches(4, 2)
    with pytest.raises(ValueError, match='grid \\* grid = 4'):
        stitch_montages(patches[:3], 2)
    patches[1] = torch.zeros(4, 1, 5, 5)
    with pytest.raises(ValueError, match='one shape'):
        stitch_montages(patches, 2)
