# The demo's detection transfer: Faster R-CNN with FPN on the small-image ResNet-18 of the
# Fashion-MNIST pretraining configs, fine-tuned on scenes of real Fashion-MNIST test-split
# garments (tools/data/prepare_fashion_scenes.py: 64 px grey canvases, 2-4 garments of 20-36 px,
# one box per garment, 10 classes; docs/transfer.md). The detector is the deepforest config's
# (strides 2-16) with a box head for the 10 classes and proposal counts for scenes of at most 4
# objects. (our choice) The backbone is frozen, BN statistics included: the heads learn on each
# backbone's features, which separates backbones at a CPU's budget where fine-tuning them does
# not (docs/transfer.md has the figures); for full fine-tuning set
#   --cfg-options model.backbone.frozen_stages=-1 model.backbone.norm_eval=False
# Set the backbone with
#   --cfg-options model.backbone.init_cfg.checkpoint=CKPT   (pretraining or converted file)
#   --cfg-options model.backbone.init_cfg=None              (random init)
_base_ = './faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py'

data_root = 'data/fashion_scenes/'
image_size = 64
metainfo = dict(
    classes=('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
             'Sneaker', 'Bag', 'Ankle boot'),
    palette=[(220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230), (106, 0, 228),
             (0, 60, 100), (0, 80, 100), (0, 0, 70), (250, 170, 30), (100, 170, 30)])
model = dict(
    backbone=dict(frozen_stages=4, norm_eval=True),
    # the pretraining's normalisation (Fashion-MNIST's grey mean / std, 0-255 scale)
    data_preprocessor=dict(mean=[72.94, 72.94, 72.94], std=[90.02, 90.02, 90.02],
                           bgr_to_rgb=False),
    roi_head=dict(bbox_head=dict(num_classes=10)),
    train_cfg=dict(rpn_proposal=dict(nms_pre=500, max_per_img=100),
                   rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=500, max_per_img=100), rcnn=dict(max_per_img=100)))

# Grey PNGs load as 3 equal channels, as the pretraining sees Fashion-MNIST (Grayscale(3));
# horizontal flips only, as in the pretraining.
# The deepforest config's pipelines at this image size.
resize = dict(_base_.train_pipeline[2], scale=(image_size, image_size))
train_pipeline = [*_base_.train_pipeline[:2], resize, dict(type='RandomFlip', prob=0.5),
                  _base_.train_pipeline[-1]]
test_pipeline = [_base_.test_pipeline[0], resize, *_base_.test_pipeline[2:]]
train_dataloader = dict(
    batch_size=8,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator

max_epochs = 6
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
# (our choice) mmdet's 0.02 at 8 images, only the heads train; gradients clipped at norm 10,
# for the first iterations of heads that start from scratch. One step x0.1 at 2/3 of the
# schedule.
optim_wrapper = dict(optimizer=dict(lr=0.02), clip_grad=dict(max_norm=10, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs, milestones=[4], gamma=0.1),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs), logger=dict(interval=20))
