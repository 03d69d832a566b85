# The JigClu supplementary's COCO fine-tuning (3.3), which MEJigClu's Tables 3 and 4 follow:
# the detector of faster-rcnn_r50_fpn_syncbn_1x_coco.py (Faster R-CNN R50-FPN, SyncBN in the
# backbone, the FPN and a 4conv1fc box head, no frozen stages, BN statistics trained,
# multi-scale training 640-800) for 12 epochs at batch 8 = 4 GPUs x 2 images, lr 0.01, x0.1 at
# epochs 8 and 10. (mmdet's 1x, the base: batch 16, lr 0.02, x0.1 at 8 and 11.)
#   tools/dist_train.sh configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r50_fpn_syncbn_4xb2-12e-steps8-10_coco.py 4 \
#       --cfg-options model.backbone.init_cfg.checkpoint=CKPT
_base_ = './faster-rcnn_r50_fpn_syncbn_1x_coco.py'

train_dataloader = dict(batch_size=2)
optim_wrapper = dict(optimizer=dict(lr=0.01))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=1000),  # the base's
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=12, milestones=[8, 10], gamma=0.1),
]
train_cfg = dict(max_epochs=12)
# mmdet's automatic scaling refers to its own batch; this recipe's batch is 8
auto_scale_lr = dict(base_batch_size=8)
