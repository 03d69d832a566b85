"""Feature files: numpy / CSV round trips, atomic writes, nothing else ever replaced."""
import json

import numpy as np
import pytest

from mejigclu_mm.evaluation.feature_files import (check_destination, is_feature_file, load_features,
                                                  save_features)

PATHS = ['a/x.jpg', 'b.png', 'ümlaut dir/c,d.webp']


def features(seed=0):
    return np.random.default_rng(seed).standard_normal((3, 5)).astype(np.float32)


@pytest.mark.parametrize('ext', ['.npz', '.csv'])
def test_round_trip(tmp_path, ext):
    path = str(tmp_path / f'f{ext}')
    save_features(path, PATHS, features(), [('bad.txt', 'bad.txt: not an image')],
                  dict(config='c.py'))
    paths, loaded, info = load_features(path)
    assert paths == PATHS
    np.testing.assert_array_equal(loaded, features())  # float32 exactly, in both formats
    if ext == '.npz':
        assert info['config'] == 'c.py' and info['unreadable'] == ['bad.txt']
        assert info['errors'] == ['bad.txt: not an image']
        with np.load(path, allow_pickle=False) as data:  # plain arrays only
            assert json.loads(str(data['info']))['config'] == 'c.py'
    assert [p.name for p in tmp_path.iterdir()] == [f'f{ext}']  # no temporary file left


def test_an_empty_unreadable_list_and_other_writers_files(tmp_path):
    path = str(tmp_path / 'f.npz')
    save_features(path, PATHS, features())
    assert load_features(path)[2]['unreadable'] == []
    other = tmp_path / 'other.npz'
    np.savez(other, paths=np.array(PATHS), features=features())  # no info: not ours
    assert not is_feature_file(str(other))
    with pytest.raises(ValueError, match='not a features file written by'):
        load_features(str(other))


@pytest.mark.parametrize('name, content', [
    ('weights.npz', b'PK\x03\x04 not really a zip'),
    ('table.csv', b'id,value\n1,2\n'),
    ('notes.csv', b'\xff\xfe binary'),
    ('array.npz', None),
])
def test_files_of_another_kind_are_never_replaced(tmp_path, name, content):
    path = tmp_path / name
    if content is None:  # a plain .npy array saved under an .npz name
        with open(path, 'wb') as file:
            np.save(file, np.arange(3))
        content = path.read_bytes()
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match='exists and is not a features file'):
        save_features(str(path), PATHS, features())
    assert path.read_bytes() == content


def test_inputs_folders_and_extensions(tmp_path):
    (tmp_path / 'images').mkdir()
    config = tmp_path / 'config.npz'
    config.write_text('')
    with pytest.raises(ValueError, match='is an input of this tool'):
        check_destination(str(config), [str(config)])
    with pytest.raises(ValueError, match='inside the input folder'):
        check_destination(str(tmp_path / 'images' / 'sub' / 'f.npz'), [str(tmp_path / 'images')])
    with pytest.raises(ValueError, match='is a folder'):
        check_destination(str(tmp_path / 'images'))
    with pytest.raises(ValueError, match=r'not \.parquet'):
        check_destination(str(tmp_path / 'f.parquet'))
    check_destination(str(tmp_path / 'images.npz'), [str(tmp_path / 'images')])  # a sibling


def test_a_failed_write_leaves_the_previous_file(tmp_path, monkeypatch):
    path = str(tmp_path / 'f.npz')
    save_features(path, PATHS, features(0))

    def fail(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(np, 'savez', fail)
    with pytest.raises(OSError, match='disk full'):
        save_features(path, PATHS, features(1))
    np.testing.assert_array_equal(load_features(path)[1], features(0))
    assert [p.name for p in tmp_path.iterdir()] == ['f.npz']


def test_shapes_must_agree(tmp_path):
    with pytest.raises(ValueError, match=r'2 paths and features of shape \(3, 5\)'):
        save_features(str(tmp_path / 'f.npz'), PATHS[:2], features())
