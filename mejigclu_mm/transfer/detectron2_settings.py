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
# The config format the settings are written in (detectron2 warns about a file without it).
CONFIG_VERSION = 2


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
    """``settings`` as a detectron2 YAML config fragment (nested keys, ``VERSION: 2``), with a
    header comment.

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
    nested['VERSION'] = CONFIG_VERSION
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


def read_detectron2_settings(path: str) -> 'OrderedDict[str, object]':
    """The settings a ``--to detectron2`` YAML file holds, under dotted keys (as
    :func:`detectron2_settings` returns them), ``VERSION`` left out.

    Args:
        path (str): The ``.yaml`` that ``tools/convert_weights.py --to detectron2`` wrote.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` holds no YAML mapping.
    """
    with open(path) as file:
        loaded = yaml.safe_load(file)
    if not isinstance(loaded, dict):
        raise ValueError(f'{path} holds no detectron2 settings (a YAML mapping)')
    settings: 'OrderedDict[str, object]' = OrderedDict()

    def flatten(node, prefix):
        for key, value in node.items():
            if isinstance(value, dict):
                flatten(value, f'{prefix}{key}.')
            elif f'{prefix}{key}' != 'VERSION':
                settings[f'{prefix}{key}'] = value

    flatten(loaded, '')
    return settings


_MISSING = object()


def _same(wanted, found) -> bool:
    if isinstance(wanted, (list, tuple)):
        return isinstance(found, (list, tuple)) and len(found) == len(wanted) and all(
            _same(w, f) for w, f in zip(wanted, found))
    if isinstance(wanted, float) or isinstance(found, float):
        return isinstance(found, (int, float)) and not isinstance(found, bool) and \
            abs(found - wanted) <= 1e-6 * max(1.0, abs(wanted))
    return type(found) is type(wanted) and found == wanted


def settings_conflicts(cfg, settings: dict, skip=('MODEL.WEIGHTS', )) -> 'OrderedDict[str, tuple]':
    """The settings the weights need that a detectron2 config contradicts.

    Args:
        cfg: A detectron2 ``CfgNode`` (or nested dicts with the same keys).
        settings (dict): Dotted keys -> values, from :func:`read_detectron2_settings` or
            :func:`detectron2_settings`.
        skip (tuple): Keys not compared. Defaults to ``('MODEL.WEIGHTS', )``: the file the
            settings were written for may have been moved since.

    Returns:
        OrderedDict: key -> (value the weights need, value of ``cfg``; ``'<missing>'`` when
        ``cfg`` has no such key), empty when they agree.
    """
    conflicts: 'OrderedDict[str, tuple]' = OrderedDict()
    for key, wanted in settings.items():
        if key in skip:
            continue
        node = cfg
        for part in key.split('.'):
            node = node.get(part, _MISSING) if isinstance(node, dict) else _MISSING
        if node is _MISSING or not _same(wanted, node):
            conflicts[key] = (wanted, '<missing>' if node is _MISSING else node)
    return conflicts

