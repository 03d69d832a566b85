"""tools/data/prepare_fashion_scenes.py on real Fashion-MNIST garments: boxes, masks and label
maps that agree with the pixels, garments of each split from its own half of the test split,
the same files from the same seed, and nothing overwritten."""
import json
import struct

import numpy as np
import pytest
from PIL import Image
from prepare_fashion_scenes import CLASSES, main, read_idx
from pycocotools import mask as mask_utils


def scene_set(root, split):
    coco = json.loads((root / 'annotations' / f'{split}.json').read_text())
    by_image = {image['id']: [] for image in coco['images']}
    for ann in coco['annotations']:
        by_image[ann['image_id']].append(ann)
    for image in coco['images']:
        pixels = np.asarray(Image.open(root / 'images' / image['file_name']))
        labels = np.asarray(Image.open(root / 'labels' / image['file_name']))
        yield image, pixels, labels, by_image[image['id']]


@pytest.mark.parametrize('split', ['train', 'val', 'test'])
def test_boxes_masks_and_label_maps_agree_with_the_pixels(split, fashion_scenes_root,
                                                          fashion_mnist_format_root):
    source_labels = read_idx(str(fashion_mnist_format_root / 't10k-labels-idx1-ubyte'))
    count = len(source_labels)
    low, high = dict(train=(0, count // 2), val=(count // 2, 3 * count // 4),
                     test=(3 * count // 4, count))[split]  # disjoint garments per split
    coco = json.loads((fashion_scenes_root / 'annotations' / f'{split}.json').read_text())
    assert [c['name'] for c in coco['categories']] == list(CLASSES)
    garments = 0
    for image, pixels, labels, anns in scene_set(fashion_scenes_root, split):
        assert pixels.shape == labels.shape == (image['height'], image['width']) == (64, 64)
        assert pixels.dtype == labels.dtype == np.uint8
        covered = np.zeros(pixels.shape, bool)
        for ann in anns:
            mask = mask_utils.decode(ann['segmentation']).astype(bool)
            assert not (mask & covered).any()  # no garment hides another
            covered |= mask
            rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
            x, y, w, h = ann['bbox']
            assert [x, y, w, h] == [cols[0], rows[0], cols[-1] + 1 - cols[0],
                                    rows[-1] + 1 - rows[0]]
            assert ann['area'] == mask.sum() and ann['iscrowd'] == 0
            assert (labels[mask] == ann['category_id']).all()
            assert pixels[mask].max() > 8  # the garment's own pixels
            index = ann['fashion_mnist_test_index']
            assert low <= index < high  # this split's part of the test images
            assert ann['category_id'] == source_labels[index] + 1
        assert (labels[~covered] == 0).all() and (pixels[~covered] == 0).all()
        assert 1 <= len(anns) <= 4
        garments += len(anns)
    assert garments >= 2 * len(coco['images'])  # most scenes hold several garments


def test_same_seed_same_files_other_seed_other_scenes(fashion_scenes_root,
                                                      fashion_mnist_format_root, tmp_path):
    args = ['--src', str(fashion_mnist_format_root), '--train', '8', '--val', '4', '--test', '4']
    main(args + ['--out', str(tmp_path / 'again')])
    main(args + ['--out', str(tmp_path / 'seed1'), '--seed', '1'])
    files = sorted(p.relative_to(fashion_scenes_root)
                   for p in fashion_scenes_root.rglob('*') if p.is_file())
    assert len(files) == 2 * 16 + 4
    for name in files:
        assert (tmp_path / 'again' / name).read_bytes() == (fashion_scenes_root / name).read_bytes()
    assert any((tmp_path / 'seed1' / name).read_bytes() != (fashion_scenes_root / name).read_bytes()
               for name in files if name.suffix == '.png')


def test_an_existing_set_is_kept_or_refused_never_overwritten(fashion_mnist_format_root,
                                                              tmp_path, capsys):
    out = tmp_path / 'scenes'
    args = ['--src', str(fashion_mnist_format_root), '--out', str(out), '--train', '2',
            '--val', '2', '--test', '2']
    main(args)
    before = {p: p.stat().st_mtime_ns for p in out.rglob('*')}
    capsys.readouterr()
    assert main(args)['counts']['train']['scenes'] == 2  # same settings: kept as it is
    assert 'already there, kept' in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*')} == before
    with pytest.raises(SystemExit, match="exists and holds scenes made otherwise: seed 0 there, "
                       "3 asked"):
        main(args + ['--seed', '3'])
    # the same file names, other garments: the source's content decides, not its path
    other_src = tmp_path / 'other_src'
    other_src.mkdir()
    for name in ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'):
        data = bytearray((fashion_mnist_format_root / name).read_bytes())
        if 'images' in name:
            data[-1] ^= 0xFF  # one pixel of the last garment
        (other_src / name).write_bytes(bytes(data))
    with pytest.raises(SystemExit, match='source_sha256 .*the source files of --src .* are '
                       'other garments'):
        main(['--src', str(other_src), *args[2:]])
    assert {p: p.stat().st_mtime_ns for p in out.rglob('*')} == before
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.txt').write_text('mine')
    with pytest.raises(SystemExit, match=r'exists and holds something else \(no meta.json\)'):
        main(['--src', str(fashion_mnist_format_root), '--out', str(other)])
    assert (other / 'notes.txt').read_text() == 'mine'
    assert not list(tmp_path.glob('*.tmp-*'))  # no temporary folder left behind


def test_bad_source_and_settings_are_named(fashion_mnist_format_root, tmp_path):
    with pytest.raises(SystemExit, match=r'missing/t10k-images-idx3-ubyte not found'):
        main(['--src', str(tmp_path / 'missing'), '--out', str(tmp_path / 'a')])
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 't10k-images-idx3-ubyte').write_bytes(struct.pack('>IIII', 0x803, 10, 28,
                                                                           28))
    with pytest.raises(SystemExit, match=r't10k-images-idx3-ubyte is cut off'):
        main(['--src', str(tmp_path / 'bad'), '--out', str(tmp_path / 'b')])
    with pytest.raises(SystemExit, match='--scale up to 80 px does not fit a --canvas of 64 px'):
        main(['--src', str(fashion_mnist_format_root), '--out', str(tmp_path / 'c'),
              '--scale', '20', '80'])
    assert not (tmp_path / 'a').exists() and not (tmp_path / 'c').exists()


def test_singles_are_one_small_garment_off_centre_in_fashion_mnists_format(
        fashion_mnist_format_root, tmp_path, capsys):
    """--singles (Fig. 1's case): one garment per canvas, of the training split for the
    training images, each source garment once per pass with its label, its box within --scale
    and clear of the central square; mmpretrain's FashionMNIST reads the folder."""
    from mmpretrain.datasets import FashionMNIST
    out = tmp_path / 'singles'
    argv = ['--singles', '--src', str(fashion_mnist_format_root), '--out', str(out),
            '--train', '60', '--test', '20', '--canvas', '48', '--scale', '12', '18']
    main(argv)
    for prefix, count in (('train', 60), ('t10k', 20)):
        images = read_idx(str(out / f'{prefix}-images-idx3-ubyte'))
        labels = read_idx(str(out / f'{prefix}-labels-idx1-ubyte'))
        source = read_idx(str(fashion_mnist_format_root / f'{prefix}-labels-idx1-ubyte'))
        assert images.shape == (count, 48, 48) and labels.shape == (count, )
        assert sorted(labels.tolist()) == sorted(source.tolist())  # one pass over the garments
        for image in images:
            rows, cols = np.flatnonzero(image.any(1)), np.flatnonzero(image.any(0))
            assert 1 <= rows[-1] - rows[0] + 1 <= 18 and 1 <= cols[-1] - cols[0] + 1 <= 18
            centre = image[18:30, 18:30]  # the central square, side 48 / 4
            assert not centre.any()
    dataset = FashionMNIST(data_root=str(out), split='train', download=False, pipeline=[])
    assert len(dataset) == 60 and dataset[0]['img'].shape == (48, 48)
    capsys.readouterr()
    main(argv)
    assert 'already there, kept' in capsys.readouterr().out
    with pytest.raises(SystemExit, match=r"images \{'train': 60, 'test': 20\} there, "
                                         r"\{'train': 30, 'test': 20\} asked"):
        main([*argv[:5], '--train', '30', *argv[7:]])
    with pytest.raises(SystemExit, match='leaves no room off the centre of a --canvas of 32 px'):
        main(['--singles', '--src', str(fashion_mnist_format_root), '--out',
              str(tmp_path / 'x'), '--canvas', '32', '--scale', '12', '18'])
