"""CPU process groups for tools/train.py and tools/test.py (mejigclu_mm/engine/distributed.py)."""
import argparse
import os

import pytest
from mmengine.config import Config

from mejigclu_mm.engine.distributed import (add_launcher_arguments, init_cpu_distributed,
                                            parse_launcher_args)


def launcher_parser():
    parser = argparse.ArgumentParser()
    add_launcher_arguments(parser)
    return parser


def test_local_rank_is_exported_unless_the_launcher_set_it(monkeypatch):
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_launcher_args(launcher_parser(), ['--launcher', 'pytorch', '--local-rank', '3'])
    assert args.launcher == 'pytorch' and os.environ['LOCAL_RANK'] == '3'
    monkeypatch.setenv('LOCAL_RANK', '1')  # torchrun's own value wins
    parse_launcher_args(launcher_parser(), ['--local_rank', '5'])
    assert os.environ['LOCAL_RANK'] == '1'


def test_unknown_launcher_is_refused_by_the_parser():
    with pytest.raises(SystemExit):
        parse_launcher_args(launcher_parser(), ['--launcher', 'mpi'])


def test_no_launcher_starts_no_process_group():
    cfg = Config(dict(launcher='none', model=dict(norm_cfg=dict(type='SyncBN'))))
    assert init_cpu_distributed(cfg) is False
    assert cfg.model.norm_cfg.type == 'SyncBN'  # untouched


def test_missing_torchrun_variables_are_named(monkeypatch):
    # the CPU fallback runs only without an accelerator: pretend so on any machine
    monkeypatch.setattr('mejigclu_mm.engine.distributed.get_device', lambda: 'cpu')
    for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv('RANK', '0')
    cfg = Config(dict(launcher='pytorch', model=dict()))
    with pytest.raises(ValueError, match='WORLD_SIZE, MASTER_ADDR, MASTER_PORT are not set'):
        init_cpu_distributed(cfg)
