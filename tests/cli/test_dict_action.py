"""--cfg-options values are kept as typed (issue 27.8): mmengine's DictAction removes spaces."""
import argparse

import pytest

from mejigclu_mm.cli.dict_action import DictAction, parse_value


def parse(*pairs):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *pairs]).cfg_options


def test_spaces_in_a_value_are_kept():
    options = parse('data_root=/data/my photos/', 'load_from="/ckpt/run 1/epoch_2.pth"')
    assert options == {'data_root': '/data/my photos/', 'load_from': '/ckpt/run 1/epoch_2.pth'}


def test_lists_tuples_numbers_as_mmengine_parses_them():
    assert parse_value('1') == 1 and parse_value('0.5') == 0.5 and parse_value('None') is None
    assert parse_value('True') is True and parse_value('a,b') == ['a', 'b']
    assert parse_value('[1, (2, 3), [4]]') == [1, (2, 3), [4]]
    assert parse_value('"[a, b]"') == ['a', 'b']  # mmengine's documented quoted list
    assert parse_value("['my photos', 'x,y']") == ['my photos', 'x,y']  # quoted: verbatim


def test_train_py_keeps_the_spaces():
    import train as train_tool
    args = train_tool.parse_args(['c.py', '--cfg-options',
                                  'train_dataloader.dataset.data_root=/data/my photos/'])
    assert args.cfg_options == {'train_dataloader.dataset.data_root': '/data/my photos/'}


@pytest.mark.parametrize('pair, message', [('data_root', 'is not KEY=VALUE'),
                                           ('x=[1, 2', 'unbalanced brackets'),
                                           ("x='a", 'an unclosed quote')])
def test_malformed_options_are_named(pair, message, capsys):
    with pytest.raises(SystemExit):
        parse(pair)
    assert message in capsys.readouterr().err
