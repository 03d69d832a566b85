"""Our --to detectron2 export in detectron2 itself (v0.6, the test stand-in of
tools/setup_env.sh): Faster R-CNN R50-FPN and R50-C4 built from the settings file the export
writes take every backbone tensor, and their res5 computes torchvision's layer4 on a real photo;
with detectron2's default stride placement the same file loads as quietly and computes
something else."""
import logging
import pickle

import numpy as np
import pytest
import torch
from export_sources import TORCHVISION_PREPROCESS, detectron2_exports, layer4, source_resnet50

from mejigclu_mm.transfer import torchvision_name
from mejigclu_mm.transfer.detectron2_settings import read_detectron2_settings, settings_conflicts

pytest.importorskip('detectron2')
from detectron2 import model_zoo  # noqa: E402
from detectron2.checkpoint import DetectionCheckpointer  # noqa: E402
from detectron2.config import get_cfg  # noqa: E402
from detectron2.data.detection_utils import read_image  # noqa: E402
from detectron2.modeling import build_model  # noqa: E402

# detectron2's model-zoo configs of the two detectors; where each holds the ResNet's stages
DETECTORS = {
    'R50-FPN': ('COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml', {'backbone.bottom_up.': ''}),
    'R50-C4': ('COCO-Detection/faster_rcnn_R_50_C4_1x.yaml',
               {'backbone.': '', 'roi_heads.res5.': 'res5.'}),
}
R50_TENSORS = 265  # 53 convolutions, 53 BN layers x 4 (no BN counters in detectron2)


def settings_of(pkl):
    return pkl.with_suffix('.yaml')


def build_detector(arch, pkl, *overrides):
    """detectron2's detector from its model-zoo config, the export's settings file merged in
    (as the file's header says), loaded from the .pkl; returns (model, cfg, incompatible)."""
    cfg = get_cfg()
    cfg.merge_from_file(model_zoo.get_config_file(DETECTORS[arch][0]))
    cfg.merge_from_file(str(settings_of(pkl)))
    cfg.merge_from_list(['MODEL.DEVICE', 'cpu', *overrides])
    model = build_model(cfg).eval()
    checkpointer = DetectionCheckpointer(model)
    incompatible = checkpointer._load_model(checkpointer._load_file(cfg.MODEL.WEIGHTS))
    return model, cfg, incompatible


def resnet_part(model, arch):
    """The detector's ResNet tensors under torchvision names."""
    found = {}
    for name, value in model.state_dict().items():
        for prefix, replacement in DETECTORS[arch][1].items():
            if name.startswith(prefix) and not name.startswith('backbone.fpn'):
                found[torchvision_name(replacement + name[len(prefix):])] = value
    return found


def detector_res5(model, arch, image_path, input_format):
    """res5 of the detector on a photo read and normalised by detectron2 itself."""
    image = read_image(str(image_path), format=input_format)
    tensor = torch.as_tensor(np.ascontiguousarray(image.transpose(2, 0, 1)), dtype=torch.float32)
    with torch.no_grad():
        images = model.preprocess_image([{'image': tensor}]).tensor
        if arch == 'R50-FPN':
            return model.backbone.bottom_up(images)['res5']
        return model.roi_heads.res5(model.backbone(images)['res4'])


@pytest.fixture(scope='module')
def exports(r50_pretrain_checkpoint, tmp_path_factory):
    return detectron2_exports(r50_pretrain_checkpoint, tmp_path_factory.getbasetemp())


@pytest.fixture(scope='module')
def photo(imagenet_images, tmp_path_factory):
    """A real ImageNet photo, cropped to 224 x 224 (a multiple of 32: no padding by FPN)."""
    from PIL import Image
    image = Image.open(imagenet_images[3]).convert('RGB')
    side = min(image.size)
    image = image.crop((0, 0, side, side)).resize((224, 224), Image.BILINEAR)
    path = tmp_path_factory.mktemp('photo') / 'photo.png'
    image.save(path)
    return path


