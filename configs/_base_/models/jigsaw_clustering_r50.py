# JigClu / MEJigClu on ResNet-50 (docs/design.md): a 224 px montage of 2 x 2 patches of 112 px,
# layer4 7 x 7 decoupled into 2 x 2 slots. Derived configs add the second head, from the
# templates at the end: `loc` (JigClu) or `cls` (MEJigClu, which adds num_classes).
grid = 2
model = dict(
    type='JigsawClustering',
    grid=grid,
    # Patches arrive as uint8; the photometric recipe (if the pipeline leaves it to the device)
    # and the normalisation run on the montage patches after the exchange between GPUs.
    data_preprocessor=dict(
        type='JigsawDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    neck=dict(type='DecoupleNeck', grid=grid),
    heads=dict(
        clu=dict(
            type='ClusteringHead',
            in_channels=2048,
            hid_channels=2048,
            out_channels=128,
            loss=dict(type='SupCluLoss', temperature=0.3, base_temperature=0.07),
            loss_weight=1.0)))

# The second head of each method, for derived configs: model.heads.loc = loc_head (JigClu),
# model.heads.cls = dict(cls_head, num_classes=IMAGES_PER_GLOBAL_BATCH) (MEJigClu).
loc_head = dict(type='LocationHead', grid=grid, in_channels=2048, loss_weight=1.0)
cls_head = dict(
    type='PatchClassificationHead', in_channels=2048, hid_channels=2048, loss_weight=1.0)
