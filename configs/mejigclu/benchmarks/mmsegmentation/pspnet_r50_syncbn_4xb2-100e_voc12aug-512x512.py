# PSPNet-50 on Pascal VOC 2012 + the augmented set (SBD), the JigClu supplementary's segmentation
# transfer (section 2, Table 1: mIoU / mAcc / allAcc = IoUMetric's mIoU / mAcc / aAcc): mmseg's
# PSPNet (output stride 8, SyncBN) on a ResNet-50 WITHOUT the deep stem (mmseg's ResNet, i.e.
# V1b: one 7 x 7 stem conv, the same tensors as our pretraining's backbone, so they load whole;
# mmseg's own PSPNet configs use ResNetV1c, whose 3-conv stem nothing of ours fills), 100 epochs
# at batch 8 = 4 GPUs x 2 images, lr 1e-3 for the backbone and 1e-2 for the heads, poly decay.
# Not stated by the supplementary, mmseg's defaults kept: 512 x 512 crops, SGD momentum 0.9,
# weight decay 5e-4, power 0.9; (our choice) the poly decay runs to 0 for both groups (mmseg's
# eta_min=1e-4 would stop the backbone's decay at a tenth of its start).
# Data: data/VOCdevkit/VOC2012 in mmseg's layout (SegmentationClassAug + ImageSets/Segmentation/
# aug.txt, see mmseg's docs/en/user_guides/2_dataset_prepare.md). Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT   (pretraining or converted file)
_base_ = [
    'mmseg::pspnet/pspnet_r50-d8_4xb4-20k_voc12aug-512x512.py',
    '../../../_base_/run_guards.py',
    '../../../_base_/transfer_guards.py',
]

custom_imports = dict(imports=['mejigclu_mm'], allow_failed_imports=False)
model = dict(
    pretrained=None,
    backbone=dict(type='ResNet', deep_stem=False,
                  init_cfg=dict(type='StrictPretrained', checkpoint=None)))

train_dataloader = dict(batch_size=2, sampler=dict(type='DefaultSampler', shuffle=True))
max_epochs = 100
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=max_epochs,
                 val_interval=10)
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0005),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='PolyLR', eta_min=0, power=0.9, begin=0, end=max_epochs, by_epoch=True,
         convert_to_iter_based=True)
]
default_hooks = dict(
    logger=dict(log_metric_by_epoch=True),
    checkpoint=dict(type='mmpretrain.AtomicCheckpointHook', by_epoch=True, interval=10,
                    max_keep_ckpts=3),
    **_base_.guard_hooks)
log_processor = dict(by_epoch=True)
# the label maps checked against the classes, ignore_index and the heads before the first step
custom_hooks = [dict(type='mmpretrain.SegmentationDataCheckHook')] + _base_.transfer_guard_hooks
# the batch the lr is set for (mmengine's auto_scale_lr; enable=True scales it)
auto_scale_lr = dict(enable=False, base_batch_size=8)
