"""Where a run's merged config is recorded: never over the config it was read from, or any file
that is not an earlier record.

mmengine 0.10.7 dumps the merged config to ``work_dir/<config file name>``, so
``tools/train.py d/my.py --work-dir d`` replaces the user's config with the dump. Here the
record goes there only when that file does not exist or is an earlier record (recognised by its
first line, :data:`HEADER`); otherwise to ``work_dir/<config name>.<timestamp>.py``, a name no
earlier file has. Both are written atomically.
"""
import os.path as osp
from typing import Tuple

from mejigclu_mm.runtime.atomic_write import atomic_write

HEADER = '# The merged config of a run, recorded by mejigclu_mm'


def is_config_record(path: str) -> bool:
    """Whether ``path`` is a config recorded by :func:`record_config` (its first line)."""
    try:
        with open(path, encoding='utf-8') as file:
            return file.readline().startswith(HEADER)
    except (OSError, UnicodeDecodeError):
        return False


def config_record_path(work_dir: str, config_file: str, timestamp: str) -> Tuple[str, str]:
    """Where the merged config of ``config_file`` goes in ``work_dir``.

    Args:
        work_dir (str): The run's work dir.
        config_file (str): The config's file (``cfg.filename``; empty or None: no file).
        timestamp (str): The run's timestamp (mmengine's ``runner.timestamp``).

    Returns:
        tuple[str, str]: The path, and why another name than mmengine's was taken ('' when not).
    """
    name = osp.basename(config_file) if config_file else f'{timestamp}.py'
    usual = osp.join(work_dir, name)
    if not osp.lexists(usual) or (not _same(usual, config_file) and is_config_record(usual)):
        return usual, ''
    why = ('is the config file this run reads' if _same(usual, config_file) else
           'exists and is not a config recorded by an earlier run')
    stem = osp.splitext(name)[0]
    path, index = osp.join(work_dir, f'{stem}.{timestamp}.py'), 1
    while osp.lexists(path):
        path, index = osp.join(work_dir, f'{stem}.{timestamp}-{index}.py'), index + 1
    return path, f'{usual} {why}'


def _same(path: str, other: str) -> bool:
    return bool(other) and osp.exists(path) and osp.exists(other) and osp.samefile(path, other)


def record_config(text: str, work_dir: str, config_file: str, timestamp: str) -> str:
    """Write the merged config ``text`` into ``work_dir`` (see :func:`config_record_path`).

    Returns:
        str: A line saying where it went (and why there, when not at mmengine's name).
    """
    path, why = config_record_path(work_dir, config_file, timestamp)
    with atomic_write(path, encoding='utf-8') as file:
        file.write(f'{HEADER} from {config_file or "a config without file"} '
                   f'(run of {timestamp})\n{text}')
    if why:
        return (f'the merged config is recorded in {path}, not over {why} '
                '(mmengine would have written over it)')
    return f'the merged config is recorded in {path}'
