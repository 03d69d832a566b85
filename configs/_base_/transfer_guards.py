# The guards of a transfer run (mmdet, mmseg, mmpretrain fine-tuning and linear probes;
# docs/transfer.md "Guards of a transfer run"), added by each transfer config with
#   custom_hooks = [...its own hooks...] + _base_.transfer_guard_hooks
# BackboneLoadedHook: stops a run whose backbone loaded nothing of the checkpoint it names
# (mmengine's 'Pretrained' with keys that do not match leaves every tensor random, one warning).
# TransferGuardHook: before the first step, one real image through the model's preprocessing and
# backbone and through the pretraining's preprocessing and the checkpoint's own ResNet; features
# that differ beyond float noise stop the run with the setting at fault named (channel order,
# mean / std, stride placement, deep stem, BN statistics). allow_mismatch=True trains anyway;
# pretraining=dict(rgb=..., mean=[...], std=[...]) states the pretraining's input for files that
# record no pretraining config (converted ones; default torchvision's ImageNet input, RGB).
backbone_loaded_hook = dict(type='mmpretrain.BackboneLoadedHook')
transfer_guard_hook = dict(type='mmpretrain.TransferGuardHook')
transfer_guard_hooks = [backbone_loaded_hook, transfer_guard_hook]
# The input of the Fashion-MNIST pretraining configs (grey, made three-channel; 0-255 scale)
fashion_mnist_pretraining = dict(rgb=True, mean=[72.94, 72.94, 72.94], std=[90.02, 90.02, 90.02])
