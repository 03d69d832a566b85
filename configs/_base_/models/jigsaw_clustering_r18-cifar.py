# JigClu / MEJigClu on a ResNet-18 with the small-image stem, for 32 px montages of grey
# Fashion-MNIST images (2 x 2 patches of 16 px): layer4 is 4 x 4, decoupled into 2 x 2 slots of
# 512-d features.
_base_ = './jigsaw_clustering_r50.py'

model = dict(
    data_preprocessor=dict(
        mean=[72.94, 72.94, 72.94],  # Fashion-MNIST, 0-255 scale
        std=[90.02, 90.02, 90.02],
        # Grey images: brightness and contrast only; no saturation / hue / grayscale, and no
        # blur (sigma up to 2 px erases a 16 px patch).
        photometric=dict(_delete_=True, brightness=0.4, contrast=0.4, saturation=0., hue=0.,
                         jitter_prob=0.8, grayscale_prob=0., blur_prob=0.)),
    backbone=dict(type='ResNet_CIFAR', depth=18),
    heads=dict(clu=dict(in_channels=512, hid_channels=512)))
loc_head = dict(in_channels=512)
cls_head = dict(in_channels=512, hid_channels=512)
