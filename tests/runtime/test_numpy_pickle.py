"""Plain pickles of numpy arrays load; a pickle that would call anything else is refused."""
import collections
import os
import pickle

import numpy as np
import pytest

from mejigclu_mm.runtime import IncompleteCheckpointError, UnsafeCheckpointError
from mejigclu_mm.runtime.numpy_pickle import load_numpy_pickle


class MakesADirectory:
    """Unpickling this calls os.makedirs: a stand-in for code execution."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.makedirs, (self.path, )


def detectron2_like():
    rng = np.random.default_rng(0)
    return {'model': collections.OrderedDict([
        ('stem.conv1.weight', rng.standard_normal((4, 3, 7, 7)).astype(np.float32)),
        ('res2.0.conv1.norm.running_var', rng.random(4)),
        ('empty', np.zeros((0, 3), np.int64)),
    ]), '__author__': 'MOCO', 'matching_heuristics': True}


@pytest.mark.parametrize('protocol', [2, 4, pickle.HIGHEST_PROTOCOL])
def test_numpy_arrays_load_as_they_were(protocol, tmp_path):
    obj = detectron2_like()
    path = tmp_path / 'r50.pkl'
    path.write_bytes(pickle.dumps(obj, protocol=protocol))
    loaded = load_numpy_pickle(str(path))
    assert loaded['__author__'] == 'MOCO' and loaded['matching_heuristics'] is True
    assert list(loaded['model']) == list(obj['model'])
    for name, value in obj['model'].items():
        assert loaded['model'][name].dtype == value.dtype, name
        np.testing.assert_array_equal(loaded['model'][name], value, err_msg=name)


def test_a_pickle_that_would_run_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'evil.pkl'
    path.write_bytes(pickle.dumps({'model': {'w': np.ones(2)}, 'x': MakesADirectory(str(marker))},
                                  protocol=2))
    with pytest.raises(UnsafeCheckpointError) as error:
        load_numpy_pickle(str(path))
    assert f'refused to load {path}: it is a Python pickle' in str(error.value)
    assert 'would call posix.makedirs' in str(error.value) or 'os.makedirs' in str(error.value)
    assert not marker.exists()


def test_a_cut_off_pickle_is_called_incomplete(tmp_path):
    data = pickle.dumps(detectron2_like(), protocol=2)
    path = tmp_path / 'cut.pkl'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(IncompleteCheckpointError, match=f'checkpoint {path} is incomplete'):
        load_numpy_pickle(str(path))
