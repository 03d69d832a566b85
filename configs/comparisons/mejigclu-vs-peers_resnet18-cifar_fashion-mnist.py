# The demo's comparison with its two optional arms (`make demo` with DEMO_MOCO=1 and / or
# DEMO_ABLATION=1 picks them with tools/compare.py --arms): mmpretrain's MoCo v2 on the same
# data, backbone and schedule, and MEJigClu's losses at JigClu's fixed overlap 0.3 (MEJigClu's
# Table 4: loc+clu @ 0.3 = JigClu, cls+clu @ 0.3, cls+clu @ random = MEJigClu).
_base_ = './mejigclu-vs-jigclu_resnet18-cifar_fashion-mnist.py'

arms = {
    'MoCo v2': 'configs/mocov2/mocov2_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
    'cls+clu @ 0.3':
        'configs/mejigclu/mejigclu-overlap0.3_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py',
}
contrasts = [('MEJigClu', 'JigClu'), ('MEJigClu', 'random init'), ('JigClu', 'random init'),
             ('MoCo v2', 'random init'), ('MEJigClu', 'MoCo v2'),
             ('MEJigClu', 'cls+clu @ 0.3'), ('cls+clu @ 0.3', 'JigClu')]
