"""Weights with NaN or Inf are refused with the file, the count and a name."""
import pytest
import torch

from mejigclu_mm.runtime import NonFiniteCheckpointError
from mejigclu_mm.transfer import check_finite


def test_counts_floating_tensors_and_names_the_first_bad_one():
    tensors = {'conv1.weight': torch.ones(2), 'bn1.num_batches_tracked': torch.tensor(3),
               'bn1.weight': torch.tensor([1.0, float('inf')]),
               'bn1.bias': torch.tensor([float('-inf'), float('nan')]),
               'bn1.running_mean': torch.zeros(2, dtype=torch.float16)}
    with pytest.raises(NonFiniteCheckpointError) as error:
        check_finite(tensors, 'work_dirs/run/epoch_3.pth')
    assert str(error.value).startswith(
        'checkpoint work_dirs/run/epoch_3.pth has 2 of 4 tensors with NaN or Inf values (e.g. '
        'bn1.weight): the run that wrote it diverged')


def test_finite_weights_and_other_values_pass():
    check_finite({'w': torch.randn(3), 'count': torch.tensor(2**40), 'note': 'text'}, 'f.pth')
