"""The merged config is never recorded over the config a run reads, or any file but an earlier
record (issue 27.2)."""
from mejigclu_mm.runtime.config_dump import HEADER, record_config


def test_the_config_read_from_the_work_dir_is_kept(tmp_path):
    config = tmp_path / 'my.py'
    config.write_text("_base_ = ['x.py']\n")
    line = record_config('a = 1\n', str(tmp_path), str(config), '20260101_000000')
    assert config.read_text() == "_base_ = ['x.py']\n"
    record = tmp_path / 'my.20260101_000000.py'
    assert record.read_text().startswith(HEADER) and record.read_text().endswith('a = 1\n')
    assert f'not over {config} is the config file this run reads' in line


def test_an_earlier_record_is_replaced_and_a_stranger_file_kept(tmp_path):
    elsewhere = tmp_path / 'configs'
    elsewhere.mkdir()
    (elsewhere / 'my.py').write_text('a = 0\n')
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    record_config('a = 1\n', str(work_dir), str(elsewhere / 'my.py'), 't1')
    record_config('a = 2\n', str(work_dir), str(elsewhere / 'my.py'), 't2')
    assert (work_dir / 'my.py').read_text().endswith('a = 2\n')  # its own earlier record
    (work_dir / 'my.py').write_text('notes\n')  # not a record
    record_config('a = 3\n', str(work_dir), str(elsewhere / 'my.py'), 't3')
    assert (work_dir / 'my.py').read_text() == 'notes\n'
    assert (work_dir / 'my.t3.py').read_text().endswith('a = 3\n')
