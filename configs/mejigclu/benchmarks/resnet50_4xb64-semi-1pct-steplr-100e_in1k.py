# Semi-supervised fine-tuning with 1 % of ImageNet-1k labels: as the 10 % config, with backbone
# lr 0.02 and head lr 5.0 (JigClu supplementary 3.2).
_base_ = './resnet50_4xb64-semi-10pct-steplr-100e_in1k.py'

backbone_lr, head_lr = 0.02, 5.0
train_dataloader = dict(dataset=dict(ann_file='meta/train_1percent.txt'))
optim_wrapper = dict(
    optimizer=dict(lr=backbone_lr),
    paramwise_cfg=dict(custom_keys={'head': dict(lr_mult=head_lr / backbone_lr)}))
