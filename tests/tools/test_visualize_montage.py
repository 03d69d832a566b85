from conftest import ROOT
from PIL import Image

CONFIG = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


def test_writes_one_png_per_batch(fashion_mnist_format_root, tmp_path):
    import visualize_montage
    paths = visualize_montage.main([
        str(CONFIG), '--out-dir', str(tmp_path), '--batch-size', '4', '--num-batches', '2',
        '--cfg-options', f'train_dataloader.dataset.data_root={fashion_mnist_format_root}'])
    assert [p.rsplit('/', 1)[1] for p in paths] == ['montages_0.png', 'montages_1.png']
    for path in paths:
        with Image.open(path) as image:
            assert image.format == 'PNG' and image.width > 400 and image.height > 200
            colours = image.convert('RGB').getcolors(maxcolors=1 << 20)
            assert colours is None or len(colours) > 50  # a picture, not a blank page


def test_image_dir_on_the_fashion_mnist_config_loads_the_files(imagenet_images, tmp_path):
    """The Fashion-MNIST pipeline starts from decoded arrays; --image-dir adds the loading."""
    import shutil

    import visualize_montage
    folder = tmp_path / 'photos'
    folder.mkdir()
    for path in imagenet_images[:4]:
        shutil.copy(path, folder / path.name)
    paths = visualize_montage.main([str(CONFIG), '--image-dir', str(folder), '--out-dir',
                                    str(tmp_path / 'out'), '--batch-size', '4'])
    assert len(paths) == 1 and (tmp_path / 'out' / 'montages_0.png').is_file()


def test_more_batches_than_the_images_fill_are_cut_and_said(fashion_mnist_format_root, tmp_path,
                                                             capsys):
    import visualize_montage
    paths = visualize_montage.main([
        str(CONFIG), '--out-dir', str(tmp_path), '--batch-size', '16', '--num-batches', '9',
        '--cfg-options', f'train_dataloader.dataset.data_root={fashion_mnist_format_root}'])
    assert len(paths) == 3  # 60 images fill 3 batches of 16
    assert '60 images fill 3 batches of 16, not 9' in capsys.readouterr().out


def test_impossible_sizes_are_refused(fashion_mnist_format_root, tmp_path, capsys):
    import pytest
    import visualize_montage
    with pytest.raises(SystemExit):
        visualize_montage.main([str(CONFIG), '--batch-size', '0'])
    assert 'must be a positive integer, got 0' in capsys.readouterr().err
    with pytest.raises(SystemExit, match='60 images cannot fill one batch of 64'):
        visualize_montage.main([
            str(CONFIG), '--out-dir', str(tmp_path), '--batch-size', '64', '--cfg-options',
            f'train_dataloader.dataset.data_root={fashion_mnist_format_root}'])
    with pytest.raises(SystemExit, match='is no folder'):
        visualize_montage.main([str(CONFIG), '--image-dir', str(tmp_path / 'missing')])


def test_a_picture_not_written_by_the_tool_is_kept(fashion_mnist_format_root, tmp_path):
    import pytest
    import visualize_montage
    args = [str(CONFIG), '--out-dir', str(tmp_path), '--batch-size', '4', '--num-batches', '2',
            '--cfg-options', f'train_dataloader.dataset.data_root={fashion_mnist_format_root}']
    mine = tmp_path / 'montages_1.png'
    Image.new('RGB', (4, 4)).save(mine)
    before = mine.read_bytes()
    with pytest.raises(SystemExit, match='montages_1.png exists and was not written by '
                                         'tools/visualize_montage.py'):
        visualize_montage.main(args)
    assert mine.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [
        'montages_1.png']
    mine.unlink()
    visualize_montage.main(args)
    assert len(visualize_montage.main(args)) == 2  # its own pictures are replaced
