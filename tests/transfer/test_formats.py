"""The detectron2 name table, applied both ways, on every name of real ResNet layouts."""
import pytest
import torch

from mejigclu_mm.transfer import NAME_PIECES, expected_resnet_keys, from_detectron2, to_detectron2


@pytest.mark.parametrize('depth', [18, 50])
def test_every_resnet_name_goes_to_detectron2_and_back(depth):
    names = [k for k in expected_resnet_keys(depth) if not k.endswith('num_batches_tracked')]
    state = {name: torch.full((1, ), float(i)) for i, name in enumerate(names)}
    model = to_detectron2(state)['model']
    assert len(model) == len(state)  # no two names collapse into one
    assert all(name.startswith(('stem.conv1.', 'res2.', 'res3.', 'res4.', 'res5.'))
               for name in model)
    back = from_detectron2(model)
    assert list(back) == names
    for name, value in back.items():
        assert torch.equal(value, state[name]), name


def test_detectron2_names_of_each_table_row():
    by_hand = {  # torchvision: detectron2, one per row of NAME_PIECES and the stem / block BN
        'conv1.weight': 'stem.conv1.weight',
        'bn1.running_mean': 'stem.conv1.norm.running_mean',
        'layer1.0.conv1.weight': 'res2.0.conv1.weight',
        'layer1.0.bn1.weight': 'res2.0.conv1.norm.weight',
        'layer2.1.bn2.bias': 'res3.1.conv2.norm.bias',
        'layer3.5.bn3.running_var': 'res4.5.conv3.norm.running_var',
        'layer4.0.downsample.0.weight': 'res5.0.shortcut.weight',
        'layer4.0.downsample.1.weight': 'res5.0.shortcut.norm.weight',
    }
    model = to_detectron2({k: torch.zeros(1) for k in by_hand})['model']
    assert list(model) == list(by_hand.values())
    assert list(from_detectron2(model)) == list(by_hand)
    assert len(NAME_PIECES) == 11


@pytest.mark.parametrize('name', ['fc.weight', 'heads.clu.mlp.0.weight', 'stem.conv1.weight'])
def test_non_backbone_torchvision_names_are_refused(name):
    with pytest.raises(KeyError, match='not a torchvision ResNet key'):
        to_detectron2({name: torch.zeros(1)})


@pytest.mark.parametrize('name', ['conv1.weight', 'roi_heads.box_predictor.cls_score.weight'])
def test_non_backbone_detectron2_names_are_refused(name):
    with pytest.raises(KeyError, match='not a detectron2 ResNet key'):
        from_detectron2({name: torch.zeros(1)})
