"""The detectron2 settings that torchvision-trained ResNet weights need.

detectron2's defaults describe its MSRA (Caffe2) weights: BGR input, pixel means on the 0-255
scale with a standard deviation of 1, and the stride-2 convolution on a bottleneck's first 1 x 1
(``STRIDE_IN_1X1: True``). Weights trained as torchvision trains a ResNet (ours, JigClu's, MoCo's)
take RGB input normalised with torchvision's ImageNet mean and std, and put the stride on the 3 x
3 convolution. With detectron2's defaults they load without a word and train worse; the
official JigClu detection config sets exactly these values.
"""
import shlex
from collections import OrderedDict

import yaml

# torchvision's ImageNet mean and std (0.485, 0.456, 0.406 / 0.229, 0.224, 0.225) x 255.
PIXEL_MEAN = [123.675, 116.28, 103.53]
PIXEL_STD = [58.395, 57.12, 57.375]


def detectron2_settings(weights: str, depth: int) -> 'OrderedDict[str, object]':
    """detectron2 config keys (dotted) and values for the ResNet weights in ``weights``.

    Args:
        weights (str): The ``.pkl`` file (``MODEL.WEIGHTS``).
        depth (int): The ResNet's depth (``MODEL.RESNETS.DEPTH``).
    """
    settings = OrderedDict([
        ('MODEL.WEIGHTS', weights),
        ('MODEL.PIXEL_MEAN', list(PIXEL_MEAN)),
        ('MODEL.PIXEL_STD', list(PIXEL_STD)),
        ('MODEL.RESNETS.DEPTH', depth),
        ('MODEL.RESNETS.STRIDE_IN_1X1', False),
        ('INPUT.FORMAT', 'RGB'),
    ])
    if depth < 50:  # detectron2 builds R18 / R34 only with 64 channels after the stem
        settings['MODEL.RESNETS.RES2_OUT_CHANNELS'] = 64
    return settings


class _FlowListDumper(yaml.SafeDumper):
    """Block mappings, lists on one line (``PIXEL_MEAN: [123.675, 116.28, 103.53]``)."""


_FlowListDumper.add_representer(
    list, lambda dumper, value: dumper.represent_sequence('tag:yaml.org,2002:seq', value,
                                                          flow_style=True))


def detectron2_settings_yaml(settings: 'OrderedDict[str, object]') -> str:
    """``settings`` as a detectron2 YAML config fragment (nested keys), with a header comment.

    Args:
        settings (OrderedDict): From :func:`detectron2_settings`.
    """
    nested: dict = {}
    for key, value in settings.items():
        *parents, leaf = key.split('.')
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    header = ('# detectron2 settings for torchvision-style ResNet weights\n'
              '# (written by mejigclu_mm\'s tools/convert_weights.py). Merge into a config:\n'
              '# cfg.merge_from_file(this file) after the base config, or add\n'
              '# "_BASE_: <your config>" on top.\n')
    return header + yaml.dump(nested, Dumper=_FlowListDumper, sort_keys=False,
                              default_flow_style=False)


def detectron2_command_line(settings: 'OrderedDict[str, object]') -> str:
    """``settings`` as ``KEY VALUE`` pairs for detectron2's ``train_net.py`` command line.

    Args:
        settings (OrderedDict): From :func:`detectron2_settings`.
    """
    def text(value):
        if isinstance(value, list):
            return '[' + ','.join(str(v) for v in value) + ']'
        return str(value)

    return ' '.join(f'{key} {shlex.quote(text(value))}' for key, value in settings.items())
