# Small-data pretraining schedule: the papers' SGD settings over 100 epochs (the supplementary's
# CIFAR length), cosine to 0, no warm-up. Each config on it states the batch its lr is set for
# (auto_scale_lr.base_batch_size): its own.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.03, weight_decay=1e-4, momentum=0.9))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100, by_epoch=True, begin=0, end=100,
                        eta_min=0.)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100)
