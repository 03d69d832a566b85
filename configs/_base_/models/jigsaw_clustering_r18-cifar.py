# JigClu / MEJigClu on a ResNet-18 with the small-image stem, for 32 px montages (2 x 2 patches
# of 16 px): layer4 is 4 x 4, decoupled into 2 x 2 slots of 512-d features.
grid = 2
model = dict(
    type='JigsawClustering',
    grid=grid,
    data_preprocessor=dict(
        type='SelfSupDataPreprocessor',
        mean=[72.94, 72.94, 72.94],  # Fashion-MNIST, 0-255 scale
        std=[90.02, 90.02, 90.02],
        to_rgb=False),
    backbone=dict(
        type='ResNet_CIFAR',
        depth=18,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    neck=dict(type='DecoupleNeck', grid=grid),
    heads=dict(
        clu=dict(
            type='ClusteringHead',
            in_channels=512,
            hid_channels=512,
            out_channels=128,
            loss=dict(type='SupCluLoss', temperature=0.3, base_temperature=0.07),
            loss_weight=1.0)))
