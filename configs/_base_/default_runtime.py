# mmpretrain's runtime, with this package's components registered and the guards of every run.
_base_ = ['mmpretrain::_base_/default_runtime.py', './run_guards.py']

default_hooks = dict(
    # written atomically; old ones removed only once the new one is complete
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    **_base_.guard_hooks)
log_processor = dict(window_size=10)
