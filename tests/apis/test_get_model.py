"""mmpretrain's get_model and FeatureExtractor on this project's configs and checkpoints."""
import numpy as np
import pytest
import torch
from conftest import ROOT, real_image_paths
from mmengine.config import Config

from mejigclu_mm.evaluation.inference import inference_config

PRETRAIN = {
    'mejigclu': ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    'jigclu': ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
}
LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
LINEAR_R50 = ROOT / 'configs/mejigclu/benchmarks/resnet50_4xb64-linear-lr10-steplr-100e_in1k.py'
PRETRAIN_R50 = ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py'
# The lines proposed for the pretraining bases (the configs as shipped have no test pipeline:
# mmengine's Runner refuses a test_dataloader without test_cfg and test_evaluator).
TEST_PIPELINES = {
    'fashion': 'test_pipeline = _base_.test_pipeline\n',
    'imagenet': ("test_pipeline = [dict(type='LoadImageFromFile'), dict(type='ResizeEdge', "
                 "scale=256, edge='short', backend='pillow'), dict(type='CenterCrop', "
                 "crop_size=224), dict(type='PackInputs')]\n"),
}


def pretraining_checkpoint(config, path, seed=0):
    """A checkpoint as the pretraining writes it, from the model's state dict with random
    values (BN statistics too), so that loading is checked on values the model does not have
    when it is built."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    state = MODELS.build(Config.fromfile(config).model).state_dict()
    for name, value in state.items():
        if value.is_floating_point():
            value.copy_(torch.randn_like(value).abs() + 0.5 if 'running_var' in name
                        else torch.randn_like(value) * 0.05)
    torch.save({'meta': {'epoch': 1}, 'state_dict': state}, path)
    return state


@pytest.mark.parametrize('method', ['mejigclu', 'jigclu'])
def test_get_model_on_a_pretraining_config_loads_the_whole_algorithm(method, tmp_path):
    from mmpretrain import get_model
    state = pretraining_checkpoint(PRETRAIN[method], tmp_path / 'epoch_1.pth')
    model = get_model(str(PRETRAIN[method]), pretrained=str(tmp_path / 'epoch_1.pth'),
                      device='cpu')
    assert type(model).__name__ == 'JigsawClustering' and not model.training
    loaded = model.state_dict()
    assert loaded.keys() == state.keys()
    for key, value in state.items():
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model.extract_feat(x)[-1], model.backbone(x)[-1])
        assert model(x, mode='tensor')[-1].shape == (2, 512, 4, 4)


def test_get_model_on_the_linear_configs_takes_the_backbone(r50_pretrain_checkpoint):
    """A pretraining checkpoint into a linear config: the backbone is the checkpoint's
    ``backbone.*`` tensors (the head stays as built; mmengine lists the other keys)."""
    from mmpretrain import get_model
    state = torch.load(r50_pretrain_checkpoint, weights_only=True)['state_dict']
    model = get_model(str(LINEAR_R50), pretrained=str(r50_pretrain_checkpoint), device='cpu')
    backbone = model.backbone.state_dict()
    assert backbone.keys() == {k[len('backbone.'):] for k in state if k.startswith('backbone.')}
    for key, value in backbone.items():
        torch.testing.assert_close(value, state[f'backbone.{key}'], rtol=0, atol=0)


def test_feature_extractor_on_a_linear_config(tmp_path):
    """FeatureExtractor works on the linear configs as shipped: pooled (neck) features of
    image files, computed with the checkpoint's backbone."""
    from mmpretrain import get_model
    from mmpretrain.apis import FeatureExtractor
    pretraining_checkpoint(PRETRAIN['mejigclu'], tmp_path / 'epoch_1.pth')
    images = [str(p) for p in real_image_paths('fashionMNIST')[:3]]
    extractor = FeatureExtractor(str(LINEAR), pretrained=str(tmp_path / 'epoch_1.pth'),
                                 device='cpu')
    pooled = extractor(images, batch_size=2)
    assert [tuple(p[0].shape) for p in pooled] == [(512, )] * 3
    maps = extractor(images, batch_size=3, stage='backbone')
    for p, m in zip(pooled, maps):
        torch.testing.assert_close(p[0], m[-1].mean((1, 2)), atol=1e-5, rtol=1e-5)
    pretrained = get_model(str(PRETRAIN['mejigclu']), pretrained=str(tmp_path / 'epoch_1.pth'))
    torch.testing.assert_close(extractor.model.backbone.state_dict(),
                               pretrained.backbone.state_dict())


@pytest.mark.parametrize('config, lines', [(PRETRAIN['mejigclu'], TEST_PIPELINES['fashion']),
                                           (PRETRAIN_R50, TEST_PIPELINES['imagenet'])])
def test_feature_extractor_on_a_pretraining_config(config, lines, tmp_path):
    """A pretraining config with its test pipeline, through inference_config: layer4 maps of
    whole images, the same (pooled) as tools/extract_features.py computes through our own
    checkpoint loading and pipeline code."""
    import extract_features

    from mmpretrain.apis import FeatureExtractor
    derived = tmp_path / 'pretrain.py'
    derived.write_text(f"_base_ = '{config}'\n{lines}")
    checkpoint = str(tmp_path / 'epoch_1.pth')
    pretraining_checkpoint(derived, checkpoint)
    with pytest.raises(AttributeError, match='test_dataloader'):  # what mmpretrain needs
        FeatureExtractor(str(derived), pretrained=checkpoint, device='cpu')
    extractor = FeatureExtractor(inference_config(str(derived)), pretrained=checkpoint,
                                 device='cpu')
    (tmp_path / 'images').mkdir()
    image = real_image_paths('imagenet')[0]
    (tmp_path / 'images' / image.name).write_bytes(image.read_bytes())
    maps = extractor([str(image)])[0][-1]
    assert maps.shape == ((2048, 7, 7) if config == PRETRAIN_R50 else (512, 4, 4))
    ours = extract_features.main([str(derived), checkpoint, str(tmp_path / 'images'), '--out',
                                  str(tmp_path / 'f.npz'), '--device', 'cpu',
                                  '--num-workers', '0'])['features'][0]
    pooled = torch.nn.functional.normalize(maps.mean((1, 2)), dim=0)
    np.testing.assert_allclose(ours, pooled.numpy(), atol=2e-5)
