"""tools/knn_eval.py end to end on real images in Fashion-MNIST's format."""
import json
import re

import pytest
import torch
from conftest import ROOT

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'


def loader_options(root):
    return [f'{loader}.{option}' for loader in ('train_dataloader', 'val_dataloader')
            for option in (f'dataset.data_root={root}', 'num_workers=0',
                           'persistent_workers=False')]


# A quarter-width ResNet_CIFAR-18 (checkpoints of save_pretraining_checkpoint(..., SMALL_WIDTH)
# with these options): the same wiring at a fraction of the CPU time
SMALL_WIDTH = 16
SMALL_OPTIONS = [f'model.backbone.stem_channels={SMALL_WIDTH}',
                 f'model.backbone.base_channels={SMALL_WIDTH}']


def save_pretraining_checkpoint(path, seed=0, width=64):
    """A random ResNet_CIFAR-18 saved as the pretraining writes it (``backbone.`` keys)."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=18, stem_channels=width,
                              base_channels=width)).state_dict()
    torch.save({'meta': {'epoch': 1}, 'state_dict': {f'backbone.{k}': v for k, v in state.items()}},
               path)
    return str(path)


def test_knn_eval_writes_top1_per_k(fashion_mnist_format_root, tmp_path, capsys):
    import knn_eval
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    out = tmp_path / 'knn.json'
    results = knn_eval.main([str(LINEAR), checkpoint, '--out', str(out), '--batch-size', '32',
                             '--k', '1', '10', '20', '100', '200', '--device', 'cpu',
                             '--cfg-options', *loader_options(fashion_mnist_format_root)])
    written = json.loads(out.read_text())
    assert written == results
    assert {'checkpoint', 'config', 'knn', 'num_bank', 'num_query'} <= written.keys()
    assert written['checkpoint'] == checkpoint and written['config'] == str(LINEAR)
    assert (written['num_bank'], written['num_query']) == (60, 20)
    assert list(written['knn']) == ['1', '10', '20', '100', '200']  # 100, 200 > 60: whole bank
    assert written['k_used'] == {'1': 1, '10': 10, '20': 20, '100': 60, '200': 60}
    assert written['knn']['100'] == written['knn']['200']  # both used the whole bank
    assert all(0 <= v <= 100 for v in written['knn'].values())
    # The 20 query images are also in the bank: with k = 1 each finds itself.
    assert written['knn']['1'] == 100.0
    printed = capsys.readouterr().out
    assert f'k=20 top-1 {written["knn"]["20"]:.2f}\n' in printed
    assert f'k=200 top-1 {written["knn"]["200"]:.2f} (bank of 60 images: used k=60)' in printed


def test_defaults_random_init_and_a_missing_checkpoint(tmp_path):
    import knn_eval

    from mejigclu_mm.cli.frozen_features import checkpoint_from_args
    args = knn_eval.parse_args([str(LINEAR), 'ckpt.pth'])
    assert (args.k, args.temperature, args.prefix) == ([10, 20, 100, 200], 0.07, 'auto')
    assert checkpoint_from_args(knn_eval.parse_args([str(LINEAR), 'none'])) == 'none'
    assert checkpoint_from_args(knn_eval.parse_args([str(LINEAR), '--random-init'])) == 'none'
    with pytest.raises(SystemExit, match='give a CHECKPOINT'):
        knn_eval.main([str(LINEAR)])
    missing = str(tmp_path / 'missing.pth')
    with pytest.raises(SystemExit, match='missing.pth does not exist'):
        knn_eval.main([str(LINEAR), missing])


def test_the_feature_cache_is_shared_and_only_reused_for_the_same_inputs(
        fashion_mnist_format_root, tmp_path, capsys):
    import knn_eval
    import linear_probe
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    cache = tmp_path / 'features.pth'
    common = [str(LINEAR), checkpoint, '--features', str(cache), '--device', 'cpu',
              '--batch-size', '32', '--cfg-options', *loader_options(fashion_mnist_format_root)]
    first = knn_eval.main(common)
    assert cache.is_file() and 'from ' + str(cache) not in capsys.readouterr().out
    again = knn_eval.main(common)
    assert again['knn'] == first['knn'] and f'from {cache}' in capsys.readouterr().out
    linear_probe.main(common)  # the probe reads the same features
    assert f'from {cache}' in capsys.readouterr().out
    other = common[:-len(loader_options(fashion_mnist_format_root))] + loader_options(
        fashion_mnist_format_root) + ['train_dataloader.dataset.indices=30']
    assert knn_eval.main(other)['num_bank'] == 30  # other options: extracted anew
    assert 'extracting anew' in capsys.readouterr().out


def test_the_cache_follows_the_content_of_config_and_checkpoint(fashion_mnist_format_root,
                                                                 tmp_path, capsys):
    """Same paths, other content: the cache is stale and replaced; the same content with a new
    modification time still uses it."""
    import os

    import knn_eval
    config = tmp_path / 'knn_config.py'
    config.write_text(f"_base_ = ['{LINEAR}']\n"
                      "train_dataloader = dict(dataset=dict(indices=40))\n")
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth', width=SMALL_WIDTH)
    cache = tmp_path / 'features.pth'
    common = [str(config), checkpoint, '--features', str(cache), '--device', 'cpu', '--k', '5',
              '--batch-size', '32', '--cfg-options', *SMALL_OPTIONS,
              *loader_options(fashion_mnist_format_root)]
    first = knn_eval.main(common)
    assert first['num_bank'] == 40
    os.utime(checkpoint, (1, 1))  # same content, another modification time: still valid
    assert knn_eval.main(common)['knn'] == first['knn']
    assert f'from {cache}' in capsys.readouterr().out
    config.write_text(config.read_text().replace('indices=40', 'indices=30'))
    assert knn_eval.main(common)['num_bank'] == 30  # not the stale 40
    assert "(the config's content changed): extracting anew" in capsys.readouterr().out
    save_pretraining_checkpoint(checkpoint, seed=1, width=SMALL_WIDTH)  # same path
    knn_eval.main(common)
    assert "(the checkpoint's content changed): extracting anew" in capsys.readouterr().out


def test_features_and_out_never_write_over_inputs_or_other_files(fashion_mnist_format_root,
                                                                  tmp_path):
    import shutil

    import knn_eval
    import linear_probe
    from conftest import real_image_paths
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth')
    probe_json = tmp_path / 'linear_probe.json'
    probe_json.write_text(json.dumps(dict(top1=50.0, top5=90.0, holdout_top1={'0.1': 40.0})))
    image = tmp_path / 'photo.jpg'
    shutil.copy(real_image_paths('imagenet')[0], image)
    other_checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_2.pth')
    base = [str(LINEAR), checkpoint, '--device', 'cpu', '--cfg-options',
            *loader_options(fashion_mnist_format_root)]
    cases = [
        (knn_eval, ['--features', checkpoint], f'--features {checkpoint} is the CHECKPOINT'),
        (knn_eval, ['--out', checkpoint], f'--out {checkpoint} is the CHECKPOINT'),
        (knn_eval, ['--out', str(LINEAR)], f'--out {LINEAR} is the CONFIG'),
        (linear_probe, ['--features', str(probe_json)],
         f'--features {probe_json} is not a features cache: it holds JSON'),
        (knn_eval, ['--features', str(image)], 'is not a features cache: it holds an image'),
        (knn_eval, ['--features', other_checkpoint],
         f'--features {other_checkpoint} is not a features cache: it holds a dict with keys '
         'meta, state_dict'),
        (knn_eval, ['--out', str(probe_json)],
         f'--out {probe_json} exists and holds the results of linear_probe.py'),
        # the suffix first, before any work (issue 27.4)
        (linear_probe, ['--out', str(image)], f'--out {image}: writes .json files'),
        (linear_probe, ['--features', str(tmp_path / 'f.pth'), '--out', str(tmp_path / 'f.pth')],
         'is the FEATURES'),
    ]
    files = [checkpoint, probe_json, image, other_checkpoint]
    before = {str(path): open(path, 'rb').read() for path in files}
    for tool, options, message in cases:
        (tmp_path / 'f.pth').write_bytes(b'PK\x03\x04')  # exists, for the last case
        with pytest.raises(SystemExit) as error:
            tool.main(base[:2] + options + base[2:])
        assert message in str(error.value), (options, str(error.value))
    assert {str(path): open(path, 'rb').read() for path in files} == before


def test_an_earlier_result_of_the_same_tool_is_replaced(fashion_mnist_format_root, tmp_path):
    import knn_eval
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth', width=SMALL_WIDTH)
    out = tmp_path / 'knn.json'
    out.write_text(json.dumps(dict(knn={'20': 1.0}, checkpoint='older.pth')))
    knn_eval.main([str(LINEAR), checkpoint, '--out', str(out), '--k', '5', '--batch-size', '32',
                   '--device', 'cpu', '--cfg-options', *SMALL_OPTIONS,
                   *loader_options(fashion_mnist_format_root)])
    assert json.loads(out.read_text())['checkpoint'] == checkpoint
    assert not [p for p in tmp_path.iterdir() if p.name.endswith('.tmp')]


@pytest.mark.parametrize('option, message', [
    (['--temperature', '0'], '--temperature must be a positive number'),
    (['--temperature', '-0.07'], '--temperature must be a positive number'),
    (['--temperature', 'nan'], '--temperature must be a positive number'),
    (['--k', '10', '0'], '--k: every neighbourhood size must be >= 1'),
])
def test_settings_that_give_no_meaningful_number_are_refused_before_any_work(option, message,
                                                                             capsys):
    """``--temperature 0`` printed a top-1 (every weight exp(sim / 0) infinite)."""
    import knn_eval
    with pytest.raises(SystemExit):
        knn_eval.parse_args([str(LINEAR), 'none', *option])
    assert message in capsys.readouterr().err


def test_the_cache_follows_the_data_files(fashion_mnist_format_root, tmp_path, capsys):
    """New labels under the same data root (the same config): the cache was reused, with the
    old labels; the data files are part of its key."""
    import shutil

    import knn_eval
    root = tmp_path / 'data'
    shutil.copytree(fashion_mnist_format_root, root)
    checkpoint = save_pretraining_checkpoint(tmp_path / 'epoch_1.pth', width=SMALL_WIDTH)
    cache = tmp_path / 'features.pth'
    common = [str(LINEAR), checkpoint, '--features', str(cache), '--device', 'cpu', '--k', '1',
              '--batch-size', '32', '--cfg-options', *SMALL_OPTIONS, *loader_options(root)]
    assert knn_eval.main(common)['knn']['1'] == 100.0  # the queries are in the bank
    labels = root / 't10k-labels-idx1-ubyte'
    data = bytearray(labels.read_bytes())
    data[8:] = bytes((label + 1) % 10 for label in data[8:])  # every query label changed
    labels.write_bytes(bytes(data))
    assert knn_eval.main(common)['knn']['1'] == 0.0
    printed = capsys.readouterr().out
    # the data roots are this root and any other the config names (e.g. data/fashion_mnist,
    # present or not on this machine): at least this root's 4 files
    counted = re.search(r'the data files, compared by the content of (\d+) files', printed)
    assert counted and int(counted.group(1)) >= 4 and str(root) in printed
    assert 'extracting anew' in printed
