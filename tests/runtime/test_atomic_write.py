"""atomic_write: a reader sees the old file or the whole new one; a failed write leaves the old."""
import os

import pytest
from file_limits import file_size_limit, leftovers

from mejigclu_mm.runtime.atomic_write import atomic_write, temporary_path


def test_writes_and_replaces_in_one_step(tmp_path):
    path = tmp_path / 'sub' / 'results.json'
    with atomic_write(path) as file:
        file.write('first')
        assert not path.exists()  # nothing at the name until the content is whole
    assert path.read_text() == 'first'
    with atomic_write(path, 'wb') as file:
        file.write(b'second')
        assert path.read_text() == 'first'
    assert path.read_text() == 'second'
    assert leftovers(path.parent) == []


def test_an_error_while_writing_keeps_the_old_content(tmp_path):
    path = tmp_path / 'results.json'
    path.write_text('old')
    with pytest.raises(RuntimeError, match='interrupted'):
        with atomic_write(path) as file:
            file.write('half of the new')
            raise RuntimeError('interrupted')
    assert path.read_text() == 'old'
    assert leftovers(tmp_path) == []


def test_a_full_disk_keeps_the_old_content(tmp_path):
    path = tmp_path / 'big.bin'
    path.write_bytes(b'o' * 100)
    with pytest.raises(OSError):
        with file_size_limit(1000):
            with atomic_write(path, 'wb') as file:
                file.write(b'n' * 100_000)
                file.flush()
    assert path.read_bytes() == b'o' * 100
    assert leftovers(tmp_path) == []


def test_the_new_file_has_the_permissions_of_any_new_file(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    path = tmp_path / 'out.txt'
    with atomic_write(path) as file:
        file.write('x')
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_temporary_names_are_hidden_unique_and_beside_the_target(tmp_path):
    names = {temporary_path(tmp_path / 'epoch_1.pth') for _ in range(20)}
    assert len(names) == 20
    for name in names:
        base = os.path.basename(name)
        assert os.path.dirname(name) == str(tmp_path)
        assert base.startswith('.epoch_1.pth.') and base.endswith('.tmp')
        assert not base.endswith('.pth')  # a listing of checkpoints does not see it
