import pytest
import torch

from mejigclu_mm.models.utils import stitch_montages


@pytest.mark.parametrize('grid', [2, 3])
def test_slot_j_of_montage_k_lands_in_row_major_cell_j(grid):
    n, size = 3, 4
    slots = torch.stack([torch.stack([torch.full((2, size, size), 10. * j + k) for k in range(n)])
                         for j in range(grid * grid)])
    montages = stitch_montages(slots, grid)
    assert montages.shape == (n, 2, grid * size, grid * size)
    for j in range(grid * grid):
        row, col = divmod(j, grid)
        for k in range(n):
            cell = montages[k, :, row * size:(row + 1) * size, col * size:(col + 1) * size]
            assert torch.all(cell == 10. * j + k)


def test_refuses_slots_that_do_not_fill_the_grid():
    with pytest.raises(ValueError, match='grid\\*grid = 4'):
        stitch_montages(torch.zeros(3, 2, 1, 4, 4), 2)
