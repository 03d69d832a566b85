# MEJigClu (Zhang et al.): clustering + patch classification heads, overlap ~ U(0.15, 0.45).
# Global batch 256 = 4 GPUs x 64 images; the classification head has one class per image.
_base_ = [
    '../_base_/models/jigsaw_clustering_r50.py',
    '../_base_/datasets/imagenet_bs64_jigsaw.py',
    '../_base_/schedules/sgd_coslr_200e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    heads=dict(
        cls=dict(
            type='PatchClassificationHead',
            num_classes=256,  # = global batch; change it with the GPUs or the batch size
            in_channels=2048,
            hid_channels=2048,
            loss_weight=1.0)))
