# CIFAR-10 (mmpretrain's CIFAR10: the python-pickle batches in data/cifar10/cifar-10-batches-py)
# for JigClu / MEJigClu pretraining, the JigClu supplementary's CIFAR recipe (3.4): 128 images
# per step on one GPU. The 32 px images are split at native resolution into 2 x 2 patches
# (18-22 px), each cropped and resized to 16 px, as the Fashion-MNIST configs do: a 32 px
# montage, which ResNet_CIFAR (its strides unchanged: no stride-2 stem, no max-pool) maps to a
# 4 x 4 layer4, 2 x 2 cells per slot. The images are RGB arrays already.
_base_ = './pretraining_loader.py'
dataset_type = 'CIFAR10'
data_root = 'data/cifar10/'

# The images' normalisation and the photometric recipe for the model's data preprocessor (the
# pretraining configs set model.data_preprocessor = cifar_preprocessor): MoCo v2's colour
# recipe without the blur (sigma up to 2 px erases a 16 px patch, as on Fashion-MNIST).
cifar_preprocessor = dict(
    mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255],
    photometric=dict(_delete_=True, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1,
                     jitter_prob=0.8, grayscale_prob=0.2, blur_prob=0.))
jigclu_split = dict(type='JigsawSplit', grid=2, overlap=0.3, patch_size=16,
                    crop_scale=(0.3, 1.0), flip_prob=0.5)
mejigclu_split = dict(jigclu_split, overlap=(0.15, 0.45))
jigclu_pipeline = [jigclu_split, _base_.pack]
mejigclu_pipeline = [mejigclu_split, _base_.pack]

train_dataloader = dict(
    batch_size=128, num_workers=2,
    dataset=dict(type=dataset_type, data_root=data_root, split='train', download=False))

# Whole images for inference and for the online kNN monitor.
test_pipeline = [dict(type='PackInputs')]
knn_monitor = dict(dataset=dict(download=False, pipeline=test_pipeline))
