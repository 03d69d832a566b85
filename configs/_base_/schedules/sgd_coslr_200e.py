# The papers' pretraining schedule: SGD lr 0.03 (global batch 256), momentum 0.9, wd 1e-4 on all
# parameters, cosine to 0 over 200 epochs, no warm-up.
_base_ = 'mmpretrain::_base_/schedules/imagenet_sgd_coslr_200e.py'

param_scheduler = [dict(type='CosineAnnealingLR', T_max=200, by_epoch=True, begin=0, end=200,
                        eta_min=0.)]
auto_scale_lr = dict(base_batch_size=256)
