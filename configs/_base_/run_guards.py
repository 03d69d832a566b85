# What every run of this project has, whichever train.py builds it (ours, mmpretrain's, mmdet's,
# mmseg's or `mim train`: each builds RUNNERS.build(cfg) when runner_type is set). docs/design.md
# ("The route of the guards") says what each does and what only tools/train.py adds.
custom_imports = dict(imports=['mejigclu_mm'], allow_failed_imports=False)
# Safe loading, resume checks, the work-dir lock, run.json and the config record
# (mejigclu_mm/runtime/mmengine_internals.py)
runner_type = 'mmpretrain.GuardedRunner'
# The guard hooks, for default_hooks = dict(..., **_base_.guard_hooks): a child's custom_hooks
# cannot drop them. The checkpoint hook is each config's own (AtomicCheckpointHook).
guard_hooks = dict(
    # checkpoints load with torch's safe unpickler during the run, and are saved so that they do
    safe_checkpoint=dict(type='mmpretrain.SafeCheckpointHook'),
    # --resume repeats the uninterrupted run exactly
    random_state=dict(type='mmpretrain.RandomStateHook'),
    # data that cannot give the steps the config promises is refused before the first step
    dataloader_check=dict(type='mmpretrain.DataloaderCheckHook'),
    # the run stops at its first NaN / Inf loss
    non_finite_loss=dict(type='mmpretrain.NonFiniteLossHook'))
