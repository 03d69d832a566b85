from PIL import Image

from conftest import ROOT

CONFIG = ROOT / 'configs/pretrain/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


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
