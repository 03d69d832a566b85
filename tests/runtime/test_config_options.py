"""--cfg-options keys that nothing reads are named, with the closest keys that exist."""
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.runtime.config_options import runner_keys, unknown_option_warnings

CONFIG = ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


def test_a_top_level_key_nothing_reads_is_named_with_the_closest_keys():
    cfg = Config.fromfile(CONFIG)
    warnings = unknown_option_warnings(cfg, ['max_epochs', 'train_cfg.max_epochs'])
    assert len(warnings) == 1
    assert warnings[0].startswith("--cfg-options max_epochs: the config has no top-level key "
                                  "'max_epochs'")
    assert 'did you mean' in warnings[0] and 'train_cfg.max_epochs' in warnings[0]


def test_a_misspelt_section_is_matched_to_the_real_one():
    cfg = Config.fromfile(CONFIG)
    [warning] = unknown_option_warnings(cfg, ['train_dataloder.batch_size'])
    assert "'train_dataloder'" in warning and 'train_dataloader' in warning


def test_keys_of_the_config_or_read_by_the_runner_pass():
    cfg = Config.fromfile(CONFIG)
    options = ['model.backbone.depth', 'randomness.seed', 'load_from', 'resume', 'work_dir',
               'model_wrapper_cfg.find_unused_parameters', 'auto_scale_lr.enable',
               'default_hooks.checkpoint.max_keep_ckpts', 'compile']
    assert unknown_option_warnings(cfg, options) == []
    assert {'train_cfg', 'optim_wrapper', 'custom_hooks', 'env_cfg'} <= set(runner_keys())


def test_nothing_close_gives_no_guess():
    cfg = Config.fromfile(CONFIG)
    [warning] = unknown_option_warnings(cfg, ['zzzz'])
    assert 'did you mean' not in warning