@pytest.fixture(scope='module')
def reference_layer4(photo):
    """torchvision's layer4 on the photo, through torchvision's preprocessing."""
    from PIL import Image
    features = layer4(source_resnet50(), TORCHVISION_PREPROCESS(Image.open(photo)).unsqueeze(0))
    assert (features > 0).float().mean() > 0.1 and features.abs().max() > 1  # not a dead net
    return features


@pytest.mark.parametrize('arch', list(DETECTORS))
@pytest.mark.parametrize('layout', ['ours', 'official JigClu', 'official MoCo'])
def test_every_backbone_tensor_lands_and_only_heads_are_missing(layout, arch, exports):
    model, _, incompatible = build_detector(arch, exports[layout])
    resnet = resnet_part(model, arch)
    source = {k: v for k, v in source_resnet50().state_dict().items()
              if not k.startswith('fc.') and not k.endswith('num_batches_tracked')}
    assert len(resnet) == len(source) == R50_TENSORS
    for name, value in source.items():
        assert torch.equal(resnet[name], value), name
    assert incompatible.unexpected_keys == [] and incompatible.incorrect_shapes == []
    heads = {name for name in model.state_dict()
             if not any(name.startswith(p) for p in DETECTORS[arch][1])
             or name.startswith('backbone.fpn')}
    assert set(incompatible.missing_keys) == heads
    assert any('box_predictor' in name for name in heads)
    with open(exports[layout], 'rb') as file:
        assert len(pickle.load(file)['model']) == R50_TENSORS  # nothing else in the file


@pytest.mark.parametrize('arch', list(DETECTORS))
def test_res5_equals_torchvisions_layer4_on_a_real_photo(arch, exports, photo,
                                                         reference_layer4):
    model, cfg, _ = build_detector(arch, exports['ours'])
    res5 = detector_res5(model, arch, photo, cfg.INPUT.FORMAT)
    assert res5.shape == reference_layer4.shape
    difference = (res5 - reference_layer4).abs().max() / reference_layer4.abs().max()
    assert difference < 1e-3, f'res5 differs from layer4 by {difference:.2e} of its scale'


@pytest.mark.parametrize('arch', list(DETECTORS))
def test_detectron2s_default_stride_loads_quietly_and_is_detected_as_wrong(
        arch, exports, photo, reference_layer4):
    pkl = exports['ours']
    model, cfg, incompatible = build_detector(arch, pkl, 'MODEL.RESNETS.STRIDE_IN_1X1', 'True')
    assert incompatible.unexpected_keys == [] and incompatible.incorrect_shapes == []
    assert not any(name.startswith(('backbone.bottom_up.', 'roi_heads.res5.'))
                   for name in incompatible.missing_keys)  # the whole backbone loads
    res5 = detector_res5(model, arch, photo, cfg.INPUT.FORMAT)
    difference = (res5 - reference_layer4).abs().max() / reference_layer4.abs().max()
    assert difference > 0.1, f'with the stride on the 1 x 1 convolution res5 differs by only ' \
                             f'{difference:.2e}'
    conflicts = settings_conflicts(cfg, read_detectron2_settings(settings_of(pkl)))
    assert conflicts == {'MODEL.RESNETS.STRIDE_IN_1X1': (False, True)}


def test_the_settings_file_merges_without_a_version_warning(exports):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger('detectron2.config.compat')  # where guess_version warns
    logger.addHandler(handler)
    try:
        get_cfg().merge_from_file(str(settings_of(exports['ours'])))
        without_version = settings_of(exports['ours']).with_name('old.yaml')
        text = settings_of(exports['ours']).read_text()
        without_version.write_text(text.replace('VERSION: 2\n', ''))
        assert 'VERSION' not in without_version.read_text()
        assert records == []
        get_cfg().merge_from_file(str(without_version))  # the case the VERSION line avoids
        assert any('has no VERSION' in r.getMessage() for r in records)
    finally:
        logger.removeHandler(handler)
