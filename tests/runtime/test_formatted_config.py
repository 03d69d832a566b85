"""FormattedOnceConfig gives mmengine's text, formats it once per content, and a run's Runner
formats its config once: the text in the log, the work dir and the checkpoints is the same."""
import copy

import pytest
from conftest import ROOT
from mmengine.config import Config

import mmengine.config.config as mmengine_config
from mejigclu_mm.runtime.formatted_config import FormattedOnceConfig

CONFIG = ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


@pytest.fixture
def yapf_calls(monkeypatch):
    """The number of times yapf formats a config, as a one-element list."""
    calls = [0]
    format_code = mmengine_config.FormatCode

    def counting(text, **kwargs):
        calls[0] += 1
        return format_code(text, **kwargs)

    monkeypatch.setattr(mmengine_config, 'FormatCode', counting)
    return calls


def test_the_text_is_mmengines_and_formatted_once_per_content(yapf_calls):
    plain = Config.fromfile(CONFIG)
    expected = plain.pretty_text
    formatted = FormattedOnceConfig.of(copy.deepcopy(plain))
    yapf_calls[0] = 0
    assert formatted.pretty_text == expected and formatted.pretty_text == expected
    assert yapf_calls[0] == 1
    copied = copy.deepcopy(formatted)
    assert type(copied) is FormattedOnceConfig and copied.pretty_text == expected
    assert yapf_calls[0] == 1
    copied.train_cfg.max_epochs = 7  # a nested change is a new content
    plain.train_cfg.max_epochs = 7
    assert copied.pretty_text == plain.pretty_text != expected
    assert 'max_epochs=7' in copied.pretty_text
    assert formatted.pretty_text == expected  # the original kept its own text
    assert FormattedOnceConfig.of(formatted) is formatted


def test_a_run_formats_its_config_once(yapf_calls, fashion_mnist_format_root, tmp_path):
    import train
    yapf_calls[0] = 0
    train.main([str(CONFIG), '--work-dir', str(tmp_path), '--cfg-options',
                f'train_dataloader.dataset.data_root={fashion_mnist_format_root}',
                'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=4',
                'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                'model.backbone.stem_channels=16', 'model.backbone.base_channels=16',
                'model.heads.clu.in_channels=128', 'model.heads.loc.in_channels=128',
                'train_cfg.max_epochs=2', 'param_scheduler.0.T_max=2', 'param_scheduler.0.end=2',
                'default_hooks.checkpoint.interval=1'])
    assert (tmp_path / 'epoch_2.pth').exists()
    assert yapf_calls[0] == 1
