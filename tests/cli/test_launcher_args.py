"""``--launcher`` / ``--local-rank`` of tools/train.py and tools/test.py."""
import argparse
import os

import pytest

from mejigclu_mm.cli.launcher_args import add_launcher_arguments, parse_launcher_args


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
