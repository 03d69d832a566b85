"""What ``--resume`` continues from, and whether that checkpoint fits the run before it loads.

``GuardedRunner`` (:mod:`mejigclu_mm.runtime.mmengine_internals`) calls these before anything
is loaded or written; docs/checkpoints.md ("Exact resume") says what mmengine 0.10.7 does
without them.
"""
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import print_log

from mejigclu_mm.runtime.run_facts import compare_data, compare_settings
from mejigclu_mm.runtime.safe_checkpoint import load_checkpoint_file

CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')


class ResumeError(ValueError):
    """There is nothing to resume, or the checkpoint does not fit the run."""


def training_checkpoints(folder: str) -> List[str]:
    """The ``epoch_N.pth`` / ``iter_N.pth`` files in ``folder``, oldest first.

    Epoch checkpoints come before iteration ones (a folder holds one kind unless two runs
    shared it); each kind is ordered by N.

    Args:
        folder (str): A work dir (or a checkpoint hook's ``out_dir``).

    Returns:
        list[str]: Paths; empty when ``folder`` does not exist.
    """
    if not osp.isdir(folder):
        return []
    found = []
    for name in os.listdir(folder):
        match = CHECKPOINT_NAME.match(name)
        if match and osp.isfile(osp.join(folder, name)):
            found.append(((match.group(1) == 'epoch', int(match.group(2))), name))
    return [osp.join(folder, name) for _, name in sorted(found)]


def find_resume_checkpoint(work_dir: str) -> str:
    """The checkpoint ``--resume`` without a path continues from.

    ``work_dir/last_checkpoint`` names it. When that path no longer exists (the work dir was
    moved or copied; ``last_checkpoint`` holds an absolute path) or ``last_checkpoint`` is
    empty or missing, the file of the same name beside ``last_checkpoint``, else the newest
    ``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir`` is taken, with a log line. A path that
    exists elsewhere while a file of its name lies in ``work_dir`` also gives way to the
    work dir's own file (a copied work dir resumes from its copy).

    Args:
        work_dir (str): The run's work dir.

    Returns:
        str: The checkpoint's path.

    Raises:
        ResumeError: nothing to resume from in ``work_dir``; the message names it.
    """
    record = osp.join(work_dir, 'last_checkpoint')
    named = ''
    if osp.isfile(record):
        with open(record) as file:
            named = file.read().strip()
    if named:
        beside = osp.join(work_dir, osp.basename(named))
        own = osp.isfile(beside)
        if osp.isfile(named) and (not own or osp.samefile(osp.dirname(osp.abspath(named)),
                                                          work_dir)):
            return named
        if own:
            print_log(f'--resume: {record} names {named}, '
                      f'{"another copy" if osp.isfile(named) else "which does not exist"}; '
                      f'resuming from the file of that name in the work dir, {beside}',
                      logger='current')
            return beside
    found = training_checkpoints(work_dir)
    if not found:
        why = (f'{record} names {named}, which does not exist, and' if named else
               f'{record} is empty and' if osp.isfile(record) else 'it has no last_checkpoint and')
        raise ResumeError(
            f'--resume: nothing to resume in work dir {work_dir}: {why} no epoch_*.pth or '
            'iter_*.pth is there. Check --work-dir (a typo starts nowhere), give the checkpoint '
            'as --resume PATH, or start a new run without --resume.')
    reason = (f'{record} names {named}, which does not exist' if named else
              f'{record} is empty' if osp.isfile(record) else f'{work_dir} has no last_checkpoint')
    print_log(f'--resume: {reason}; resuming from the newest checkpoint in the work dir, '
              f'{found[-1]}', logger='current')
    return found[-1]


def read_training_checkpoint(path: str) -> dict:
    """What a resumable checkpoint says about its run, read before anything is built.

    Args:
        path (str): The checkpoint.

    Returns:
        dict: ``path``, ``epoch``, ``iter``, ``seed`` (None when not saved), ``global_batch``
        and ``world_size`` (None when saved without ``AtomicCheckpointHook``), ``run_id`` and
        ``run_facts`` (None when saved without ``GuardedRunner``) and ``shapes``,
        ``{key: shape}`` of its state dict (``module.`` prefixes removed, as mmengine's resume
        does).

    Raises:
        ResumeError: ``path`` is no file, or no checkpoint of a training run (e.g. a converted
            backbone, pretrained weights): the message says how to initialise from it instead.
    """
    if not osp.isfile(path):
        raise ResumeError(f'--resume: checkpoint {path} does not exist or is not a file')
    checkpoint = load_checkpoint_file(path)
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    state = checkpoint.get('state_dict') if isinstance(checkpoint, dict) else None
    if not isinstance(meta, dict) or 'epoch' not in meta or 'iter' not in meta \
            or not isinstance(state, dict):
        raise ResumeError(
            f'--resume: {path} is not a checkpoint of a training run (it has no meta.epoch / '
            'meta.iter and state_dict to continue from: pretrained or converted weights?). '
            f'To start a model from its weights, train without --resume and set '
            f'model.backbone.init_cfg.checkpoint={path} (the backbone) or load_from={path} '
            '(the whole model).')
    shapes = {re.sub(r'^module\.', '', key): tuple(value.shape)
              for key, value in state.items() if torch.is_tensor(value)}
    return dict(path=path, epoch=meta['epoch'], iter=meta['iter'], seed=meta.get('seed'),
                global_batch=meta.get('global_batch'), world_size=meta.get('world_size'),
                run_id=meta.get('run_id'), run_facts=meta.get('run_facts'), shapes=shapes)


