# Scenes of real Fashion-MNIST garments (tools/data/prepare_fashion_scenes.py: 64 px grey
# canvases, 2-4 garments of 20-36 px, test-split garments only) in mmseg's image / label-map
# layout: label 0 background, 1-10 the Fashion-MNIST classes. The images are loaded as 3 equal
# channels, as the pretraining sees Fashion-MNIST (torchvision Grayscale(3)).
dataset_type = 'BaseSegDataset'
data_root = 'data/fashion_scenes/'
metainfo = dict(
    classes=('background', 'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal',
             'Shirt', 'Sneaker', 'Bag', 'Ankle boot'),
    palette=[(0, 0, 0), (220, 20, 60), (119, 11, 32), (0, 0, 142), (0, 0, 230), (106, 0, 228),
             (0, 60, 100), (0, 80, 100), (0, 0, 70), (250, 170, 30), (100, 170, 30)])
scene_dataset = dict(type=dataset_type, data_root=data_root, metainfo=metainfo,
                     img_suffix='.png', seg_map_suffix='.png', reduce_zero_label=False)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),  # horizontal, as in the pretraining
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(scene_dataset, pipeline=train_pipeline,
                 data_prefix=dict(img_path='images/train', seg_map_path='labels/train')))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(scene_dataset, pipeline=test_pipeline, test_mode=True,
                 data_prefix=dict(img_path='images/val', seg_map_path='labels/val')))
# val: for choosing schedules; test (tools/test.py): for tables, garments nobody tuned on
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'],
                 data_prefix=dict(img_path='images/test', seg_map_path='labels/test')))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
