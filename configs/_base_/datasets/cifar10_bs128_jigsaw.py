# CIFAR-10 (mmpretrain's CIFAR10: the python-pickle batches in data/cifar10/cifar-10-batches-py)
# for JigClu / MEJigClu pretraining, the JigClu supplementary's CIFAR recipe (3.4): 128 images
# per step on one GPU. The 32 px images are split at native resolution into 2 x 2 patches
# (18-22 px), each cropped and resized to 16 px, as the Fashion-MNIST configs do: a 32 px
# montage, which ResNet_CIFAR (its strides unchanged: no stride-2 stem, no max-pool) maps to a
# 4 x 4 layer4, 2 x 2 cells per slot. The images are RGB arrays already.
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
pack = dict(type='PackInputs', meta_keys=('sample_idx', 'img_path'))
jigclu_pipeline = [jigclu_split, pack]
mejigclu_pipeline = [mejigclu_split, pack]

train_dataloader = dict(
    batch_size=128,
    num_workers=2,
    drop_last=True,  # a full global batch every step (MEJigClu: one class per image)
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', download=False))

# Whole images for inference and the online kNN monitor (see the Fashion-MNIST base).
test_pipeline = [dict(type='PackInputs')]
knn_loader = dict(batch_size=256, num_workers=2, persistent_workers=False)
knn_monitor = dict(
    type='KNNMonitorHook', interval=10, k=(20, 200),
    dataset=dict(download=False, pipeline=test_pipeline),
    bank_dataloader=dict(knn_loader, dataset=dict(split='train', indices=2000)),
    query_dataloader=dict(knn_loader, dataset=dict(split='test', test_mode=True, indices=1000)))
