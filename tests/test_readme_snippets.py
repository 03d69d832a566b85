"""The README's config snippets work as written: the custom-dataset snippet, saved as the config
file it names, trains on a folder of real photos."""
import re
import shutil

import numpy as np
import pytest
from conftest import ROOT
from PIL import Image


def readme_block(name):
    """The fenced python code between the README's ``<!-- NAME:start/end -->`` markers."""
    text = (ROOT / 'README.md').read_text()
    block = re.search(rf'<!-- {name}:start -->(.*?)<!-- {name}:end -->', text, re.S)
    assert block, f'README.md has no {name} markers'
    code = re.search(r'```python\n(.*?)```', block.group(1), re.S)
    assert code, f'README.md: no ```python block between the {name} markers'
    return code.group(1)


@pytest.mark.slow  # runs a Runner
def test_custom_dataset_snippet_trains_on_a_folder_of_images(imagenet_images, tmp_path):
    import train as train_tool
    snippet = readme_block('custom-dataset-snippet')
    path = re.match(r'# (\S+\.py):', snippet).group(1)  # the file the snippet says it is
    config = tmp_path / path
    config.parent.mkdir(parents=True)
    config.write_text(snippet)
    for folder in ('_base_', 'mejigclu'):  # the repository's configs beside it, as in a checkout
        (tmp_path / 'configs' / folder).symlink_to(ROOT / 'configs' / folder)
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
