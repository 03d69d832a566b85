# mmpretrain's runtime, with this package's components registered.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mejigclu_mm'], allow_failed_imports=False)
default_hooks = dict(
    # written atomically; old ones removed only once the new one is complete
    checkpoint=dict(type='AtomicCheckpointHook', interval=10, max_keep_ckpts=3),
    # checkpoints load with torch's safe unpickler during the run, and are saved so that they do
    safe_checkpoint=dict(type='SafeCheckpointHook'))
log_processor = dict(window_size=10)
