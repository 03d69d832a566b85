# MEJigClu vs JigClu vs the network both start from, on Fashion-MNIST at a 2-core CPU's size
# (what `make demo` runs; tools/compare.py, keys in mejigclu_mm/cli/comparison/spec.py).
# Pretraining: the Fashion-MNIST configs on 1280 training images x 12 epochs (240 steps of
# 64); probes: kNN / linear probe with 2500 training images as bank / training set and the
# first 5000 test images as queries, dense probes fitted on 400 training scenes and reported on
# the 500 test scenes (tools/data/prepare_fashion_scenes.py).
arms = dict(
    MEJigClu='configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    JigClu='configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
)
baseline = 'random init'  # each seed's initial backbone, untrained
seeds = [0, 1, 2]
pretrain_images, pretrain_epochs = 1280, 12
pretrain_options = {
    'train_dataloader.dataset.indices': pretrain_images,
    'train_cfg.max_epochs': pretrain_epochs,
    'param_scheduler.0.T_max': pretrain_epochs,
    'param_scheduler.0.end': pretrain_epochs,
    'default_hooks.logger.interval': 20,
    'default_hooks.checkpoint.interval': pretrain_epochs // 2,
}
same_batches = True  # every arm draws the same batches (DisjointSubsetBatchSampler)
frozen_probes = dict(
    config='configs/mejigclu/benchmarks/resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py',
    options={'train_dataloader.dataset.indices': 2500, 'val_dataloader.dataset.indices': 5000,
             # NHWC extraction on the CPU too: 1.23-1.39x faster on every CPU measured
             'custom_hooks': [dict(type='ChannelsLastHook', devices=('cuda', 'cpu'))]})
dense_probes = dict(scenes='data/fashion_scenes', train_scenes=400, test_split='test')
contrasts = [('MEJigClu', 'JigClu'), ('MEJigClu', 'random init'), ('JigClu', 'random init')]
primary = 'probe'
report_losses = ['loss_cls', 'loss_clu', 'loss_loc']
