"""ResNet names and depths, read from mmpretrain's ResNet, against torchvision's models."""
import pytest
import torch
import torchvision

from mejigclu_mm.transfer import (BackboneError, check_complete_resnet, expected_resnet_keys,
                                  infer_resnet_depth)


@pytest.mark.parametrize('depth', [18, 34, 50, 101, 152])
def test_expected_keys_are_torchvisions_without_fc(depth):
    with torch.device('meta'):  # names only: no memory, no initialisation
        model = getattr(torchvision.models, f'resnet{depth}')()
    names = [name for name in model.state_dict() if not name.startswith('fc.')]
    assert list(expected_resnet_keys(depth)) == names


@pytest.mark.parametrize('depth', [18, 50, 101])
def test_depth_is_inferred_from_the_blocks(depth):
    state = dict.fromkeys(expected_resnet_keys(depth), torch.zeros(1))
    assert infer_resnet_depth(state) == (depth, 'basic' if depth < 50 else 'bottleneck')
    assert check_complete_resnet(state) == depth


def test_unknown_depth_and_unknown_block_counts_are_refused():
    with pytest.raises(KeyError, match='no ResNet of depth 26'):
        expected_resnet_keys(26)
    state = {k: torch.zeros(1) for k in expected_resnet_keys(50) if not k.startswith('layer3.5.')}
    with pytest.raises(BackboneError, match=r'bottleneck blocks per stage \[3, 4, 5, 3\]'):
        infer_resnet_depth(state)
