# The decisive run, for one GPU (README *Results*): MEJigClu vs JigClu vs the network both start
# from at the papers' batch of 256 images (MEJigClu: 256 classes, 256 fixed subsets), 12 paired
# seeds on all 60k Fashion-MNIST training images, probes on the full 60k / 10k and on all the
# scenes, four runs at a time on the GPU:
#   python tools/compare.py configs/comparisons/mejigclu-vs-jigclu_resnet18-cifar_1xb256_fashion-mnist-all.py \
#       --work-dir work_dirs/decisive --gpus 0 0 0 0 --jobs 4 --threads 4
# Each run's final L_cls is in the report: MEJigClu's classification branch is only tested where
# it ends well below ln 256 = 5.55.
_base_ = './mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py'

arms = dict(
    _delete_=True,
    MEJigClu=dict(
        config='configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
        options={'model.heads.cls.num_classes': 256}),
    JigClu='configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
)
seeds = list(range(12))
pretrain_epochs = 8
pretrain_options = dict(
    _delete_=True, **{
        'train_dataloader.batch_size': 256,
        'train_dataloader.num_workers': 4,
        'train_cfg.max_epochs': pretrain_epochs,
        'param_scheduler.0.T_max': pretrain_epochs,
        'param_scheduler.0.end': pretrain_epochs,
        'default_hooks.logger.interval': 50,
        'default_hooks.checkpoint.interval': pretrain_epochs,
    })
frozen_probes = dict(options=dict(_delete_=True, **{'train_dataloader.batch_size': 1024,
                                                    'val_dataloader.batch_size': 1024}))
dense_probes = dict(train_scenes=0)
