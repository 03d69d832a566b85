"""tools/data/make_semi_subsets.py: class-stratified, seeded, nested subsets in the format the
semi-supervised configs read, and SimCLR's published lists converted."""
import shutil
from collections import Counter

import pytest
from conftest import ROOT, real_image_paths

SEMI_CONFIG = ROOT / 'configs/mejigclu/benchmarks/resnet50_4xb64-semi-10pct-steplr-100e_in1k.py'
# Images per class of the tree below: 200 keep 2 at 1 % and 20 at 10 %, 130 keep 1 and 13,
# 45 keep 1 (never none) and 5 (4.5 rounds half up).
SIZES = {'n01440764': 200, 'n01443537': 130, 'n01484850': 45}


@pytest.fixture(scope='module')
def imagenet_tree(tmp_path_factory):
    """ImageNet's training tree (train/<wnid>/<wnid>_<i>.JPEG, real photos copied over) with
    classes of different sizes, and meta/train.txt listing it (labels: sorted wnids)."""
    root = tmp_path_factory.mktemp('imagenet_tree')
    photos = real_image_paths('imagenet')
    lines = []
    for label, (wnid, count) in enumerate(SIZES.items()):
        (root / 'train' / wnid).mkdir(parents=True)
        for i in range(count):
            name = f'{wnid}_{1000 + i}.JPEG'
            shutil.copy(photos[i % len(photos)], root / 'train' / wnid / name)
            lines.append(f'{wnid}/{name} {label}')
    (root / 'meta').mkdir()
    (root / 'meta' / 'train.txt').write_text('\n'.join(lines) + '\n')
    return root


def read_list(path):
    return [tuple(line.rsplit(' ', 1)) for line in path.read_text().splitlines()]


def test_stratified_nested_and_seeded(imagenet_tree, tmp_path):
    import make_semi_subsets
    root = tmp_path / 'root'
    shutil.copytree(imagenet_tree / 'meta', root / 'meta')
    make_semi_subsets.main([str(root), '--percent', '1', '10', '--seed', '3'])
    one = read_list(root / 'meta/train_1percent.txt')
    ten = read_list(root / 'meta/train_10percent.txt')
    # round(P % of each class), at least one image per class
    assert Counter(label for _, label in one) == {'0': 2, '1': 1, '2': 1}
    assert Counter(label for _, label in ten) == {'0': 20, '1': 13, '2': 5}
    assert set(one) <= set(ten)  # the 1 % subset lies inside the 10 % one
    train = read_list(root / 'meta/train.txt')
    assert set(ten) <= set(train)  # lines of the training list, labels unchanged
    assert ten == sorted(ten, key=train.index)  # in the training list's order
    again = tmp_path / 'again'
    shutil.copytree(imagenet_tree / 'meta', again / 'meta')
    make_semi_subsets.main([str(again), '--percent', '10', '--seed', '3'])
    assert read_list(again / 'meta/train_10percent.txt') == ten  # same seed, same subset
    other = tmp_path / 'other'
    shutil.copytree(imagenet_tree / 'meta', other / 'meta')
    make_semi_subsets.main([str(other), '--percent', '10', '--seed', '4'])
    assert read_list(other / 'meta/train_10percent.txt') != ten


def test_the_folder_tree_gives_the_same_lists_as_meta_train(imagenet_tree, tmp_path):
    """Without meta/train.txt the classes are the sorted wnid folders (mmpretrain's order)."""
    import make_semi_subsets
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'train').symlink_to(imagenet_tree / 'train')
    (imagenet_tree / 'train' / 'n01440764' / 'notes.txt').write_text('not an image')
    try:
        make_semi_subsets.main([str(root), '--percent', '10'])
    finally:
        (imagenet_tree / 'train' / 'n01440764' / 'notes.txt').unlink()
    meta = tmp_path / 'meta_root'
    shutil.copytree(imagenet_tree / 'meta', meta / 'meta')
    make_semi_subsets.main([str(meta), '--percent', '10'])
    assert (read_list(root / 'meta/train_10percent.txt')
            == read_list(meta / 'meta/train_10percent.txt'))


def test_existing_lists_are_kept_unless_forced(imagenet_format_root, tmp_path, capsys):
    import make_semi_subsets
    root = tmp_path / 'root'
    shutil.copytree(imagenet_format_root / 'meta', root / 'meta')
    before = (root / 'meta/train_10percent.txt').read_text()
    with pytest.raises(SystemExit, match=r'train_1percent.txt exists and may be any list .*pass --force'):
        make_semi_subsets.main([str(root), '--percent', '1', '10'])
    # nothing written, not even the other list
    assert (root / 'meta/train_10percent.txt').read_text() == before
    assert len((root / 'meta/train_1percent.txt').read_text().splitlines()) == 2
    make_semi_subsets.main([str(root), '--percent', '1', '10', '--force'])
    # a class of one or two photos keeps one: the least a class keeps
    classes = Counter(label for _, label in read_list(root / 'meta/train.txt'))
    assert max(classes.values()) < 5
    ten = Counter(label for _, label in read_list(root / 'meta/train_10percent.txt'))
    assert ten == {label: 1 for label in classes}
    assert sorted(p.name for p in (root / 'meta').iterdir()) == [
        'train.txt', 'train_10percent.txt', 'train_1percent.txt', 'val.txt']  # no temp files


