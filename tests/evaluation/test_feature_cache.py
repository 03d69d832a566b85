"""The --features cache: keyed by the config's, the checkpoint's and the data files' content; a
file that is no cache, or a damaged one, is named and never read or replaced."""
import copy
import functools
import json
import os
import shutil

import pytest
import torch
from conftest import ROOT, real_image_paths
from mmengine.config import Config

from mejigclu_mm.evaluation.feature_cache import (FeatureCacheError, cache_key, data_digest,
                                                  data_paths, load_cache, read_cache, save_cache)

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


def features(num_bank=6, num_query=4, dims=3):
    torch.manual_seed(0)
    return dict(bank=torch.randn(num_bank, dims), bank_labels=torch.arange(num_bank) % 2,
                query=torch.randn(num_query, dims), query_labels=torch.arange(num_query) % 2,
                num_classes=2, checkpoint='c.pth', seconds=1.0)


@functools.lru_cache(maxsize=1)
def linear_config():
    return Config.fromfile(LINEAR)


def key(checkpoint_file, cfg=None, **changes):
    cfg = cfg or linear_config()
    return dict(cache_key(cfg, str(checkpoint_file), 'auto', 0, random_init=False), **changes)


def test_the_key_follows_content_not_paths(tmp_path):
    first, second = tmp_path / 'a.pth', tmp_path / 'b.pth'
    first.write_bytes(b'weights')
    second.write_bytes(b'weights')
    assert key(first) == key(second)  # same content elsewhere: same features
    first.write_bytes(b'other weights')
    assert key(first)['checkpoint'] != key(second)['checkpoint']
    cfg = copy.deepcopy(linear_config())
    cfg.merge_from_dict({'train_dataloader.dataset.indices': 30})
    assert key(second, cfg)['config'] != key(second)['config']
    random_init = cache_key(linear_config(), 'none', 'auto', 0, random_init=True)
    assert random_init['checkpoint'] == 'random init'


def test_a_cache_is_read_back_only_for_its_key(tmp_path, capsys):
    checkpoint = tmp_path / 'c.pth'
    checkpoint.write_bytes(b'weights')
    path = tmp_path / 'cache' / 'features.pth'
    save_cache(str(path), key(checkpoint), features())
    loaded = load_cache(str(path), key(checkpoint))
    torch.testing.assert_close(loaded['bank'], features()['bank'])
    assert load_cache(str(path), key(checkpoint, seed=1)) is None
    assert load_cache(str(path), key(checkpoint, config='x', checkpoint='y')) is None
    out = capsys.readouterr().out
    assert f'{path} holds features of other inputs (--seed changed): extracting anew' in out
    assert "(the config's content, the checkpoint's content changed)" in out
    assert load_cache(str(tmp_path / 'none_yet.pth'), key(checkpoint)) is None


def test_a_cache_of_the_earlier_format_is_stale_not_foreign(tmp_path):
    checkpoint = tmp_path / 'c.pth'
    checkpoint.write_bytes(b'weights')
    old = dict(key=dict(config='/abs/config.py', cfg_options='None', checkpoint='c.pth:7:1',
                        prefix='auto', seed=0), features=features())
    torch.save(old, tmp_path / 'old.pth')
    assert load_cache(str(tmp_path / 'old.pth'), key(checkpoint)) is None


def foreign_files(tmp_path):
    json_file = tmp_path / 'knn.json'
    json_file.write_text(json.dumps(dict(knn={'20': 50.0})))
    image = tmp_path / 'image.jpg'
    shutil.copy(real_image_paths('imagenet')[0], image)
    text = tmp_path / 'notes.txt'
    text.write_text('features go here')
    checkpoint = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=dict(w=torch.zeros(2))), checkpoint)
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    cut = tmp_path / 'cut.pth'
    save_cache(str(cut), key(text), features())
    cut.write_bytes(cut.read_bytes()[:300])
    return [(json_file, 'is not a features cache: it holds JSON'),
            (image, 'is not a features cache: it holds an image'),
            (text, 'is not a features cache: it holds text'),
            (checkpoint, 'is not a features cache: it holds a dict with keys meta, state_dict'),
            (empty, 'is empty'),
            (cut, 'is cut off or damaged')]


def test_files_that_are_no_cache_are_named_and_left_alone(tmp_path):
    for path, message in foreign_files(tmp_path):
        before = path.read_bytes()
        with pytest.raises(FeatureCacheError, match=f'--features {path} {message}'):
            load_cache(str(path), key(path))
        assert path.read_bytes() == before


