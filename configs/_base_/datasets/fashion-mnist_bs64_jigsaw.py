# Fashion-MNIST (real, offline: Debian package dataset-fashion-mnist, un-gzipped into data_root)
# for small-scale JigClu / MEJigClu pretraining. The 28 x 28 grey images are made 3-channel so
# that the backbone transfers to RGB tasks, split at native resolution into 2 x 2 patches
# (18-22 px) and each patch is cropped and resized to 16 px: a 32 px montage, which a ResNet
# with the small-image stem (ResNet_CIFAR: no stride-2 stem, no max-pool) maps to a 4 x 4
# layer4, at least 2 x 2 cells per slot (docs/design.md, "Small images"). A pretraining config
# picks its method's pipeline (jigclu_pipeline or mejigclu_pipeline) and may run knn_monitor.
_base_ = './pretraining_loader.py'
dataset_type = 'FashionMNIST'
data_root = 'data/fashion_mnist/'

grey_to_rgb = [
    dict(type='NumpyToPIL', to_rgb=False),
    dict(type='torchvision/Grayscale', num_output_channels=3),
    dict(type='PILToNumpy', to_bgr=False),
]
jigclu_split = dict(type='JigsawSplit', grid=2, overlap=0.3, patch_size=16,
                    crop_scale=(0.3, 1.0), flip_prob=0.5)
mejigclu_split = dict(jigclu_split, overlap=(0.15, 0.45))
jigclu_pipeline = grey_to_rgb + [jigclu_split, _base_.pack]
mejigclu_pipeline = grey_to_rgb + [mejigclu_split, _base_.pack]

train_dataloader = dict(
    batch_size=64, num_workers=2,
    dataset=dict(type=dataset_type, data_root=data_root, split='train', download=False))

# Whole images for inference (tools/extract_features.py) and for the online kNN monitor.
test_pipeline = grey_to_rgb + [dict(type='Resize', scale=(32, 32), backend='pillow'),
                               dict(type='PackInputs')]
knn_monitor = dict(dataset=dict(download=False, pipeline=test_pipeline))