@pytest.mark.parametrize('content, message', [
    ('n01440764/a.JPEG 0\nbroken line\n', r'train.txt:2: expected "<path> <label>"'),
    ('', r'train.txt lists no images'),
])
def test_a_bad_training_list_is_named(tmp_path, content, message):
    import make_semi_subsets
    (tmp_path / 'meta').mkdir()
    (tmp_path / 'meta/train.txt').write_text(content)
    with pytest.raises(SystemExit, match=message):
        make_semi_subsets.main([str(tmp_path)])


def test_bad_percentages_are_refused(imagenet_tree):
    import make_semi_subsets
    for value in ('0', '101', '-1'):
        with pytest.raises(SystemExit):
            make_semi_subsets.main([str(imagenet_tree), '--percent', value])


def test_simclr_lists_are_converted(imagenet_tree, tmp_path, capsys):
    """SimCLR's published lists hold one file name per line; mmpretrain's ImageNet dataset
    reads '<path> <label>' lines, so they are converted (and checked against the data)."""
    import make_semi_subsets
    root = tmp_path / 'root'
    shutil.copytree(imagenet_tree / 'meta', root / 'meta')
    names = ['n01443537_1005.JPEG', 'n01440764_1000.JPEG', 'n01484850_1044.JPEG']
    simclr = tmp_path / 'simclr' / '10percent.txt'
    simclr.parent.mkdir()
    simclr.write_text('\n'.join(names) + '\n')
    make_semi_subsets.main([str(root), '--from-simclr', str(simclr)])
    assert read_list(root / 'meta/train_10percent.txt') == [
        ('n01443537/n01443537_1005.JPEG', '1'), ('n01440764/n01440764_1000.JPEG', '0'),
        ('n01484850/n01484850_1044.JPEG', '2')]
    missing = tmp_path / 'simclr' / '1percent.txt'
    missing.write_text('n01440764_1000.JPEG\nn09999999_1.JPEG\n')
    with pytest.raises(SystemExit, match=r'1 of 2 listed images are not in the training set '
                                         r'\(e.g. n09999999_1.JPEG\)'):
        make_semi_subsets.main([str(root), '--from-simclr', str(missing)])
    assert not (root / 'meta/train_1percent.txt').exists()
    with pytest.raises(SystemExit):
        make_semi_subsets.main([str(root), '--from-simclr', str(simclr), '--percent', '1'])
    assert 'give one of them' in capsys.readouterr().err
    # the SimCLR list is the output file itself (a link to it): never replaced, --force or not
    listed = root / 'meta' / 'train_5percent.txt'
    listed.write_text('\n'.join(names) + '\n')
    link = tmp_path / 'simclr' / '5percent.txt'
    link.symlink_to(listed)
    with pytest.raises(SystemExit, match=r'train_5percent.txt is an input of this tool .*'
                                         r'--force does not change this'):
        make_semi_subsets.main([str(root), '--from-simclr', str(link), '--force'])
    assert listed.read_text() == '\n'.join(names) + '\n'


def test_the_semi_config_reads_the_lists(imagenet_tree, tmp_path):
    """The 10 % config's dataset (mmpretrain's ImageNet) loads the written list: the images
    and labels it names; a SimCLR list as published is what it cannot read."""
    import make_semi_subsets
    from mmengine.config import Config

    from mmpretrain.registry import DATASETS
    root = tmp_path / 'root'
    root.mkdir()
    (root / 'train').symlink_to(imagenet_tree / 'train')
    shutil.copytree(imagenet_tree / 'meta', root / 'meta')
    make_semi_subsets.main([str(root), '--percent', '10'])
    cfg = Config.fromfile(SEMI_CONFIG).train_dataloader.dataset
    cfg.data_root = str(root)
    dataset = DATASETS.build(cfg)
    expected = read_list(root / 'meta/train_10percent.txt')
    assert len(dataset) == len(expected) == 38
    item = dataset[0]
    assert item['inputs'].shape == (3, 224, 224)
    assert item['data_samples'].img_path == str(root / 'train' / expected[0][0])
    assert int(item['data_samples'].gt_label) == int(expected[0][1])
    (root / 'meta/simclr.txt').write_text('n01440764_1000.JPEG\n')
    cfg.ann_file = 'meta/simclr.txt'
    with pytest.raises(ValueError):
        len(DATASETS.build(cfg))
