"""What a comparison is: its arms, seeds, probes and contrasts, read from a comparison config.

A comparison config (``configs/comparisons/*.py``, mmengine's config format) holds::

    arms = dict(NAME='path/to/pretraining_config.py',                      # one arm per name
                OTHER=dict(config='...', options={'key.path': value}))    # or with options
    baseline = 'random init'   # the arm of each seed's initial backbone, untrained (or None)
    seeds = [0, 1, 2]          # paired seeds (tools/compare.py --seeds K takes the first K)
    pretrain_options = {...}   # options of every arm's pretraining (sizes, schedule)
    same_batches = True        # every arm draws its batches with DisjointSubsetBatchSampler
    without_hooks = ['KNNMonitorHook']  # hooks left out of the runs (the probes measure after)
    frozen_probes = dict(config='...linear config...', options={...})
    dense_probes = dict(scenes='data/fashion_scenes', train_scenes=400, test_split='test')
    contrasts = [('MEJigClu', 'JigClu'), ('MEJigClu', 'random init'), ...]
    primary = 'probe'          # the metric the verdicts lead with
    report_losses = ['loss_cls']  # final training losses to report per run

Everything is resolved to a plain record (:func:`comparison_record`): arm configs by path and
content hash, every option. A work dir holds one comparison: its record is written there and a
later call with another record is refused, naming what differs (more seeds than before
continue it).
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config

RECORD_FILE = 'comparison.json'
KIND = 'mejigclu_mm comparison'


class ComparisonError(ValueError):
    """A comparison config or work dir that cannot be run as asked."""


def _digest(path: str) -> str:
    with open(path, 'rb') as file:
        return hashlib.sha256(file.read()).hexdigest()


def slug(name: str) -> str:
    """An arm's folder name: its name with spaces and slashes as '-'."""
    return ''.join(c if c.isalnum() or c in '._-+' else '-' for c in name)


def load_spec(path: str, options: Optional[dict] = None) -> Config:
    """The comparison config, with ``options`` (``--cfg-options``) merged.

    Raises:
        ComparisonError: a required key is missing, an arm's config does not exist, a
            contrast names an unknown arm, or the seeds are not distinct integers.
    """
    if not osp.isfile(path):
        raise ComparisonError(f'comparison config {path} does not exist')
    spec = Config.fromfile(path)
    if options:
        spec.merge_from_dict(options)
    for key in ('arms', 'seeds', 'frozen_probes', 'contrasts'):
        if not spec.get(key):
            raise ComparisonError(f'{path}: `{key}` is missing or empty (see '
                                  'mejigclu_mm/cli/comparison/spec.py for the keys)')
    names = list(arms_of(spec)) + ([spec.baseline] if spec.get('baseline') else [])
    if len({slug(n) for n in names}) != len(names):
        raise ComparisonError(f'{path}: arm names {names} are not distinct as folder names')
    for name, arm in arms_of(spec).items():
        if not osp.isfile(arm['config']):
            raise ComparisonError(f'{path}: arm {name}: config {arm["config"]} does not exist')
    for contrast in spec.contrasts:
        if len(contrast) != 2 or any(arm not in names for arm in contrast):
            raise ComparisonError(f'{path}: contrast {contrast} must name two of the arms '
                                  f'{names}')
    seeds = list(spec.seeds)
    if not seeds or len(set(seeds)) != len(seeds) or not all(isinstance(s, int) for s in seeds):
        raise ComparisonError(f'{path}: seeds must be distinct integers, got {seeds}')
    if not osp.isfile(spec.frozen_probes.get('config', '')):
        raise ComparisonError(f'{path}: frozen_probes.config '
                              f'{spec.frozen_probes.get("config")} does not exist')
    return spec


def arms_of(spec: Config) -> Dict[str, dict]:
    """Arm name -> ``dict(config=path, options={...})``, in the config's order."""
    arms = {}
    for name, arm in spec.arms.items():
        if isinstance(arm, str):
            arm = dict(config=arm, options={})
        arms[name] = dict(config=arm['config'], options=dict(arm.get('options') or {}))
    return arms


def comparison_record(spec: Config, seeds: List[int]) -> dict:
    """Everything the comparison's runs depend on, as plain data (written to the work dir)."""
    arms = {name: dict(arm, sha256=_digest(arm['config'])) for name, arm in arms_of(spec).items()}
    frozen = dict(spec.frozen_probes)
    frozen['sha256'] = _digest(frozen['config'])
    return json.loads(json.dumps(dict(
        kind=KIND, arms=arms, baseline=spec.get('baseline'), seeds=list(seeds),
        pretrain_options=dict(spec.get('pretrain_options') or {}),
        same_batches=bool(spec.get('same_batches', True)),
        without_hooks=list(spec.get('without_hooks', ['KNNMonitorHook'])), frozen_probes=frozen,
        dense_probes=dict(spec.get('dense_probes') or {}),
        contrasts=[list(c) for c in spec.contrasts], primary=spec.get('primary', 'probe'),
        report_losses=list(spec.get('report_losses') or [])), default=repr))


def record_differences(stored: dict, wanted: dict) -> List[str]:
    """Keys of two records that differ, except seeds where the new ones extend the old."""
    differ = []
    for key in sorted(set(stored) | set(wanted)):
        if key == 'seeds':
            old, new = stored.get(key, []), wanted.get(key, [])
            if new[:len(old)] != old and old[:len(new)] != new:
                differ.append(f'seeds {old} there, {new} asked')
        elif stored.get(key) != wanted.get(key):
            differ.append(f'{key} ({json.dumps(stored.get(key))[:160]} there, '
                          f'{json.dumps(wanted.get(key))[:160]} asked)')
    return differ


def check_work_dir(work_dir: str, record: dict) -> dict:
    """The record the work dir continues with: refuse another comparison, keep more seeds.

    Args:
        work_dir (str): The comparison's folder.
        record (dict): What this call asks for (:func:`comparison_record`).

    Returns:
        dict: What to write back: ``record``, with the stored seeds where they were more (the
        runs of this call are ``record``'s seeds).

    Raises:
        ComparisonError: the folder holds another comparison, or files that are none.
    """
    path = osp.join(work_dir, RECORD_FILE)
    if not osp.exists(path):
        if osp.isdir(work_dir) and any(not n.startswith('.') for n in os.listdir(work_dir)):
            raise ComparisonError(f'work dir {work_dir} is not empty and holds no '
                                  f'{RECORD_FILE}: it is no comparison; give another --work-dir')
        return record
    try:
        with open(path) as file:
            stored = json.load(file)
    except ValueError as error:
        raise ComparisonError(f'{path} is damaged ({error}): remove the work dir or give '
                              'another --work-dir') from None
    if stored.get('kind') != KIND:
        raise ComparisonError(f'{path} is not a comparison record')
    differ = record_differences(stored, record)
    if differ:
        raise ComparisonError(
            f'work dir {work_dir} holds another comparison: ' + '; '.join(differ) +
            '. Give another --work-dir, or the same comparison config and options.')
    longer = max(stored['seeds'], record['seeds'], key=len)
    return dict(record, seeds=list(longer))
