"""The detectron2 settings for torchvision-style weights, as YAML and command-line pairs."""
import shlex
from ast import literal_eval

import pytest
import yaml

from mejigclu_mm.transfer import (detectron2_command_line, detectron2_settings,
                                  detectron2_settings_yaml)
from mejigclu_mm.transfer.detectron2_settings import read_detectron2_settings, settings_conflicts


@pytest.mark.parametrize('depth', [18, 50])
def test_yaml_holds_the_settings_under_detectron2s_keys(depth):
    settings = detectron2_settings('/models/r50_d2.pkl', depth)
    loaded = yaml.safe_load(detectron2_settings_yaml(settings))
    # torchvision's ImageNet mean and std on the 0-255 scale detectron2 uses
    mean = [round(255 * m, 6) for m in (0.485, 0.456, 0.406)]
    std = [round(255 * s, 6) for s in (0.229, 0.224, 0.225)]
    assert loaded['MODEL']['PIXEL_MEAN'] == pytest.approx(mean)
    assert loaded['MODEL']['PIXEL_STD'] == pytest.approx(std)
    assert loaded['MODEL']['WEIGHTS'] == '/models/r50_d2.pkl'
    resnets = loaded['MODEL']['RESNETS']
    assert resnets['DEPTH'] == depth and resnets['STRIDE_IN_1X1'] is False
    assert loaded['INPUT'] == {'FORMAT': 'RGB'}
    assert resnets.get('RES2_OUT_CHANNELS') == (64 if depth < 50 else None)
    assert loaded['VERSION'] == 2  # detectron2's config format; it warns about a file without


@pytest.mark.parametrize('depth', [18, 50])
def test_settings_read_back_from_the_yaml_as_written(depth, tmp_path):
    settings = detectron2_settings('/models/r50_d2.pkl', depth)
    path = tmp_path / 'r50_d2.yaml'
    path.write_text(detectron2_settings_yaml(settings))
    assert dict(read_detectron2_settings(str(path))) == dict(settings)  # VERSION: no setting


def nested(settings):
    """Dotted keys as the nested dicts of a detectron2 CfgNode."""
    cfg = {}
    for key, value in settings.items():
        *parents, leaf = key.split('.')
        node = cfg
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return cfg


def test_a_config_that_contradicts_the_settings_is_named_key_by_key():
    settings = detectron2_settings('/models/r50_d2.pkl', 50)
    agreeing = nested(settings)
    agreeing['MODEL']['WEIGHTS'] = '/moved/r50_d2.pkl'  # not compared: the file may move
    agreeing['MODEL']['PIXEL_MEAN'] = (123.675, 116.28, 103.53)  # yacs keeps tuples
    assert settings_conflicts(agreeing, settings) == {}
    caffe2 = nested(settings)  # detectron2's defaults, for its MSRA weights
    caffe2['MODEL']['RESNETS']['STRIDE_IN_1X1'] = True
    caffe2['MODEL']['PIXEL_MEAN'] = [103.53, 116.28, 123.675]
    caffe2['MODEL']['PIXEL_STD'] = [1.0, 1.0, 1.0]
    caffe2['INPUT']['FORMAT'] = 'BGR'
    del caffe2['MODEL']['RESNETS']['DEPTH']
    assert settings_conflicts(caffe2, settings) == {
        'MODEL.PIXEL_MEAN': (settings['MODEL.PIXEL_MEAN'], [103.53, 116.28, 123.675]),
        'MODEL.PIXEL_STD': (settings['MODEL.PIXEL_STD'], [1.0, 1.0, 1.0]),
        'MODEL.RESNETS.DEPTH': (50, '<missing>'),
        'MODEL.RESNETS.STRIDE_IN_1X1': (False, True),
        'INPUT.FORMAT': ('RGB', 'BGR'),
    }
    zero = nested(settings)
    zero['MODEL']['RESNETS']['STRIDE_IN_1X1'] = 0  # False in value, not in type
    assert list(settings_conflicts(zero, settings)) == ['MODEL.RESNETS.STRIDE_IN_1X1']


def test_command_line_pairs_parse_back_as_yacs_reads_them():
    settings = detectron2_settings('/my models/r50.pkl', 50)
    words = shlex.split(detectron2_command_line(settings))
    pairs = dict(zip(words[::2], words[1::2]))
    assert list(pairs) == list(settings)

    def yacs_value(text):  # yacs' merge_from_list: literal_eval, else the string
        try:
            return literal_eval(text)
        except (ValueError, SyntaxError):
            return text

    assert {key: yacs_value(value) for key, value in pairs.items()} == dict(settings)
