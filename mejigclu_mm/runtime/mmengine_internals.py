"""What mejigclu_mm writes against mmengine 0.10.7's private methods, all in this module.

- :class:`GuardedRunner`: mmengine's Runner with this project's guards, named by every shipped
  config (``runner_type``); overrides ``_init_model_weights``, ``load_or_resume`` (safe
  loading), ``dump_config`` (the record of the merged config) and extends ``from_cfg``,
  ``train``, ``val``, ``test`` and ``save_checkpoint``;
- :class:`AtomicCheckpointHook`: overrides ``CheckpointHook._save_checkpoint_with_step`` and
  ``_save_best_checkpoint``;
- :func:`wrap_loading_methods`: what ``SafeCheckpointHook`` does to a Runner of another class.

Each checks, when used, that the installed mmengine is :data:`WRITTEN_FOR`, and logs a warning
naming both versions when it is not (:func:`check_mmengine_version`). docs/design.md ("The route
of the guards") says what each override changes and why.
"""
import copy
import logging
import os.path as osp
import shutil
from typing import List, Optional, Set

import mmengine
from mmengine.config import Config
from mmengine.dist import barrier, get_world_size, is_distributed, is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mejigclu_mm.runtime.atomic_write import (atomic_write, remove_quietly, replace_with,
                                              temporary_path)
from mejigclu_mm.runtime.config_checks import pipeline_warnings
from mejigclu_mm.runtime.config_dump import record_config
from mejigclu_mm.runtime.cpu_distributed import init_cpu_distributed
from mejigclu_mm.runtime.formatted_config import FormattedOnceConfig
from mejigclu_mm.runtime.guard_hooks import complete_guard_hooks
from mejigclu_mm.runtime.resume import (check_resume_data, check_resume_fits,
                                        find_resume_checkpoint, read_training_checkpoint)
from mejigclu_mm.runtime.run_facts import run_facts
from mejigclu_mm.runtime.run_record import (check_new_run, check_resume_owner, new_run_id,
                                            write_run_record)
from mejigclu_mm.runtime.safe_checkpoint import safe_checkpoint_loading
from mejigclu_mm.runtime.work_dir_lock import WorkDirLock
from mmpretrain.registry import HOOKS, RUNNERS

WRITTEN_FOR = '0.10.7'
RUNNER_TYPE = 'mmpretrain.GuardedRunner'
# The Runner methods that load checkpoints in train() / val() / test(): weight initialisation
# (init_cfg) and load_or_resume (load_from, --resume)
LOADING_METHODS = ('_init_model_weights', 'load_or_resume')
_warned_versions: Set[str] = set()


def check_mmengine_version() -> bool:
    """Whether the installed mmengine is the one this module was written for; logs a warning
    naming both versions (once per installed version) when it is not."""
    installed = mmengine.__version__
    if installed == WRITTEN_FOR:
        return True
    if installed not in _warned_versions:
        _warned_versions.add(installed)
        print_log(
            f'mejigclu_mm.runtime.mmengine_internals was written for mmengine {WRITTEN_FOR}, '
            f'and mmengine {installed} is installed: it overrides private methods of mmengine '
            '(Runner._init_model_weights, load_or_resume, dump_config; '
            'CheckpointHook._save_checkpoint_with_step, _save_best_checkpoint) that may have '
            'changed. Check them against docs/design.md ("The route of the guards") before '
            'trusting checkpoints and resume, or install mmengine ' + WRITTEN_FOR,
            logger='current', level=logging.WARNING)
    return False


def _marked_safe(function):
    function.safe_checkpoint_loading = True
    return function


def run_with_safe_loading(method):
    """``method`` (a bound Runner method) run inside :func:`safe_checkpoint_loading`."""
    def safely(*args, **kwargs):
        with safe_checkpoint_loading():
            return method(*args, **kwargs)
    safely.__name__ = getattr(method, '__name__', 'safely')
    return _marked_safe(safely)


