"""A hook that gives a run safe checkpoint loading and checkpoints that load safely."""
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer

from mejigclu_mm.runtime.mmengine_internals import wrap_loading_methods
from mmpretrain.registry import HOOKS


def _state_without_functions(buffer: HistoryBuffer) -> dict:
    return {key: value for key, value in vars(buffer).items()
            if key not in ('statistics_methods', '__getstate__')}


def drop_statistics_functions(checkpoint: dict) -> int:
    """Make the checkpoint's ``HistoryBuffer`` objects pickle without their statistics functions.

    mmengine's ``HistoryBuffer.__getstate__`` adds its class's table of statistics functions
    (``mean``, ``max``, ...) to its state; they pickle as ``builtins.getattr(HistoryBuffer,
    'mean')``, and a loader that allow-listed ``getattr`` would re-open code execution, so safe
    loading refuses such files. ``MessageHub.state_dict()`` puts copies of its buffers in the
    checkpoint: each copy gets its own ``__getstate__`` (an instance attribute, which pickling
    looks up before the class's) that leaves the table out. ``HistoryBuffer.__setstate__``
    registers the default functions again on loading, so nothing is lost; the class and the
    run's own buffers are untouched.

    Args:
        checkpoint (dict): The checkpoint ``Runner.save_checkpoint`` is about to write.

    Returns:
        int: How many buffers were changed.
    """
    scalars = (checkpoint.get('message_hub') or {}).get('log_scalars') or {}
    changed = 0
    for buffer in scalars.values():
        if isinstance(buffer, HistoryBuffer):
            buffer.__getstate__ = _state_without_functions.__get__(buffer)
            changed += 1
    return changed


@HOOKS.register_module()
class SafeCheckpointHook(Hook):
    """Load checkpoints with the safe loader during the run, and save ones that load safely.

    ``before_run`` runs this runner's own loading steps (``init_cfg``, ``load_from``,
    ``--resume``) inside :func:`~mejigclu_mm.runtime.safe_checkpoint_loading`
    (:func:`~mejigclu_mm.runtime.mmengine_internals.wrap_loading_methods`; a ``GuardedRunner``
    does so itself), so the safe loader is in place exactly while they run, and mmengine's is
    back when they return or raise (mmengine calls no hook when a run fails, so a block held
    from ``before_run`` to ``after_run`` would outlive a failed run). ``before_save_checkpoint``
    applies :func:`drop_statistics_functions`. Every config lists it in ``default_hooks``
    (``configs/_base_/run_guards.py``), so importing the package changes nothing for other
    code.
    """

    priority = 'HIGHEST'  # before any other hook's before_run could load a checkpoint

    def before_run(self, runner) -> None:
        wrap_loading_methods(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        drop_statistics_functions(checkpoint)
