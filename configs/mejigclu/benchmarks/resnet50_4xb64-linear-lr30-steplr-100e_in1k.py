# Linear evaluation with lr 30, as the JigClu supplementary states (the reference code used 10).
_base_ = './resnet50_4xb64-linear-lr10-steplr-100e_in1k.py'

optim_wrapper = dict(optimizer=dict(lr=30.))
