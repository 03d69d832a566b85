"""The hooks every run of this project has, and completing a config that does not list them.

``configs/_base_/run_guards.py`` lists them in ``default_hooks`` (so a child's
``custom_hooks`` cannot drop them) and every shipped config inherits it; ``GuardedRunner``
adds the ones a config from elsewhere lacks, and saves with ``AtomicCheckpointHook`` where a
config names mmengine's ``CheckpointHook``.
"""
from typing import List, Mapping, MutableMapping

# default_hooks key -> hook (registered in mmpretrain's HOOKS; the scope prefix finds them from
# mmdet's and mmseg's scopes too)
GUARD_HOOKS = {
    'safe_checkpoint': 'SafeCheckpointHook',
    'random_state': 'RandomStateHook',
    'dataloader_check': 'DataloaderCheckHook',
    'non_finite_loss': 'NonFiniteLossHook',
}
ATOMIC_CHECKPOINT_HOOK = 'mmpretrain.AtomicCheckpointHook'
REPLACED_CHECKPOINT_HOOKS = ('CheckpointHook', )


def _kind(hook) -> str:
    kind = hook.get('type') if isinstance(hook, Mapping) else type(hook)
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
    return name.split('.')[-1]


def complete_guard_hooks(cfg: MutableMapping) -> List[str]:
    """Add the guard hooks ``cfg`` lacks to its ``default_hooks``, in place.

    A hook counts as listed when ``default_hooks`` or ``custom_hooks`` holds one of its type,
    or when ``default_hooks`` sets its key to None (switched off on purpose). mmengine's
    ``CheckpointHook`` becomes ``AtomicCheckpointHook`` with the same arguments; a checkpoint
    hook of another type is kept.

    Args:
        cfg (MutableMapping): A config (changed in place).

    Returns:
        list[str]: One message per change, naming the config and the hooks.
    """
    default_hooks = cfg.get('default_hooks') or {}
    listed = {_kind(hook) for hook in [*default_hooks.values(), *(cfg.get('custom_hooks') or [])]
              if hook is not None}
    added = []
    for key, name in GUARD_HOOKS.items():
        if name not in listed and not (key in default_hooks and default_hooks[key] is None):
            default_hooks[key] = dict(type=f'mmpretrain.{name}')
            added.append(name)
    messages = []
    source = getattr(cfg, 'filename', None) or 'the config'
    if added:
        messages.append(f'{source} does not list {", ".join(added)} (configs/_base_/'
                        'run_guards.py lists what every run of this project has): added to '
                        'default_hooks')
    checkpoint = default_hooks.get('checkpoint')
    if isinstance(checkpoint, MutableMapping):
        kind = _kind(checkpoint)
        if kind in REPLACED_CHECKPOINT_HOOKS:
            checkpoint['type'] = ATOMIC_CHECKPOINT_HOOK  # the config's arguments kept
            messages.append(f'{source}: default_hooks.checkpoint is mmengine\'s {kind}; saving '
                            'with AtomicCheckpointHook (same arguments) instead')
        elif kind != ATOMIC_CHECKPOINT_HOOK.split('.')[-1]:
            messages.append(f'{source}: default_hooks.checkpoint is {checkpoint.get("type")}, '
                            'kept as the config says: its checkpoints are not written '
                            'atomically (AtomicCheckpointHook replaces only mmengine\'s '
                            'CheckpointHook)')
    cfg['default_hooks'] = default_hooks
    return messages
