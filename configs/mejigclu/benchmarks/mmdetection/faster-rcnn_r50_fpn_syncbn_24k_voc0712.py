# The same detector on Pascal VOC 07+12 trainval, evaluated on VOC07 test: 24k iterations at
# batch 8 (4 GPUs x 2), lr 0.01, warm-up 100 iterations, x0.1 at 18k and 22k, multi-scale
# training (short side 480-800): the official JigClu VOC recipe (detectron2; it used to inherit
# batch 16, lr 0.02, warm-up 500, i.e. twice the images). Training filters as detectron2's: no
# minimum box or image size (mmdet's VOC configs drop boxes under 32 px); images without boxes
# are left out (detectron2's FILTER_EMPTY_ANNOTATIONS). Not reproduced, stated: detectron2 trains
# on 'difficult' boxes, mmdet's VOCDataset marks them ignored (its XML parser; no option).
# Reported as MoCo and the papers do (detectron2's VOC evaluator):
# the 11-point VOC07 AP at IoU 0.50, 0.55, ..., 0.95; pascal_voc/mAP is their mean (AP),
# pascal_voc/AP50 and pascal_voc/AP75 the two usual columns.
_base_ = [
    './faster-rcnn_r50_fpn_syncbn_1x_coco.py',
]

model = dict(roi_head=dict(bbox_head=dict(num_classes=20)))
data_root = 'data/VOCdevkit/'
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomChoiceResize', scales=[(1333, s) for s in range(480, 801, 32)],
         keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1333, 800), keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]


def voc_trainval(year):
    return dict(type='VOCDataset', data_root=data_root,
                ann_file=f'VOC{year}/ImageSets/Main/trainval.txt',
                data_prefix=dict(sub_data_root=f'VOC{year}/'),
                filter_cfg=dict(filter_empty_gt=True, min_size=0, bbox_min_size=0),
                pipeline=train_pipeline)


train_dataloader = dict(
    _delete_=True,
    batch_size=2, num_workers=2, persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(type='ConcatDataset', ignore_keys=['dataset_type'],
                 datasets=[voc_trainval(2007), voc_trainval(2012)]))
val_dataloader = dict(
    _delete_=True,
    batch_size=1, num_workers=2, persistent_workers=True, drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VOCDataset', data_root=data_root,
                 ann_file='VOC2007/ImageSets/Main/test.txt',
                 data_prefix=dict(sub_data_root='VOC2007/'), test_mode=True,
                 pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='VOCMetric', metric='mAP', eval_mode='11points',
                     iou_thrs=[0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])
test_evaluator = val_evaluator

optim_wrapper = dict(optimizer=dict(lr=0.01))
# the batch the lr is set for (mmengine's auto_scale_lr)
auto_scale_lr = dict(base_batch_size=8)
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=24000, val_interval=4000)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=100),
    dict(type='MultiStepLR', by_epoch=False, begin=0, end=24000, milestones=[18000, 22000],
         gamma=0.1),
]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=4000))
log_processor = dict(by_epoch=False)
