"""tools/extract_features.py on a folder of real images of many sizes and formats."""
import json
import shutil

import numpy as np
import pytest
import torch
from conftest import ROOT, real_image_paths
from PIL import Image

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
# The lines the Fashion-MNIST pretraining base needs for inference (its kNN monitor's
# whole-image pipeline), added here to a copy of the shipped config.
READABLE = ['a/b/wide.JPEG', 'a/photo.jpg', 'alpha.png', 'anim.gif', 'grey.png', 'pic.bmp',
            'pic.tiff', 'pic.webp', 'tiny.png']
UNREADABLE = {'a/cut.jpg': 'truncated JPEG', 'empty.jpg': 'empty file',
              'notes.txt': 'no image by its extension (.txt is no format OpenCV or PIL reads)'}


@pytest.fixture(scope='module')
def image_dir(tmp_path_factory):
    """Real photos in sub-folders, of many sizes and formats, and three files that are not
    readable images."""
    root = tmp_path_factory.mktemp('images')
    photos = [Image.open(p).convert('RGB') for p in real_image_paths('imagenet')[:6]]
    (root / 'a' / 'b').mkdir(parents=True)
    shutil.copy(real_image_paths('imagenet')[0], root / 'a/photo.jpg')
    photos[1].resize((300, 170)).save(root / 'a/b/wide.JPEG')
    rgba = photos[2].resize((64, 48)).convert('RGBA')
    rgba.putalpha(128)
    rgba.save(root / 'alpha.png')
    photos[3].convert('L').save(root / 'grey.png')
    frames = [photos[4].convert('P'), photos[5].convert('P')]
    frames[0].save(root / 'anim.gif', save_all=True, append_images=frames[1:])
    photos[5].save(root / 'pic.webp')
    photos[4].save(root / 'pic.tiff')
    photos[3].save(root / 'pic.bmp')
    Image.open(real_image_paths('cifar10')[0]).save(root / 'tiny.png')
    data = (root / 'a/photo.jpg').read_bytes()
    (root / 'a/cut.jpg').write_bytes(data[:len(data) // 2])
    (root / 'empty.jpg').write_bytes(b'')
    (root / 'notes.txt').write_text('not an image\n')
    return root


def save_pretraining_checkpoint(path, seed=0):
    """A random ResNet_CIFAR-18 saved as the pretraining writes it (``backbone.`` keys)."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(seed)
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=18)).state_dict()
    torch.save({'meta': {'epoch': 1}, 'state_dict': {f'backbone.{k}': v for k, v in state.items()}},
               path)
    return str(path)


def run(config, checkpoint, image_dir, out, *extra):
    import extract_features
    return extract_features.main([str(config), str(checkpoint), str(image_dir), '--out', str(out),
                                  '--device', 'cpu', '--num-workers', '0', *extra])


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    return save_pretraining_checkpoint(tmp_path_factory.mktemp('ckpt') / 'epoch_1.pth')


@pytest.fixture(scope='module')
def extracted(image_dir, checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp('out') / 'features.npz'
    run(LINEAR, checkpoint, image_dir, out, '--batch-size', '4')
    return out


def test_one_feature_per_readable_image_and_the_rest_listed(extracted, image_dir, checkpoint):
    with np.load(extracted, allow_pickle=False) as data:  # plain arrays: no pickle needed
        paths, features = data['paths'].tolist(), data['features']
        unreadable, errors = data['unreadable'].tolist(), data['errors'].tolist()
        info = json.loads(str(data['info']))
    assert paths == READABLE  # relative to IMAGE_DIR, sorted, sub-folders included
    assert features.dtype == np.float32 and features.shape == (len(READABLE), 512)
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1, rtol=1e-5)
    assert len({tuple(row) for row in features.round(4)}) == len(READABLE)  # no row repeated
    assert sorted(unreadable) == sorted(UNREADABLE)
    for path, error in zip(unreadable, errors):
        assert str(image_dir / path) in error and UNREADABLE[path] in error
    assert info['checkpoint'] == checkpoint and info['normalized'] is True
    assert info['backbone'] == 'ResNet_CIFAR'


def test_features_match_mmpretrains_feature_extractor(extracted, image_dir, checkpoint):
    """The same images through mmpretrain's FeatureExtractor (its own loading, batching and
    checkpoint path): the tool's feature is the pooled, normalised last stage."""
    from mmpretrain.apis import FeatureExtractor
    with np.load(extracted) as data:
        ours = dict(zip(data['paths'].tolist(), data['features']))
    names = [p for p in READABLE if not p.endswith('.gif')]  # OpenCV, its decoder, has no GIF
    extractor = FeatureExtractor(str(LINEAR), pretrained=checkpoint, device='cpu')
    outputs = extractor([str(image_dir / p) for p in names], batch_size=3, stage='backbone')
    for name, maps in zip(names, outputs):
        pooled = torch.nn.functional.normalize(maps[-1].mean((1, 2)), dim=0)
        np.testing.assert_allclose(ours[name], pooled.numpy(), atol=2e-5)


def test_batching_does_not_change_features(extracted, image_dir, checkpoint, tmp_path):
    out = tmp_path / 'one_by_one.npz'
    run(LINEAR, checkpoint, image_dir, out, '--batch-size', '1')
    with np.load(extracted) as a, np.load(out) as b:
        assert a['paths'].tolist() == b['paths'].tolist()
        np.testing.assert_allclose(a['features'], b['features'], atol=2e-5)


def test_csv_and_raw_features(extracted, image_dir, checkpoint, tmp_path, capsys):
    from mejigclu_mm.evaluation.feature_files import load_features
    out = tmp_path / 'features.csv'
    run(LINEAR, checkpoint, image_dir, out, '--no-normalize')
    printed = capsys.readouterr().out
    for path in UNREADABLE:  # the CSV holds images only: the others are printed
        assert str(image_dir / path) in printed
    header = out.read_text().splitlines()[0].split(',')
    assert header[:2] == ['path', 'f0'] and len(header) == 513
    paths, raw, _ = load_features(str(out))
    assert paths == READABLE
    with np.load(extracted) as data:
        normalised = data['features']
    np.testing.assert_allclose(raw / np.linalg.norm(raw, axis=1, keepdims=True), normalised,
                               atol=2e-5)
    assert not np.allclose(np.linalg.norm(raw, axis=1), 1)


def test_random_init_and_a_pretraining_config(image_dir, checkpoint, tmp_path):
    """``none`` gives a random backbone; a pretraining config gives its backbone once it
    names a test pipeline (here: the lines proposed for the Fashion-MNIST base)."""
    random_out = tmp_path / 'random.npz'
    run(LINEAR, 'none', image_dir, random_out)
    pretrain_out = tmp_path / 'pretrain.npz'
    run(PRETRAIN, checkpoint, image_dir, pretrain_out)  # the shipped config, as it is
    linear_out = tmp_path / 'linear.npz'
    run(LINEAR, checkpoint, image_dir, linear_out)
    with np.load(random_out) as r, np.load(pretrain_out) as p, np.load(linear_out) as lin:
        assert r['paths'].tolist() == p['paths'].tolist() == READABLE
        # same backbone weights, same pipeline and normalisation in both configs
        np.testing.assert_allclose(p['features'], lin['features'], atol=2e-5)
        assert np.abs(r['features'] - lin['features']).max() > 0.05
    config = tmp_path / 'no_test_pipeline.py'
    config.write_text(f"_base_ = '{PRETRAIN}'\ntest_pipeline = None\n")
    with pytest.raises(SystemExit, match=r'no test pipeline .* `test_pipeline`'):
        run(config, checkpoint, image_dir, tmp_path / 'refused.npz')


def test_the_output_never_replaces_anything_else(image_dir, checkpoint, extracted, tmp_path):
    other = tmp_path / 'results.npz'
    np.savez(other, features=np.zeros((2, 3)))
    before = other.read_bytes()
    with pytest.raises(SystemExit, match='not a features file'):
        run(LINEAR, checkpoint, image_dir, other)
    assert other.read_bytes() == before
    with pytest.raises(SystemExit, match='is an input of this tool'):
        run(LINEAR, checkpoint, image_dir, checkpoint)
    with pytest.raises(SystemExit, match='inside the input folder'):
        run(LINEAR, checkpoint, image_dir, image_dir / 'features.npz')
    with pytest.raises(SystemExit, match=r'writes \.npz / \.csv files, not \.pth'):
        run(LINEAR, checkpoint, image_dir, tmp_path / 'features.pth')
    again = tmp_path / 'again.npz'
    shutil.copy(extracted, again)
    run(LINEAR, 'none', image_dir, again)  # its own kind: replaced
    with np.load(again) as data, np.load(extracted) as first:
        assert not np.allclose(data['features'], first['features'])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['again.npz', 'results.npz']


def test_a_folder_without_images_is_refused(tmp_path, checkpoint):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit, match='holds no files'):
        run(LINEAR, checkpoint, empty, tmp_path / 'f.npz')
    (empty / 'notes.txt').write_text('text')
    with pytest.raises(SystemExit, match='none of the 1 files'):
        run(LINEAR, checkpoint, empty, tmp_path / 'f.npz')
    assert not (tmp_path / 'f.npz').exists()
