"""quiet_known_warnings silences the stack's known warnings, and only those, only when called."""
import subprocess
import sys

import pytest
from conftest import ROOT

SCRIPT = '''
import warnings, sys
import mejigclu_mm
{call}
from mmengine.config import Config
Config.fromfile("configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py")
warnings.warn("another warning", UserWarning)
'''


def stderr_of(call):
    return subprocess.run([sys.executable, '-c', SCRIPT.format(call=call)], cwd=ROOT,
                          capture_output=True, text=True, check=True).stderr


@pytest.mark.slow
def test_only_the_known_warnings_are_silenced_and_only_on_request():
    plain = stderr_of('')
    assert 'pkg_resources is deprecated' in plain  # importing the package changes nothing
    quiet = stderr_of('from mejigclu_mm.runtime.known_warnings import quiet_known_warnings; '
                      'quiet_known_warnings()')
    assert 'pkg_resources' not in quiet
    assert 'another warning' in quiet and 'another warning' in plain
