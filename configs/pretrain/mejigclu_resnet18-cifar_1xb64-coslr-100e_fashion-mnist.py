# MEJigClu on Fashion-MNIST (offline real data), one GPU or CPU: clustering + classification
# heads, overlap ~ U(0.15, 0.45).
_base_ = [
    '../_base_/models/jigsaw_clustering_r18-cifar.py',
    '../_base_/datasets/fashion-mnist_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_100e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    heads=dict(
        cls=dict(
            type='PatchClassificationHead',
            num_classes=64,  # = global batch (1 x 64)
            in_channels=512,
            hid_channels=512,
            loss_weight=1.0)))
default_hooks = dict(logger=dict(interval=50))
