"""What the export tests convert: one torchvision ResNet-50 whose BN statistics come from real
photos (random weights, but features that are neither zero nor exploding, so that comparing
features means something), saved in the field's checkpoint layouts and exported.

Made once per test session whichever test module asks first (the functions are memoised; a
``conftest.py`` here would shadow ``tests/conftest.py`` for ``from conftest import ...``).
"""
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import torch
import torchvision
from PIL import Image
from torchvision import transforms

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_PREPROCESS = transforms.Compose(
    [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])


def real_image_batch(paths, size=224):
    """Centre crops of real photos, through torchvision's ImageNet preprocessing."""
    crop = transforms.Compose([transforms.Resize(size), transforms.CenterCrop(size)])
    return torch.stack([TORCHVISION_PREPROCESS(crop(Image.open(p).convert('RGB')))
                        for p in paths])


def with_real_statistics(model, images, seed=0):
    """``model`` with random BN affine parameters and the BN statistics of ``images``."""
    generator = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            with torch.no_grad():
                module.weight.copy_(1 + 0.2 * torch.randn(module.weight.shape,
                                                          generator=generator))
                module.bias.copy_(0.1 * torch.randn(module.bias.shape, generator=generator))
            module.reset_running_stats()
            module.momentum = None  # a plain average over the batches seen
    model.train()
    with torch.no_grad():
        model(images)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = 0.1
    return model.eval()


def layer4(model, images):
    """torchvision ResNet's last stage output (before pooling)."""
    body = torch.nn.Sequential(*list(model.children())[:-2])
    with torch.no_grad():
        return body(images)


@lru_cache(maxsize=None)
def source_resnet50():
    """torchvision's ResNet-50, random weights, BN statistics of 8 real photos (eval mode)."""
    from conftest import real_image_paths  # tests/conftest.py
    torch.manual_seed(0)
    return with_real_statistics(torchvision.models.resnet50(), real_image_batch(
        real_image_paths('imagenet')[:8]))


def backbone_state(model):
    return OrderedDict((k, v.clone()) for k, v in model.state_dict().items()
                       if not k.startswith('fc.'))


def under(prefix, state):
    return OrderedDict((prefix + k, v) for k, v in state.items())


@lru_cache(maxsize=None)
def source_checkpoints(r50_pretrain_checkpoint: Path, base: Path) -> dict:
    """:func:`source_resnet50`'s backbone in three layouts, written under ``base``: ours (the
    pretraining checkpoint ``r50_pretrain_checkpoint`` with this backbone, heads and meta
    included), the official JigClu script's and the official MoCo script's."""
    state = backbone_state(source_resnet50())
    root = base / 'source_checkpoints'
    root.mkdir()
    ours = torch.load(r50_pretrain_checkpoint, weights_only=True)
    assert set(k for k in ours['state_dict'] if k.startswith('backbone.')) == set(
        under('backbone.', state))
    ours['state_dict'].update(under('backbone.', state))
    heads = OrderedDict((f'fc_clu.{i}.weight', torch.randn(4, 4)) for i in (0, 2))
    official_jigclu = {
        'epoch': 200, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
        'state_dict': OrderedDict(**under('module.encoder.', state),
                                  **under('module.encoder.', heads),
                                  **{'module.encoder.fc_loc.weight': torch.randn(4, 2048)})}
    momentum = OrderedDict((k, v + 1) if v.is_floating_point() else (k, v)
                           for k, v in state.items())
    official_moco = {
        'epoch': 200, 'arch': 'resnet50', 'optimizer': {'state': {}, 'param_groups': []},
        'state_dict': OrderedDict(**under('module.encoder_q.', state),
                                  **{'module.encoder_q.fc.0.weight': torch.randn(4, 2048)},
                                  **under('module.encoder_k.', momentum),
                                  **{'module.queue': torch.randn(128, 16),
                                     'module.queue_ptr': torch.zeros(1, dtype=torch.long)})}
    paths = {}
    for layout, checkpoint in (('ours', ours), ('official JigClu', official_jigclu),
                               ('official MoCo', official_moco)):
        paths[layout] = root / f'{layout.replace(" ", "_")}.pth'
        torch.save(checkpoint, paths[layout])
    return paths


@lru_cache(maxsize=None)
def detectron2_exports(r50_pretrain_checkpoint: Path, base: Path) -> dict:
    """``tools/convert_weights.py SRC DST.pkl --to detectron2`` of each source layout: the
    ``.pkl`` paths (the settings file lies beside each, same name, ``.yaml``)."""
    import convert_weights
    root = base / 'detectron2_exports'
    root.mkdir()
    exports = {}
    for layout, src in source_checkpoints(r50_pretrain_checkpoint, base).items():
        exports[layout] = root / f'{src.stem}_d2.pkl'
        assert convert_weights.main([str(src), str(exports[layout]), '--to', 'detectron2']) == 0
    return exports
