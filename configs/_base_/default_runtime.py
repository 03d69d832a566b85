# mmpretrain's runtime, with this package's components registered.
_base_ = 'mmpretrain::_base_/default_runtime.py'

custom_imports = dict(imports=['mejigclu_mm'], allow_failed_imports=False)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=3))
log_processor = dict(window_size=10)
