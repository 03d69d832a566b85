"""Stop a training run at its first non-finite loss, naming the iteration and the loss terms."""
import math
from typing import Dict, Optional

import torch
from mmengine.dist import all_reduce, get_world_size
from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS


class NonFiniteLossError(FloatingPointError):
    """A training loss became NaN or infinite: the run diverged."""


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` after the first iteration with a NaN or infinite loss.

    mmengine trains on after a loss turns NaN (every later step
    is NaN too), exits 0 and saves checkpoints full of NaN, which converters and evaluations
    then read as if they were weights. This hook checks, after every training iteration, every
    logged value whose name contains ``'loss'`` (the total ``loss`` and its terms, e.g.
    ``loss_clu``, ``loss_cls``, mmdet's ``loss_rpn_cls``) and raises, naming the iteration, the
    epoch and the terms that are not finite, before any checkpoint of that iteration is saved
    (its priority runs it before ``CheckpointHook``). Under distributed training the ranks agree
    (one all-reduce of a flag per iteration), so every rank stops at the same iteration.
    Every config lists it (``configs/_base_/run_guards.py``): pretraining, linear, detection,
    segmentation.

    Args:
        interval (int): Check every ``interval`` iterations. Defaults to 1 (every iteration: the
            check is one comparison per loss term).
    """

    priority = 'VERY_HIGH'

    def __init__(self, interval: int = 1):
        if interval < 1:
            raise ValueError(f'NonFiniteLossHook: interval must be >= 1, got {interval}')
        self.interval = interval

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        if not isinstance(outputs, dict) or not self.every_n_train_iters(runner, self.interval):
            return
        bad = _non_finite_terms(outputs)
        if get_world_size() > 1:
            flag = torch.tensor([float(bool(bad))])
            all_reduce(flag)  # mmengine moves it to the backend's device and back
            if not bad and flag.item() > 0:
                bad = {'(another process)': math.nan}
        if bad:
            terms = ', '.join(f'{key}={value}' for key, value in bad.items())
            raise NonFiniteLossError(
                f'the training loss is not finite at iteration {runner.iter + 1} (epoch '
                f'{runner.epoch + 1}): {terms}. The run diverged; it was stopped before saving '
                'this iteration\'s weights. Lower the learning rate (optim_wrapper.optimizer.lr), '
                'add warm-up or gradient clipping (optim_wrapper.clip_grad), and start again '
                'from the last checkpoint (--resume) or from scratch (--overwrite).')


def _non_finite_terms(outputs: dict) -> Dict[str, float]:
    """The logged loss values that are NaN or infinite, by name."""
    bad = {}
    for key, value in outputs.items():
        if 'loss' not in key:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            tensor = torch.as_tensor(item).detach()
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                bad[key] = float(tensor.float().flatten()[~torch.isfinite(tensor.flatten())][0])
                break
    return bad