def _listed(keys: List[str], limit: int = 6) -> str:
    shown = ', '.join(keys[:limit])
    return shown + (f', ... ({len(keys) - limit} more)' if len(keys) > limit else '')


def resume_mismatches(summary: dict, model: torch.nn.Module,
                      global_batch: Optional[int], world_size: int) -> List[str]:
    """How a checkpoint (:func:`read_training_checkpoint`) differs from the run to resume.

    Args:
        summary (dict): The checkpoint's summary.
        model (nn.Module): The run's model (unwrapped).
        global_batch (int, optional): The run's images per step over all processes.
        world_size (int): The run's number of processes.

    Returns:
        list[str]: One line per kind of difference; empty when the checkpoint fits.
    """
    problems = []
    saved_batch = summary.get('global_batch')
    if saved_batch is not None and global_batch is not None and saved_batch != global_batch:
        problems.append(
            f'global batch: {saved_batch} images per step when it was saved '
            f'({summary.get("world_size")} process(es)), {global_batch} now '
            f'({world_size} process(es))')
    expected: Dict[str, Tuple[int, ...]] = {
        key: tuple(value.shape) for key, value in model.state_dict().items()}
    saved = summary['shapes']
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    shaped = [f'{key} (checkpoint {saved[key]}, model {shape})'
              for key, shape in expected.items() if key in saved and saved[key] != shape]
    if shaped:
        problems.append(f'{len(shaped)} tensor(s) of another shape: {_listed(shaped, 4)}')
    if missing:
        problems.append(f'{len(missing)} of the model\'s tensors missing from the checkpoint: '
                        f'{_listed(missing)}')
    if unexpected:
        problems.append(f'{len(unexpected)} tensor(s) the model does not have: '
                        f'{_listed(unexpected)}')
    return problems


def check_resume_fits(summary: dict, model: torch.nn.Module, global_batch: Optional[int],
                      world_size: int, facts: Optional[dict] = None) -> List[str]:
    """Refuse to resume from a checkpoint of another model, size, global batch or optimizer;
    name the settings that differ otherwise.

    Args:
        summary (dict): :func:`read_training_checkpoint`'s result.
        model (nn.Module): The run's model (unwrapped).
        global_batch (int, optional): The run's images per step over all processes.
        world_size (int): The run's number of processes.
        facts (dict, optional): :func:`~mejigclu_mm.runtime.run_facts.run_facts` of the run,
            whose settings are compared with the checkpoint's
            (:func:`~mejigclu_mm.runtime.run_facts.compare_settings`).

    Returns:
        list[str]: Warnings, one per setting that differs but lets the run continue.

    Raises:
        ResumeError: naming the file and every difference, and how to start from its weights.
    """
    problems = resume_mismatches(summary, model, global_batch, world_size)
    refused, warned = compare_settings(summary.get('run_facts'), facts or {})
    _refuse(summary, problems + refused)
    return [f'--resume {summary["path"]}: {line}' for line in warned]


def check_resume_data(summary: dict, facts: dict) -> List[str]:
    """Refuse to resume on data that re-splits ``DisjointSubsetBatchSampler``'s subsets; name
    a training set of another size otherwise.

    Args:
        summary (dict): :func:`read_training_checkpoint`'s result.
        facts (dict): :func:`~mejigclu_mm.runtime.run_facts.run_facts` of the run, with its
            training dataloader.

    Returns:
        list[str]: Warnings.

    Raises:
        ResumeError: naming the file, the split then and now, and what to do.
    """
    refused, warned = compare_data(summary.get('run_facts'), facts)
    _refuse(summary, refused)
    return [f'--resume {summary["path"]}: {line}' for line in warned]


def _refuse(summary: dict, problems: List[str]) -> None:
    if not problems:
        return
    path = summary['path']
    raise ResumeError(
        f'--resume: checkpoint {path} (epoch {summary["epoch"]}, iteration {summary["iter"]}) '
        'does not fit this run:\n  - ' + '\n  - '.join(problems) + '\n'
        'Resuming continues the same run: same model, global batch, data and optimizer. To '
        'start this config '
        f'from its weights instead, train without --resume and set load_from={path} (the '
        f'whole model) or model.backbone.init_cfg.checkpoint={path} (the backbone, e.g. a '
        'pretraining checkpoint in a linear or detection config).')
