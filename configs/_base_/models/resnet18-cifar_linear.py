# The linear protocol's model on the small-image ResNet-18 (ResNet_CIFAR, strides unchanged):
# frozen backbone incl. BN statistics, loaded whole from the checkpoint the config names
# (StrictPretrained finds the backbone in any of our layouts), global average pooling, linear
# fc N(0, 0.01). Leaf configs set the data preprocessor and the number of classes.
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        out_indices=(3, ),
        frozen_stages=4,
        norm_eval=True,
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='LinearClsHead',
        num_classes=10,
        in_channels=512,
        loss=dict(type='CrossEntropyLoss'),
        topk=(1, ),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01)))