def wrap_loading_methods(runner) -> List[str]:
    """Run ``runner``'s own loading steps (:data:`LOADING_METHODS`) with the safe loader.

    mmengine's Runner calls both after ``before_run``; a method already marked (a
    ``GuardedRunner``'s, or wrapped before) is left as it is.

    Returns:
        list[str]: The methods wrapped now.
    """
    check_mmengine_version()
    wrapped = []
    for name in LOADING_METHODS:
        method = getattr(runner, name)
        if not getattr(method, 'safe_checkpoint_loading', False):
            setattr(runner, name, run_with_safe_loading(method))
            wrapped.append(name)
    return wrapped


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never leaves a run without a complete checkpoint.

    mmengine 0.10.7's hook, with ``max_keep_ckpts``, deletes
    the oldest checkpoint *before* writing the new one, writes the new one in place and then
    ``last_checkpoint``; a save that fails half-way (full disk, quota, a kill) leaves a cut-off
    file, no complete checkpoint and a ``last_checkpoint`` naming a deleted file. Here, on a
    local file system:

    - every checkpoint (``epoch_N.pth`` / ``iter_N.pth`` and the ``save_best`` ones) is written
      to a temporary file in the same folder, flushed, and renamed over its name in one step;
    - ``last_checkpoint`` is replaced the same way, only after the checkpoint is complete;
    - checkpoints beyond ``max_keep_ckpts`` and a superseded best checkpoint are removed only
      after the new checkpoint is complete.

    A failing save raises (the run stops) and leaves the previous checkpoint, a
    ``last_checkpoint`` naming it, and no temporary file. Each checkpoint's ``meta`` also
    records ``global_batch`` (images per step over all processes) and ``world_size``, which
    a resume compares with the resumed run's. Other storage backends (e.g.
    ``out_dir='s3://...'``) are saved as mmengine does, with a warning. The configs name it as
    ``default_hooks.checkpoint``; ``GuardedRunner`` puts it in place of mmengine's
    ``CheckpointHook`` in a config from elsewhere, keeping the config's arguments.

    Args:
        **kwargs: ``CheckpointHook``'s arguments (``interval``, ``by_epoch``,
            ``max_keep_ckpts``, ``save_best``, ``out_dir``, ...), with the same meaning.
    """

    def before_train(self, runner) -> None:
        check_mmengine_version()
        super().before_train(runner)
        backend = getattr(self.file_backend, 'client', self.file_backend)  # FileClient wraps
        self._atomic = isinstance(backend, LocalBackend)
        if not self._atomic:
            runner.logger.warning(
                f'AtomicCheckpointHook: checkpoints go to {self.out_dir} through '
                f'{type(backend).__name__}, which cannot rename files in one step: they are '
                'written as mmengine writes them (old ones removed first, new ones in place)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        global_batch = _global_batch(runner)
        if global_batch is not None:
            checkpoint.setdefault('meta', {}).update(
                global_batch=global_batch, world_size=get_world_size())

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        runner = getattr(runner, 'unwrapped', runner)  # called back from _save_best_checkpoint
        if not getattr(self, '_atomic', False):
            super()._save_checkpoint_with_step(runner, step, meta)
            return
        dropped: List[int] = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            kept = [*self.keep_ckpt_ids, step]
            dropped, kept = kept[:-self.max_keep_ckpts], kept[-self.max_keep_ckpts:]
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(kept)
            # before saving, as mmengine does: the checkpoint's message hub lists itself
            runner.message_hub.update_info('keep_ckpt_ids', kept)
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._save_atomically(runner, self.out_dir, filename,
                              save_optimizer=self.save_optimizer,
                              save_param_scheduler=self.save_param_scheduler, meta=meta,
                              by_epoch=self.by_epoch, **self.args)
        if not is_main_process():
            return
        with atomic_write(osp.join(runner.work_dir, 'last_checkpoint')) as file:
            file.write(self.last_ckpt)
        for old in dropped:
            _remove(self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        if not getattr(self, '_atomic', False):
            super()._save_best_checkpoint(runner, metrics)
            return
        backend, deferred = self.file_backend, _DeferredRemovals(self.file_backend)
        self.file_backend = deferred
        try:
            super()._save_best_checkpoint(_AtomicSaves(runner, self), metrics)
        finally:
            self.file_backend = backend
        if is_main_process():
            for path in deferred.pending:
                _remove(path)

    def _save_atomically(self, runner, out_dir: str, filename: str, **kwargs) -> None:
        """``runner.save_checkpoint(out_dir, filename, ...)`` through a temporary file."""
        kwargs.setdefault('file_client_args', self.file_client_args)
        kwargs.setdefault('backend_args', self.backend_args)
        if not is_main_process():  # mmengine saves on the main process only
            runner.save_checkpoint(out_dir, filename, **kwargs)
            return
        path = osp.join(out_dir, filename)
        tmp = temporary_path(path)
        try:
            runner.save_checkpoint(out_dir, osp.basename(tmp), **kwargs)
            replace_with(tmp, path)
        except BaseException:
            remove_quietly(tmp)
            raise


def _remove(path: str) -> None:
    """Remove a checkpoint file (or a folder, as DeepSpeed writes them) if it exists."""
    if osp.isdir(path):
        shutil.rmtree(path)
    else:
        remove_quietly(path)


def _global_batch(runner) -> Optional[int]:
    """Images per training step over all processes, when the training loader tells it."""
    try:
        loader = runner.train_dataloader
    except Exception:  # no training loop (e.g. a test-only runner)
        return None
    batch_size = getattr(loader, 'batch_size', None)
    if batch_size is None:
        batch_size = getattr(getattr(loader, 'batch_sampler', None), 'batch_size', None)
    return None if batch_size is None else int(batch_size) * get_world_size()


class _DeferredRemovals:
    """A file backend whose ``remove`` / ``rmtree`` only note the path (done after the save)."""

    def __init__(self, backend):
        self._backend = backend
        self.pending: List[str] = []

    def remove(self, path) -> None:
        self.pending.append(str(path))

    def rmtree(self, path) -> None:
        self.pending.append(str(path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


class _AtomicSaves:
    """A runner whose ``save_checkpoint`` goes through the hook's temporary-file save."""

    def __init__(self, runner, hook: AtomicCheckpointHook):
        self.unwrapped = runner
        self._hook = hook

    def save_checkpoint(self, out_dir, filename, **kwargs) -> None:
        self._hook._save_atomically(self.unwrapped, out_dir, filename, **kwargs)

    def __getattr__(self, name):
        return getattr(self.unwrapped, name)


