"""The --features cache: keyed by the config's and the checkpoint's content; a file that is no
cache, or a damaged one, is named and never read or replaced."""
import copy
import functools
import json
import shutil

import pytest
import torch
from conftest import ROOT, real_image_paths
from mmengine.config import Config

from mejigclu_mm.evaluation.feature_cache import (FeatureCacheError, cache_key, load_cache,
                                                  read_cache, save_cache)

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
