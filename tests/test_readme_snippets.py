"""The config snippets of configs/mejigclu/README.md work as written, saved as the config files
they name: the global-batch one sets the classes and the batch together, the custom-dataset one
trains on a folder of real photos."""
import re

import numpy as np
import pytest
from conftest import ROOT
from mmengine.config import Config
from PIL import Image


README = ROOT / 'configs/mejigclu/README.md'


def readme_block(name):
    """The fenced python code between the README's ``<!-- NAME:start/end -->`` markers."""
    block = re.search(rf'<!-- {name}:start -->(.*?)<!-- {name}:end -->', README.read_text(), re.S)
    assert block, f'{README} has no {name} markers'
    code = re.search(r'```python\n(.*?)```', block.group(1), re.S)
    assert code, f'{README}: no ```python block between the {name} markers'
    return code.group(1)


def saved_snippet(name, folder):
    """The snippet saved in ``folder`` as the config file it names, the repository's configs
    beside it as in a checkout."""
    snippet = readme_block(name)
    config = folder / re.match(r'# (\S+\.py):', snippet).group(1)
    config.parent.mkdir(parents=True)
    config.write_text(snippet)
    for configs in ('_base_', 'mejigclu'):
        (folder / 'configs' / configs).symlink_to(ROOT / 'configs' / configs)
    return config


def test_global_batch_snippet_sets_the_classes_and_the_batch_together(tmp_path):
    cfg = Config.fromfile(saved_snippet('global-batch-snippet', tmp_path))
    base = Config.fromfile(ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py')
    assert base.model.heads.cls.num_classes == 4 * 64  # the snippet changes the base's value
    assert cfg.model.heads.cls.num_classes == 8 * 64
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_dataloader.batch_sampler.type == 'DisjointSubsetBatchSampler'


@pytest.mark.slow  # runs a Runner
def test_custom_dataset_snippet_trains_on_a_folder_of_images(imagenet_images, tmp_path):
    import train as train_tool
    config = saved_snippet('custom-dataset-snippet', tmp_path)
    images = tmp_path / 'my_images' / 'holiday'  # the dataset also walks sub-folders
    images.mkdir(parents=True)
    formats = ('.jpg', '.JPEG', '.png', '.tiff', '.webp', '.gif', '.bmp')
    for index, image in enumerate(imagenet_images):  # every format OpenCV or PIL reads
        Image.open(image).convert('RGB').save(images / f'{image.stem}{formats[index % 7]}')
    (images / 'notes.txt').write_text('not an image: skipped, and counted in the log')

    runner = train_tool.main([
        str(config), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path / "my_images"}',
        'train_dataloader.batch_size=8',
        'model.heads.cls.num_classes=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'train_cfg.max_epochs=1',
        'randomness.seed=0', 'custom_hooks=[]',
        # CPU-sized: ResNet-18 (512-d features), 32 px patches
        'model.backbone.depth=18', 'model.heads.clu.in_channels=512',
        'model.heads.clu.hid_channels=512', 'model.heads.cls.in_channels=512',
        'model.heads.cls.hid_channels=512', 'train_dataloader.dataset.pipeline.1.patch_size=32'])
    assert len(runner.train_dataloader.dataset) == 20  # every image; notes.txt skipped
    assert runner.cfg.model.heads.cls.num_classes == 8
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 20 // 8 and np.all(np.isfinite(losses))
