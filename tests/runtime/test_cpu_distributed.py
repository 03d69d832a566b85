"""CPU process groups for tools/train.py and tools/test.py."""
import pytest
from mmengine.config import Config

from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed


def test_no_launcher_starts_no_process_group():
    cfg = Config(dict(launcher='none', model=dict(norm_cfg=dict(type='SyncBN'))))
    assert init_cpu_distributed(cfg) is False
    assert cfg.model.norm_cfg.type == 'SyncBN'  # untouched


def test_missing_torchrun_variables_are_named(monkeypatch):
    # the CPU fallback runs only without an accelerator: pretend so on any machine
    monkeypatch.setattr('mejigclu_mm.runtime.cpu_distributed.get_device', lambda: 'cpu')
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('RANK', '0')
    cfg = Config(dict(launcher='pytorch', model=dict()))
    with pytest.raises(ValueError, match='WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not set'):
        init_cpu_distributed(cfg)
