"""The detectron2 settings for torchvision-style weights, as YAML and command-line pairs."""
import shlex
from ast import literal_eval

import pytest
import yaml

from mejigclu_mm.transfer import (detectron2_command_line, detectron2_settings,
                                  detectron2_settings_yaml)


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
