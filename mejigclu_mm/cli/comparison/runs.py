"""The runs of a comparison, with common random numbers: per seed one initial backbone, saved
once and loaded into every arm, one batch order, the same preprocessor draws.

Layout of a comparison's work dir::

    comparison.json                    the record (spec.py)
    probes_config.py                   the frozen-probe config, options merged
    seed0/initial_backbone.pth         the network every arm of seed 0 starts from
    seed0/MEJigClu.py                  the arm's pretraining config, every option merged
    seed0/MEJigClu/                    its work dir (tools/train.py), done.json when finished
    seed0/MEJigClu/probes.json         its probes (tools/probe_backbone.py)
    seed0/random-init/probes.json      the baseline: the initial backbone, probed
"""
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mejigclu_mm.cli.comparison.spec import ComparisonError, slug
from mejigclu_mm.cli.run_logs import loss_series
from mejigclu_mm.evaluation.frozen_backbone import random_backbone_cfg
from mejigclu_mm.models.utils import init_from_seed
from mejigclu_mm.runtime.atomic_write import atomic_write
from mejigclu_mm.transfer import to_mmdet
from mmpretrain.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
DONE, PROBES = 'done.json', 'probes.json'


@dataclass
class Job:
    """One command of a comparison.

    Args:
        name (str): E.g. 'seed 0 MEJigClu: pretraining'.
        command (Callable): Returns the argv when the job starts (its inputs exist by then).
        done (str): The file whose existence says the job is finished.
        after (list[str]): Names of the jobs it needs.
        log (str): Where its output goes.
        finish (Callable, optional): Called after the command succeeded (writes ``done``).
    """
    name: str
    command: Callable[[], List[str]]
    done: str
    after: List[str] = field(default_factory=list)
    log: str = ''
    finish: Optional[Callable[[], None]] = None


def arm_config(record: dict, arm: str) -> Config:
    """An arm's pretraining config with the comparison's and the arm's options merged."""
    spec = record['arms'][arm]
    cfg = Config.fromfile(spec['config'])
    cfg.merge_from_dict(record['pretrain_options'])
    cfg.merge_from_dict(spec['options'])
    return cfg


def backbone_shapes(cfg: Config) -> Dict[str, tuple]:
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    backbone = MODELS.build(random_backbone_cfg(cfg.model.backbone))
    return {key: tuple(value.shape) for key, value in backbone.state_dict().items()}


def check_same_backbone(record: dict) -> None:
    """Paired arms start from one backbone: refuse arms whose backbones differ."""
    shapes = {arm: backbone_shapes(arm_config(record, arm)) for arm in record['arms']}
    first, *others = shapes
    for arm in others:
        if shapes[arm] != shapes[first]:
            raise ComparisonError(
                f'arms {first} and {arm} have different backbones (e.g. '
                f'{sorted(set(shapes[first].items()) ^ set(shapes[arm].items()))[:2]}): paired '
                'seeds need one initial backbone for every arm')


def write_initial_backbone(record: dict, seed: int, path: str) -> None:
    """The backbone every arm of ``seed`` starts from: the first arm's backbone drawn from the
    seed alone (``init_from_seed``), as a backbone checkpoint (tools/convert_weights.py's
    layout); the same network ``checkpoint='none'`` evaluates for this seed."""
    if osp.isfile(path):
        return
    cfg = arm_config(record, next(iter(record['arms'])))
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    backbone = init_from_seed(MODELS.build(random_backbone_cfg(cfg.model.backbone)), seed)
    checkpoint = to_mmdet(backbone.state_dict())
    checkpoint['meta'].update(initial_backbone_seed=seed)
    with atomic_write(path, 'wb') as file:
        torch.save(checkpoint, file)


def write_run_config(record: dict, arm: str, seed: int, init_path: str, path: str) -> None:
    """The arm's pretraining config for ``seed``, every option merged, dumped to ``path``."""
    cfg = arm_config(record, arm)
    cfg.randomness = dict(cfg.get('randomness') or {}, seed=seed)
    cfg.model.backbone.init_cfg = dict(type='StrictPretrained', checkpoint=osp.abspath(init_path))
    preprocessor = cfg.model.get('data_preprocessor') or {}
    if str(preprocessor.get('type', '')).endswith('JigsawDataPreprocessor'):
        preprocessor['random_seed'] = seed
    if record['same_batches']:
        cfg.train_dataloader.batch_sampler = dict(type='DisjointSubsetBatchSampler')
        cfg.train_dataloader.drop_last = False  # the batch sampler drops the last batch
    removed = set(record['without_hooks'])
    cfg.custom_hooks = [hook for hook in cfg.get('custom_hooks') or []
                        if str(hook.get('type')).split('.')[-1] not in removed]
    os.makedirs(osp.dirname(path), exist_ok=True)
    with atomic_write(path) as file:
        file.write(f'# {arm}, seed {seed}: written by tools/compare.py from '
                   f'{record["arms"][arm]["config"]}\n' + cfg.pretty_text)


