"""Which run a work dir belongs to: a record of the last run started there, and the refusals
that keep one run's checkpoints from being continued, mixed or replaced by another.

A run writes ``WORK_DIR/run.json`` when it starts (after its checks): its run id, when it
started, its config, what it resumed and whether it was started with ``overwrite``. Its
checkpoints carry the same id (``meta['run_id']``); a resumed run keeps the id of the
checkpoint it continues. Checkpoints and work dirs written before run ids existed have none:
their ``run_id`` is None and they are treated as one run.
"""
import json
import os
import os.path as osp
import secrets
import socket
from typing import List, Mapping, Optional

from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.runtime.resume import ResumeError, training_checkpoints

RECORD_FILE = 'run.json'


class WorkDirError(ValueError):
    """A new run would write into a work dir that holds another run's checkpoints."""


def new_run_id(timestamp: str) -> str:
    """A run id: the Runner's timestamp and 8 random hex digits (``20250101_120000-1a2b3c4d``)."""
    return f'{timestamp}-{secrets.token_hex(4)}'


def read_run_record(work_dir: str) -> Optional[dict]:
    """The record of the last run started in ``work_dir``, or None (none, or unreadable)."""
    path = osp.join(work_dir, RECORD_FILE)
    try:
        with open(path, encoding='utf-8') as file:
            record = json.load(file)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and 'run_id' in record else None


def write_run_record(work_dir: str, record: Mapping) -> str:
    """Write ``record`` (with this process's host and pid) as ``work_dir/run.json``,
    atomically; returns its path."""
    path = osp.join(work_dir, RECORD_FILE)
    with atomic_write(path) as file:
        json.dump(dict(record, host=socket.gethostname(), pid=os.getpid()), file, indent=1)
    return path


def checkpoint_dirs(cfg: Mapping) -> List[str]:
    """The folders a run's checkpoints go to: the work dir and the checkpoint hook's
    ``out_dir`` (mmengine puts them in ``out_dir/<work dir's name>``)."""
    folders = [cfg['work_dir']]
    out_dir = ((cfg.get('default_hooks') or {}).get('checkpoint') or {}).get('out_dir')
    if out_dir:
        folders.append(osp.join(out_dir, osp.basename(osp.normpath(cfg['work_dir']))))
    return folders


def earlier_checkpoints(cfg: Mapping, besides: Optional[str] = None) -> List[str]:
    """The training checkpoints (and ``last_checkpoint``) a run into ``cfg.work_dir`` would
    meet, except ``besides``."""
    found = [path for folder in checkpoint_dirs(cfg) for path in training_checkpoints(folder)]
    last = osp.join(cfg['work_dir'], 'last_checkpoint')
    if osp.isfile(last):
        found.append(last)
    if besides is not None and osp.exists(besides):
        found = [path for path in found if not osp.samefile(path, besides)]
    return found


def _names(paths: List[str]) -> str:
    return ', '.join(osp.basename(path) for path in paths[-4:])


def check_new_run(cfg: Mapping) -> Optional[str]:
    """Refuse a new run into a work dir that holds checkpoints, unless ``cfg.overwrite``.

    Args:
        cfg (Mapping): The run's config (``work_dir``, ``default_hooks``, ``overwrite``).

    Returns:
        str | None: The warning to log when ``overwrite`` lets the run start over them.

    Raises:
        WorkDirError: checkpoints are there and ``overwrite`` is not set; names them.
    """
    found = earlier_checkpoints(cfg)
    if not found:
        return None
    work_dir = cfg['work_dir']
    if not cfg.get('overwrite'):
        raise WorkDirError(
            f'work dir {work_dir} holds checkpoints of an earlier run ({_names(found)}): '
            'continue it with --resume, or start again with --overwrite (this run\'s '
            'checkpoints then replace them), or give another --work-dir. (Another train.py: '
            'resume=True or overwrite=True in the config or its --cfg-options.)')
    return (f'overwrite: {work_dir} holds checkpoints of an earlier run ({_names(found)}); '
            'this run\'s checkpoints replace them as it saves, and --resume continues this run '
            'only once it has saved one')


def _inside(path: str, folders: List[str]) -> bool:
    folder = osp.realpath(osp.dirname(osp.abspath(path)))
    return any(osp.isdir(f) and osp.samefile(folder, f) for f in folders)


def _describe_run(run_id: Optional[str]) -> str:
    return f'run {run_id}' if run_id else 'a run written before run ids existed'


def check_resume_owner(cfg: Mapping, summary: Mapping) -> List[str]:
    """Refuse to resume a checkpoint into a work dir that belongs to another run.

    - The checkpoint lies outside the work dir (``--work-dir A --resume B/epoch_1.pth``): the
      work dir must hold no checkpoints of another run (its record names the checkpoint's run,
      or it holds none).
    - The last run started in the work dir (``run.json``) is not the checkpoint's run (e.g. an
      ``--overwrite`` run killed before its first save, whose ``last_checkpoint`` still names the
      earlier run's file): refused when the checkpoint was found (``--resume`` without a
      path), a warning when it was named (``--resume PATH``: continuing it is what was asked).

    Args:
        cfg (Mapping): The run's config.
        summary (Mapping): :func:`~mejigclu_mm.runtime.resume.read_training_checkpoint`'s
            result, with ``explicit`` (whether the user named the checkpoint).

    Returns:
        list[str]: Warnings to log.

    Raises:
        ResumeError: naming the work dir, the runs and what to do.
    """
    work_dir, path = cfg['work_dir'], summary['path']
    record = read_run_record(work_dir)
    own = summary.get('run_id')
    same_run = record is not None and record.get('run_id') == own
    if not _inside(path, checkpoint_dirs(cfg)):
        others = earlier_checkpoints(cfg, besides=path)
        if others and not same_run:
            raise ResumeError(
                f'--resume {path}: work dir {work_dir} holds checkpoints of another run '
                f'({_names(others)}); resuming there would mix the two runs and write over '
                f'their files. Resume into a work dir without checkpoints, or into the '
                f'checkpoint\'s own work dir (--work-dir {osp.dirname(osp.abspath(path))}).')
    if record is None or same_run:
        return []
    last = (f'the last run started in {work_dir} ({_describe_run(record.get("run_id"))}, '
            f'started {record.get("started")}'
            f'{", with overwrite" if record.get("overwrite") else ""}) is not the run that '
            f'wrote {path} ({_describe_run(own)})')
    if not summary.get('explicit'):
        raise ResumeError(
            f'--resume: {last}: the last run saved no checkpoint (stopped before its first '
            f'save?), and resuming would continue the earlier run, at its own learning rate and '
            f'schedule. Start the last run again (--overwrite), or, to continue the earlier '
            f'run, name its checkpoint: --resume {path}.')
    return [f'--resume {path}: {last}; continuing the earlier run, as --resume names its '
            'checkpoint']
