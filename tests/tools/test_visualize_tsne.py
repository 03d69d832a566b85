"""tools/visualize_tsne.py: labelled configs (coloured by class, the kNN tools' cache reused)
and tools/extract_features.py's files (one colour); the PNG never replaces anything else."""
import numpy as np
import pytest
from conftest import ROOT
from matplotlib import colors
from PIL import Image

pytest.importorskip('sklearn', reason='the viz extra (scikit-learn) is not installed')

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py'
TAB10 = [tuple(int(round(c * 255)) for c in colors.to_rgb(f'C{i}')) for i in range(10)]


def loader_options(root):
    return [f'{loader}.{option}' for loader in ('train_dataloader', 'val_dataloader')
            for option in (f'dataset.data_root={root}', 'num_workers=0',
                           'persistent_workers=False')]


def colours_drawn(png):
    """Which tab10 colours fill some pixels of the picture exactly (point centres)."""
    pixels = {tuple(p) for p in np.asarray(Image.open(png).convert('RGB')).reshape(-1, 3)}
    return {i for i, colour in enumerate(TAB10) if colour in pixels}


def blobs(seed=0, per_blob=40, dims=64):
    """Three far-apart Gaussian blobs: t-SNE must keep them apart."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, dims)) * 20
    return (np.concatenate([c + rng.standard_normal((per_blob, dims)) for c in centres])
            .astype(np.float32), np.repeat(np.arange(3), per_blob))


def test_labelled_config_reuses_the_knn_cache_and_colours_by_class(
        fashion_mnist_format_root, tmp_path, capsys):
    import knn_eval
    import visualize_tsne
    cache = tmp_path / 'features.pth'
    inputs = [str(LINEAR), 'none', '--features', str(cache), '--device', 'cpu',
              '--batch-size', '32']
    options = ['--cfg-options', *loader_options(fashion_mnist_format_root)]
    knn_eval.main(inputs + options)
    capsys.readouterr()
    out = tmp_path / 'tsne.png'
    result = visualize_tsne.main(inputs + ['--out', str(out)] + options)
    printed = capsys.readouterr().out
    assert f'from {cache}' in printed and f'wrote {out}' in printed  # no second extraction
    assert result['coords'].shape == (20, 2)  # the 20 query images (fewer than --num-points)
    assert result['perplexity'] == pytest.approx(19 / 3)  # lowered for 20 points
    classes = set(result['labels'].tolist())
    assert len(classes) > 3
    # one colour per class: tab10's i-th colour for the i-th class present
    assert colours_drawn(out) >= set(range(len(classes)))
    names = visualize_tsne.class_names(str(LINEAR), 10, 'query')
    assert names[0] == 'T-shirt/top' and len(names) == 10


def test_extracted_features_in_one_colour_and_neighbourhoods_kept(tmp_path):
    import visualize_tsne

    from mejigclu_mm.evaluation.feature_files import save_features
    features, blob = blobs()
    path = tmp_path / 'features.npz'
    save_features(str(path), [f'{i}.jpg' for i in range(len(features))], features,
                  info=dict(config='c.py', checkpoint='none'))
    out = tmp_path / 'tsne.png'
    result = visualize_tsne.main([str(path), '--out', str(out), '--num-points', '90',
                                  '--seed', '1'])
    chosen, coords = result['indices'], result['coords']
    assert len(chosen) == 90 == len(set(chosen.tolist())) and result['labels'] is None
    nearest = np.linalg.norm(coords[:, None] - coords[None], axis=2)
    np.fill_diagonal(nearest, np.inf)
    same = blob[chosen][nearest.argmin(1)] == blob[chosen]
    assert same.all()  # 20-sigma blobs: every point's 2-D neighbour is from its own blob
    assert colours_drawn(out) - {7} == {0}  # one colour (C7 is grey: anti-aliased text has it)
    again = visualize_tsne.main([str(path), '--out', str(out), '--num-points', '90',
                                 '--seed', '1'])
    np.testing.assert_array_equal(again['indices'], chosen)  # seeded


def test_options_that_extracted_features_cannot_use_are_refused(tmp_path, capsys):
    import visualize_tsne
    path = tmp_path / 'features.npz'
    for extra, named in ((['ckpt.pth'], 'CHECKPOINT'), (['--split', 'bank'], '--split'),
                         (['--features', 'f.pth'], '--features')):
        with pytest.raises(SystemExit):
            visualize_tsne.parse_args([str(path), *extra, '--out', 'x.png'])
        assert f'{named} would not be used' in capsys.readouterr().err


def test_the_picture_never_replaces_anything_else(tmp_path):
    import visualize_tsne

    from mejigclu_mm.evaluation.feature_files import save_features
    features, _ = blobs(per_blob=5)
    path = tmp_path / 'features.npz'
    save_features(str(path), [f'{i}.jpg' for i in range(len(features))], features)
    not_png = tmp_path / 'notes.png'
    not_png.write_text('my notes')
    with pytest.raises(SystemExit, match='exists and was not written by tools/visualize_tsne.py'):
        visualize_tsne.main([str(path), '--out', str(not_png)])
    assert not_png.read_text() == 'my notes'
    with pytest.raises(SystemExit, match='writes .png files'):
        visualize_tsne.main([str(path), '--out', str(tmp_path / 'tsne.jpg')])
    with pytest.raises(SystemExit, match='does not exist'):
        visualize_tsne.main([str(tmp_path / 'missing.npz'), '--out', str(tmp_path / 'a.png')])
    other = tmp_path / 'other.npz'
    np.savez(other, x=np.zeros(3))
    with pytest.raises(SystemExit, match='not a features file'):
        visualize_tsne.main([str(other), '--out', str(tmp_path / 'a.png')])
    photo = tmp_path / 'photo.png'  # someone else's PNG: kept
    Image.new('RGB', (4, 4)).save(photo)
    before = photo.read_bytes()
    with pytest.raises(SystemExit, match='photo.png exists and was not written by'):
        visualize_tsne.main([str(path), '--out', str(photo)])
    assert photo.read_bytes() == before
    png = tmp_path / 'tsne.png'
    visualize_tsne.main([str(path), '--out', str(png)])
    first = png.stat().st_ino
    visualize_tsne.main([str(path), '--out', str(png)])  # its own earlier picture: replaced
    assert png.stat().st_ino != first  # a new file renamed over the old one
    assert sorted(p.name for p in tmp_path.iterdir()) == ['features.npz', 'notes.png', 'other.npz',
                                                          'photo.png', 'tsne.png']


def saved_features(tmp_path, features, name='features.npz'):
    from mejigclu_mm.evaluation.feature_files import save_features
    path = tmp_path / name
    save_features(str(path), [f'{i}.jpg' for i in range(len(features))], features,
                  info=dict(config='c.py', checkpoint='none'))
    return path


def test_identical_features_are_refused_instead_of_crashing(tmp_path):
    """A collapsed backbone (every image the same feature): scikit-learn's PCA start divided
    by a zero spread and the t-SNE ended in a segmentation fault. Duplicates among other
    features are drawn."""
    import visualize_tsne
    path = saved_features(tmp_path, np.ones((30, 8), np.float32))
    out = tmp_path / 'tsne.png'
    with pytest.raises(SystemExit, match=f'{path}: all 30 features drawn are the same vector'):
        visualize_tsne.main([str(path), '--out', str(out)])
    assert not out.exists()
    features, _ = blobs(per_blob=10)
    duplicates = saved_features(tmp_path, np.concatenate([features, features[:5].repeat(4, 0)]),
                                'duplicates.npz')
    result = visualize_tsne.main([str(duplicates), '--out', str(out)])
    assert np.isfinite(result['coords']).all() and len(result['coords']) == 50


def test_nan_features_are_refused_naming_the_file(tmp_path):
    import visualize_tsne
    features, _ = blobs(per_blob=5)
    features[3, 0] = np.nan
    features[7, 1] = np.inf
    path = saved_features(tmp_path, features)
    with pytest.raises(SystemExit, match=f'{path}: 2 of 15 features hold NaN or Inf'):
        visualize_tsne.main([str(path), '--out', str(tmp_path / 'tsne.png')])


def test_a_perplexity_that_is_not_positive_is_refused(tmp_path, capsys):
    import visualize_tsne
    with pytest.raises(SystemExit):
        visualize_tsne.parse_args([str(tmp_path / 'f.npz'), '--out', 'x.png', '--perplexity', '0'])
    assert '--perplexity must be > 0' in capsys.readouterr().err
