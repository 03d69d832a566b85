# The guards of a transfer run (mmdet, mmseg, mmpretrain fine-tuning and linear probes;
# docs/transfer.md "Guards of a transfer run"), added by each transfer config with
#   custom_hooks = [...its own hooks...] + _base_.transfer_guard_hooks
# BackboneLoadedHook: stops a run whose backbone loaded nothing of the checkpoint it names
# (mmengine's 'Pretrained' with keys that do not match leaves every tensor random, one warning).
transfer_guard_hooks = [dict(type='mmpretrain.BackboneLoadedHook')]
