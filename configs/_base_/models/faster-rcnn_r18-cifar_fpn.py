# Faster R-CNN with FPN on the small-image ResNet-18 of the Fashion-MNIST pretraining configs
# (mmpretrain's ResNet_CIFAR: strides 1, 2, 4, 8, no stride-2 stem, no max-pool), for the
# CPU-sized detection benchmarks: mmdet's R50-FPN detector with 64-channel FPN levels at strides
# 2-16, anchors of 8 px per stride and a 256-d box head. Leaf configs set the classes, the
# frozen stages and the backbone's checkpoint (init_cfg.checkpoint, or init_cfg=None for a
# random backbone).
_base_ = 'mmdet::_base_/models/faster-rcnn_r50_fpn.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=16),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ResNet_CIFAR',  # strides 1, 2, 4, 8 (no stride-2 stem, no max-pool)
        depth=18,
        out_indices=(1, 2, 3),
        frozen_stages=-1,
        norm_eval=False,
        norm_cfg=dict(type='BN', requires_grad=True),
        # with init_cfg=None a live random network, as the pretraining starts from (not
        # mmpretrain's zero-initialised residual branches); a loaded checkpoint is unaffected
        zero_init_residual=False,
        init_cfg=dict(type='StrictPretrained', checkpoint=None)),
    neck=dict(in_channels=[128, 256, 512], out_channels=64, num_outs=4),
    rpn_head=dict(
        in_channels=64, feat_channels=64,
        anchor_generator=dict(scales=[8], ratios=[0.5, 1.0, 2.0], strides=[2, 4, 8, 16])),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64, featmap_strides=[2, 4, 8, 16]),
        bbox_head=dict(in_channels=64, fc_out_channels=256, num_classes=1)),
    test_cfg=dict(rcnn=dict(max_per_img=200)))
