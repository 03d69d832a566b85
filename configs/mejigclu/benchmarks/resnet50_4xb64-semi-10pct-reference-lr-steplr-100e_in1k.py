# Semi-supervised fine-tuning with 10 % of ImageNet-1k labels as the official main_semi.py
# ran it: it sets every parameter group to the backbone lr each epoch, so its published numbers
# came from head lr = backbone lr = 0.01 (issue 26.4). The supplementary's stated lrs (separate
# head lr) are the config this one inherits from.
_base_ = './resnet50_4xb64-semi-10pct-steplr-100e_in1k.py'

optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=1.0)}))
