# Fashion-MNIST (real, offline: Debian package dataset-fashion-mnist, un-gzipped into data_root)
# for small-scale JigClu / MEJigClu pretraining. The 28 x 28 grey images are made 3-channel so
# that the backbone transfers to RGB tasks, split at native resolution into 2 x 2 patches
# (18-22 px) and each patch is cropped and resized to 16 px: a 32 px montage, which a ResNet
# with the small-image stem (ResNet_CIFAR: no stride-2 stem, no max-pool) maps to a 4 x 4
# layer4, at least 2 x 2 cells per slot (docs/design.md, "Small images"). A pretraining config
# picks its method's pipeline (jigclu_pipeline or mejigclu_pipeline) and may run knn_monitor.
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
pack = dict(type='PackInputs', meta_keys=('sample_idx', 'img_path'))
jigclu_pipeline = grey_to_rgb + [jigclu_split, pack]
mejigclu_pipeline = grey_to_rgb + [mejigclu_split, pack]

train_dataloader = dict(
    batch_size=64,
    num_workers=2,
    drop_last=True,  # a full global batch every step (MEJigClu: one class per image)
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, split='train', download=False))

# Whole images for inference (tools/extract_features.py) and for the kNN monitor.
test_pipeline = grey_to_rgb + [dict(type='Resize', scale=(32, 32), backend='pillow'),
                               dict(type='PackInputs')]
# The online kNN monitor (weighted kNN, k = 20 and 200) on 2000 training / 1000 test images
# every 10 epochs and after the last: logs knn/top1_k* for tools/plot_curves.py. A config runs
# it with custom_hooks = [..., _base_.knn_monitor]. Its datasets take the training set's type and
# data_root, so a config that moves the training set moves the monitor with it.
knn_loader = dict(batch_size=256, num_workers=2, persistent_workers=False)
knn_monitor = dict(
    type='KNNMonitorHook', interval=10, k=(20, 200),
    dataset=dict(download=False, pipeline=test_pipeline),
    bank_dataloader=dict(knn_loader, dataset=dict(split='train', indices=2000)),
    query_dataloader=dict(knn_loader, dataset=dict(split='test', test_mode=True, indices=1000)))