def _unwrapped(model):
    return model.module if is_model_wrapper(model) else model


def _warn(messages: List[str]) -> None:
    for message in messages:
        print_log(message, logger='current', level=logging.WARNING)


@RUNNERS.register_module()
class GuardedRunner(Runner):
    """mmengine's Runner with the guards of this project, whichever train.py builds it.

    Every shipped config names it (``runner_type = 'mmpretrain.GuardedRunner'``, from
    ``configs/_base_/run_guards.py``), so mmpretrain's, mmdet's and mmengine's ``train.py``
    (``RUNNERS.build(cfg)``) and ours build the same run. Built through :meth:`from_cfg`
    (``RUNNERS.build`` calls it), it:

    - completes a config that lacks a guard hook (:func:`complete_guard_hooks`), warns about
      top-level pipelines that do not run (:func:`pipeline_warnings`) and starts a gloo process
      group where a distributed launcher meets no GPU (:func:`init_cpu_distributed`);
    - with ``resume``: finds the checkpoint (:func:`find_resume_checkpoint`: a moved work dir,
      nothing to resume), refuses one of another run (:func:`check_resume_owner`) and takes
      the checkpoint's seed, before the Runner writes anything;
    - in :meth:`train`, before anything is written into the work dir: holds the work-dir lock
      while it trains, refuses a new run over checkpoints unless ``overwrite=True``
      (:func:`check_new_run`), refuses a checkpoint that does not fit the model, global batch,
      subset split or optimizer and names the settings that differ
      (:func:`check_resume_fits`); then writes ``run.json`` and the merged config
      (:func:`record_config`, never over the config file);
    - loads every checkpoint with the safe loader and stores the run id and
      :func:`run_facts` in every checkpoint's meta;
    - formats its config's text once per content (:class:`FormattedOnceConfig`), not at each
      of mmengine's uses.

    A Runner built with the constructor instead of :meth:`from_cfg` skips the config steps.
    """

    def __init__(self, *args, **kwargs):
        self._constructed = self._config_recorded = False
        self._resumed: Optional[dict] = None
        self.run_id: Optional[str] = None
        if isinstance(kwargs.get('cfg'), Config):
            kwargs['cfg'] = FormattedOnceConfig.of(kwargs['cfg'])
        super().__init__(*args, **kwargs)
        self._constructed = True

    @classmethod
    def from_cfg(cls, cfg) -> 'GuardedRunner':
        check_mmengine_version()
        cfg = copy.deepcopy(cfg)
        _warn(complete_guard_hooks(cfg))
        _warn(pipeline_warnings(cfg))
        init_cpu_distributed(cfg)
        resumed = cls._prepare_resume(cfg)
        runner = super().from_cfg(cfg)
        runner._resumed = resumed
        return runner

    @staticmethod
    def _prepare_resume(cfg) -> Optional[dict]:
        """The checkpoint a resume continues, checked, and its seed set in ``cfg``."""
        if not cfg.get('resume'):
            return None
        explicit = bool(cfg.get('load_from'))
        if not explicit:
            cfg.load_from = find_resume_checkpoint(cfg.work_dir)
        summary = dict(read_training_checkpoint(cfg.load_from), explicit=explicit)
        summary['owner_warnings'] = check_resume_owner(cfg, summary)
        if summary['seed'] is not None:
            randomness = dict(cfg.get('randomness') or {})
            if randomness.get('seed') is not None and randomness['seed'] != summary['seed']:
                print_log(f'--resume: randomness.seed={randomness["seed"]} is replaced by the '
                          f'seed of the resumed run, {summary["seed"]} ({cfg.load_from})',
                          logger='current', level=logging.WARNING)
            cfg.randomness = dict(randomness, seed=summary['seed'])
        return summary

    def train(self):
        lock = WorkDirLock(self.work_dir) if is_main_process() else None
        if lock is not None:
            lock.acquire()
        try:
            _warn(self._check_before_training())
            if is_distributed():
                barrier()  # every process checked before the first writes
            self._start_run()
            return super().train()
        finally:
            if lock is not None:
                lock.release()

    def _check_before_training(self) -> List[str]:
        """The refusals and warnings of a training run, before it writes anything."""
        if self._resumed is None:
            warning = check_new_run(self.cfg)
            return [warning] if warning else []
        resumed, model = self._resumed, _unwrapped(self.model)
        check_resume_owner(self.cfg, resumed)  # again, now that the lock is held
        world_size = get_world_size()
        loader = self.cfg.get('train_dataloader') or {}
        batch_size = loader.get('batch_size') or (loader.get('batch_sampler') or {}).get(
            'batch_size')
        global_batch = None if batch_size is None else int(batch_size) * world_size
        # what the config says first (no data needed), then the data (builds the loader)
        warnings = check_resume_fits(resumed, model, global_batch, world_size,
                                     run_facts(self.cfg))
        data = check_resume_data(resumed, run_facts(self.cfg, self.train_dataloader))
        return resumed['owner_warnings'] + warnings + data

    def _start_run(self) -> None:
        """The run's id, ``run.json`` and the record of its config."""
        resumed = self._resumed
        self.run_id = resumed['run_id'] if resumed else new_run_id(self.timestamp)
        if is_main_process():
            write_run_record(self.work_dir, dict(
                run_id=self.run_id, started=self.timestamp, config=self.cfg.filename,
                resumed_from=resumed['path'] if resumed else None,
                overwrite=bool(self.cfg.get('overwrite')) and not resumed))
        self._record_config()

    def val(self) -> dict:
        self._record_config()
        return super().val()

    def test(self) -> dict:
        self._record_config()
        return super().test()

    def dump_config(self) -> None:
        """Called by mmengine's ``__init__``: postponed to :meth:`train` / :meth:`val` /
        :meth:`test`, after their checks (a refused run leaves the earlier record alone)."""
        if self._constructed:
            self._record_config()

    def _record_config(self) -> None:
        if self._config_recorded:
            return
        self._config_recorded = True
        if is_main_process():
            self.logger.info(record_config(self.cfg.pretty_text, self.work_dir,
                                           self.cfg.filename, self.timestamp))

    @_marked_safe
    def _init_model_weights(self) -> None:
        with safe_checkpoint_loading():
            super()._init_model_weights()

    @_marked_safe
    def load_or_resume(self) -> None:
        with safe_checkpoint_loading():
            super().load_or_resume()

    def save_checkpoint(self, out_dir, filename, file_client_args=None, save_optimizer=True,
                        save_param_scheduler=True, meta=None, by_epoch=True,
                        backend_args=None) -> None:
        meta = dict(meta or {})
        meta.setdefault('run_id', self.run_id)
        meta.setdefault('run_facts', run_facts(self.cfg, self.train_dataloader))
        super().save_checkpoint(out_dir, filename, file_client_args, save_optimizer,
                                save_param_scheduler, meta, by_epoch, backend_args)