def write_probe_config(record: dict, path: str) -> None:
    cfg = Config.fromfile(record['frozen_probes']['config'])
    cfg.merge_from_dict(record['frozen_probes'].get('options') or {})
    with atomic_write(path) as file:
        file.write(f'# written by tools/compare.py from {record["frozen_probes"]["config"]}\n'
                   + cfg.pretty_text)


def finished_pretraining(run_dir: str, losses: List[str]) -> None:
    """Record the run's last checkpoint and its last logged losses in ``done.json``."""
    with open(osp.join(run_dir, 'last_checkpoint')) as file:
        checkpoint = file.read().strip()
    series = loss_series(run_dir)
    final = {name: series[name][1][-1] for name in losses if name in series}
    with atomic_write(osp.join(run_dir, DONE)) as file:
        json.dump(dict(checkpoint=checkpoint, final_losses=final), file, indent=1)


def read_json(path: str) -> dict:
    with open(path) as file:
        return json.load(file)


def plan(record: dict, seeds: List[int], work_dir: str) -> List[Job]:
    """Every job of the comparison, in an order that respects their dependencies."""
    python, tools = sys.executable, osp.join(ROOT, 'tools')
    probes_config = osp.join(work_dir, 'probes_config.py')
    if not osp.isfile(probes_config):
        write_probe_config(record, probes_config)
    dense = record['dense_probes']
    dense_args = ['--scenes', dense['scenes'], '--train-scenes', str(dense.get('train_scenes', 0)),
                  '--test-split', dense.get('test_split', 'test')] if dense else []
    jobs = []
    for seed in seeds:
        seed_dir = osp.join(work_dir, f'seed{seed}')
        init_path = osp.join(seed_dir, 'initial_backbone.pth')
        os.makedirs(seed_dir, exist_ok=True)
        write_initial_backbone(record, seed, init_path)

        def probe(checkpoint, out, seed=seed):
            return lambda: [python, osp.join(tools, 'probe_backbone.py'), probes_config,
                            checkpoint() if callable(checkpoint) else checkpoint, '--out', out,
                            '--seed', str(seed), *dense_args]

        if record.get('baseline'):
            out_dir = osp.join(seed_dir, slug(record['baseline']))
            os.makedirs(out_dir, exist_ok=True)
            jobs.append(Job(f'seed {seed} {record["baseline"]}: probes',
                            probe(init_path, osp.join(out_dir, PROBES)),
                            osp.join(out_dir, PROBES), log=osp.join(out_dir, 'probes.log')))
        for arm in record['arms']:
            run_dir = osp.join(seed_dir, slug(arm))
            config = osp.join(seed_dir, f'{slug(arm)}.py')
            if not osp.isfile(config):
                write_run_config(record, arm, seed, init_path, config)

            def train(run_dir=run_dir, config=config):
                resume = any(n.endswith('.pth') and n.startswith(('epoch_', 'iter_'))
                             for n in (os.listdir(run_dir) if osp.isdir(run_dir) else ()))
                return [python, osp.join(tools, 'train.py'), config, '--work-dir', run_dir,
                        *(['--resume'] if resume else [])]

            pretrain = f'seed {seed} {arm}: pretraining'
            jobs.append(Job(pretrain, train, osp.join(run_dir, DONE),
                            log=osp.join(seed_dir, f'{slug(arm)}.log'),
                            finish=lambda run_dir=run_dir: finished_pretraining(
                                run_dir, record['report_losses'])))
            jobs.append(Job(f'seed {seed} {arm}: probes',
                            probe(lambda run_dir=run_dir: read_json(
                                osp.join(run_dir, DONE))['checkpoint'],
                                osp.join(run_dir, PROBES)),
                            osp.join(run_dir, PROBES), after=[pretrain],
                            log=osp.join(run_dir, 'probes.log')))
    return jobs