def test_a_cache_with_tensors_that_do_not_belong_together_is_damaged(tmp_path):
    broken = features()
    broken['bank_labels'] = broken['bank_labels'][:-1]
    torch.save(dict(kind='mejigclu_mm features cache', key={}, features=broken),
               tmp_path / 'f.pth')
    with pytest.raises(FeatureCacheError, match=r'is damaged: bank features of shape \(6, 3\) '
                       r'with labels of shape \(5,\)'):
        read_cache(str(tmp_path / 'f.pth'))


def data_config(root):
    """The linear config on a data root ``root`` (train and val set)."""
    cfg = copy.deepcopy(linear_config())
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[name].dataset.data_root = str(root)
    return cfg


def write_data(root):
    root.mkdir()
    (root / 'train-images-idx3-ubyte').write_bytes(bytes(range(200)))
    (root / 'train-labels-idx1-ubyte').write_bytes(bytes(20))
    (root / 'sub').mkdir()
    (root / 'sub' / 'extra.bin').write_bytes(b'x' * 10)
    return root


def rewrite_keeping_size_and_time(path, content):
    info = path.stat()
    assert len(content) == info.st_size
    path.write_bytes(content)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_the_key_follows_the_content_of_the_data_files(tmp_path):
    """The cache used to key the config only: new data under the same data root reused the
    old features. Small data is keyed by content, so a change that keeps the size and the
    modification time is seen too."""
    root = write_data(tmp_path / 'data')
    cfg = data_config(root)
    digest, what = data_digest(cfg)
    assert what == f'the content of 3 files (0.0 MB) below {root}'
    labels = root / 'train-labels-idx1-ubyte'
    rewrite_keeping_size_and_time(labels, bytes([1] * 20))
    assert data_digest(cfg)[0] != digest
    checkpoint = tmp_path / 'c.pth'
    checkpoint.write_bytes(b'weights')
    path = tmp_path / 'features.pth'
    save_cache(str(path), key(checkpoint, cfg), features())
    (root / 'sub' / 'new.bin').write_bytes(b'')  # a file more
    assert load_cache(str(path), key(checkpoint, cfg)) is None


def test_large_data_is_keyed_by_names_sizes_and_times(tmp_path):
    root = write_data(tmp_path / 'data')
    cfg = data_config(root)
    digest, what = data_digest(cfg, content_limit=100)
    assert what == f'the names, sizes and modification times of 3 files (0.0 GB) below {root}'
    labels = root / 'train-labels-idx1-ubyte'
    rewrite_keeping_size_and_time(labels, bytes([1] * 20))
    assert data_digest(cfg, content_limit=100)[0] == digest  # the stated limit of this key
    os.utime(labels, ns=(1, 1))
    assert data_digest(cfg, content_limit=100)[0] != digest
    (root / 'sub' / 'extra.bin').rename(root / 'sub' / 'renamed.bin')
    assert data_digest(cfg, content_limit=100)[0] != digest


def test_the_data_paths_are_the_datasets_roots_files_and_prefixes(tmp_path):
    root = write_data(tmp_path / 'data')
    os.symlink('.', root / 'sub' / 'loop')  # walked once
    ann = tmp_path / 'lists' / 'train.txt'
    ann.parent.mkdir()
    ann.write_text('a.png 0\n')
    cfg = data_config(root)
    cfg.train_dataloader.dataset = dict(type='RepeatDataset', times=2, dataset=dict(
        type='CustomDataset', data_root=str(root), ann_file=str(ann), data_prefix='sub'))
    assert data_paths(cfg) == [str(root), str(ann)]  # sub is inside the root
    assert data_digest(cfg)[1].startswith('the content of 4 files')
    moved = data_config(tmp_path / 'missing')
    assert data_digest(moved)[1] == f'the content of 0 files (0.0 MB) below {tmp_path}/missing'
    assert data_digest(moved)[0] != data_digest(data_config(tmp_path / 'other'))[0]


def test_a_cache_without_a_data_key_is_stale_and_says_why(tmp_path, capsys):
    root = write_data(tmp_path / 'data')
    checkpoint = tmp_path / 'c.pth'
    checkpoint.write_bytes(b'weights')
    current = key(checkpoint, data_config(root))
    older = {k: v for k, v in current.items() if k not in ('data', 'data_files')}
    path = tmp_path / 'features.pth'
    save_cache(str(path), older, features())
    assert load_cache(str(path), current) is None
    assert 'the data files, which a cache of an earlier version does not record' in \
        capsys.readouterr().out
    save_cache(str(path), current, features())
    (root / 'train-labels-idx1-ubyte').write_bytes(bytes([3] * 20))
    assert load_cache(str(path), key(checkpoint, data_config(root))) is None
    assert '(the data files, compared by the content of 3 files' in capsys.readouterr().out
