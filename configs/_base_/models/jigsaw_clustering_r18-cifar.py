# JigClu / MEJigClu on a ResNet-18 with the small-image stem, for 32 px montages (2 x 2 patches
# of 16 px): layer4 is 4 x 4, decoupled into 2 x 2 slots of 512-d features.
_base_ = './jigsaw_clustering_r50.py'

model = dict(
    data_preprocessor=dict(
        mean=[72.94, 72.94, 72.94],  # Fashion-MNIST, 0-255 scale
        std=[90.02, 90.02, 90.02],
        to_rgb=False),
    backbone=dict(type='ResNet_CIFAR', depth=18),
    heads=dict(clu=dict(in_channels=512, hid_channels=512)))
loc_head = dict(in_channels=512)
cls_head = dict(in_channels=512, hid_channels=512)
