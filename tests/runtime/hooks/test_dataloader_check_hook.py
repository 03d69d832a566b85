"""DataloaderCheckHook refuses, before any step or checkpoint, data that cannot give the
promised steps and a photometric recipe set twice; what the heads check where they use it
(the number of classes, the grid) stops the run at its first step, before any checkpoint."""
import pytest
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

pytestmark = pytest.mark.slow  # every test here runs a Runner

MEJIGCLU = ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'
JIGCLU = ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


def runner_for(config, data_root, work_dir, batch_size=8, **options):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = 1
    cfg.train_dataloader.update(batch_size=batch_size, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.data_root = str(data_root)
    if 'cls' in cfg.model.heads:
        cfg.model.heads.cls.num_classes = batch_size
    cfg.merge_from_dict(options)
    cfg.custom_hooks = [dict(type='DataloaderCheckHook')]
    return Runner.from_cfg(cfg)


def refuse(runner, match, work_dir):
    with pytest.raises(ValueError, match=match):
        runner.train()
    assert not list(work_dir.glob('*.pth'))  # refused before anything was trained or saved


def test_a_training_set_smaller_than_the_global_batch_is_refused(fashion_mnist_format_root,
                                                                  tmp_path):
    runner = runner_for(JIGCLU, fashion_mnist_format_root, tmp_path, batch_size=64)
    refuse(runner, 'the training set has 60 images, fewer than one global batch of 64 '
           r'\(train_dataloader.batch_size 64 x 1 processes\)', tmp_path)


def test_classes_must_equal_the_global_batch(fashion_mnist_format_root, tmp_path):
    runner = runner_for(MEJIGCLU, fashion_mnist_format_root, tmp_path,
                        **{'model.heads.cls.num_classes': 16})
    refuse(runner, 'PatchClassificationHead has num_classes=16, but this step has 8 images in '
           'the global batch', tmp_path)


SHUFFLED = ROOT / 'configs/mejigclu/mejigclu-shuffled_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


def test_a_classification_head_needs_complete_batches(fashion_mnist_format_root, tmp_path):
    runner = runner_for(SHUFFLED, fashion_mnist_format_root, tmp_path,
                        **{'train_dataloader.drop_last': False})
    refuse(runner, 'model.heads.cls needs 8 images in every step, but the dataloader keeps an '
           'incomplete last batch', tmp_path)


SPLIT = 'train_dataloader.dataset.pipeline.3'  # after the three grey-to-RGB steps


def test_the_photometric_recipe_set_twice_is_refused(fashion_mnist_format_root, tmp_path):
    runner = runner_for(MEJIGCLU, fashion_mnist_format_root, tmp_path,
                        **{f'{SPLIT}.photometric': dict(brightness=0.4)})
    refuse(runner, 'the photometric recipe is set twice', tmp_path)


def test_the_cpu_fallback_alone_trains(fashion_mnist_format_root, tmp_path):
    options = {f'{SPLIT}.photometric': dict(brightness=0.4),
               'model.data_preprocessor.photometric': None}
    runner = runner_for(MEJIGCLU, fashion_mnist_format_root, tmp_path / 'cpu', **options)
    runner.train()
    assert runner.iter == 7


def test_the_location_head_grid_must_be_the_split_grid(fashion_mnist_format_root, tmp_path):
    runner = runner_for(JIGCLU, fashion_mnist_format_root, tmp_path,
                        **{f'{SPLIT}.grid': 3})
    refuse(runner, 'LocationHead has grid=2 but the montages use grid=3', tmp_path)


def test_a_consistent_run_passes(fashion_mnist_format_root, tmp_path):
    runner = runner_for(MEJIGCLU, fashion_mnist_format_root, tmp_path,
                        **{'train_cfg.max_epochs': 1})
    runner.train()
    assert runner.iter == 7  # 60 images in 8 subsets of 7: 7 batches of 8
