# Scenes of real Fashion-MNIST garments (tools/data/prepare_fashion_scenes.py: 64 px grey
# canvases, 2-4 garments of 20-36 px, test-split garments only) in mmdet's COCO layout: one box
# per garment, the 10 Fashion-MNIST classes. Grey PNGs load as 3 equal channels, as the
# pretraining sees Fashion-MNIST (Grayscale(3)); horizontal flips only, as in the pretraining.
# mmdet's COCO base gives the loaders, samplers and metric; this file names the data.
_base_ = 'mmdet::_base_/datasets/coco_detection.py'
data_root = 'data/fashion_scenes/'
metainfo = dict(
    classes=('T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt',
             'Sneaker', 'Bag', 'Ankle boot'),
    palette=[(220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230), (106, 0, 228),
             (0, 60, 100), (0, 80, 100), (0, 0, 70), (250, 170, 30), (100, 170, 30)])
image_size = 64
# mmdet's COCO pipelines at image_size px (horizontal flips, as in the pretraining)
train_pipeline = [dict(step, scale=(image_size, image_size)) if step.type == 'Resize' else
                  step for step in _base_.train_pipeline]
test_pipeline = [dict(step, scale=(image_size, image_size)) if step.type == 'Resize' else
                 step for step in _base_.test_pipeline]
split = dict(data_root=data_root, metainfo=metainfo, data_prefix=dict(img='images/'))
train_dataloader = dict(batch_size=8, dataset=dict(
    **split, ann_file='annotations/train.json', pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(
    **split, ann_file='annotations/val.json', pipeline=test_pipeline))
# val: for choosing schedules; test (tools/test.py): for tables, garments nobody tuned on
test_dataloader = dict(batch_size=16, dataset=dict(
    **split, ann_file='annotations/test.json', pipeline=test_pipeline))
val_evaluator = dict(ann_file=data_root + 'annotations/val.json')
test_evaluator = dict(ann_file=data_root + 'annotations/test.json')
