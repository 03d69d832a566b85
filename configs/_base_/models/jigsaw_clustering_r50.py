# JigClu / MEJigClu on ResNet-50 (docs/design.md): a 224 px montage of 2 x 2 patches of 112 px,
# layer4 7 x 7 decoupled into 2 x 2 slots. Derived configs add the second head, from the
# templates at the end: `loc` (JigClu) or `cls` (MEJigClu, which adds num_classes).
model = dict(
    type='JigsawClustering',
    # Patches arrive as uint8; the preprocessor exchanges them between GPUs, applies the
    # photometric recipe and the normalisation, and stitches the montages.
    data_preprocessor=dict(
        type='JigsawDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False,  # the pipelines load RGB images
        # MoCo v2: ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8, RandomGrayscale p 0.2, GaussianBlur
        # sigma ~ U(0.1, 2.0) p 0.5 (mejigclu_mm.augmentation.PatchPhotometric), per patch
        photometric=dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, jitter_prob=0.8,
                         grayscale_prob=0.2, blur_sigma=(0.1, 2.0), blur_prob=0.5)),
    backbone=dict(
        type='ResNet',
        depth=50,
        out_indices=(3, ),
        norm_cfg=dict(type='SyncBN'),
        zero_init_residual=False),
    neck=dict(type='DecoupleNeck'),
    heads=dict(
        clu=dict(
            type='ClusteringHead',
            in_channels=2048,
            hid_channels=2048,
            out_channels=128,
            loss=dict(type='SupCluLoss', temperature=0.3, base_temperature=0.07),
            loss_weight=1.0)))

# The second head of each method, for derived configs: model.heads.loc = loc_head (JigClu),
# model.heads.cls = dict(cls_head, num_classes=IMAGES_PER_GLOBAL_BATCH) (MEJigClu). The
# location head's grid must be JigsawSplit's (DataloaderCheckHook checks it).
loc_head = dict(type='LocationHead', grid=2, in_channels=2048, loss_weight=1.0)
cls_head = dict(
    type='PatchClassificationHead', in_channels=2048, hid_channels=2048, loss_weight=1.0)
