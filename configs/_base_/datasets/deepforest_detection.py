# Tree crowns from deepforest's real aerial images (tools/data/prepare_deepforest.py: 400 px
# tiles in COCO format, one class), shown at image_size px so that crowns are about 20 px.
# mmdet's COCO base gives the loaders, samplers and metric; this file names the data.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
data_root = 'data/deepforest/'
metainfo = dict(classes=('tree', ))
image_size = 200
# mmdet's COCO pipelines at image_size px; aerial tiles flip both ways
train_pipeline = [dict(step, scale=(image_size, image_size)) if step.type == 'Resize' else
                  dict(step, direction=['horizontal', 'vertical']) if step.type == 'RandomFlip' else
                  step for step in _base_.train_pipeline]
test_pipeline = [dict(step, scale=(image_size, image_size)) if step.type == 'Resize' else
                 step for step in _base_.test_pipeline]
split = dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=4, dataset=dict(
    **split, ann_file='annotations/train.json', pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(
    **split, ann_file='annotations/val.json', pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = val_evaluator
