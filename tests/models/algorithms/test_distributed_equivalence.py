"""Two CPU processes (gloo, DDP) give the losses and gradients of one process on the same
global batch: the permutation is global and the feature gather sums gradients over ranks."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel

GLOBAL_BATCH, WORLD = 8, 2


def model_cfg():
    return dict(
        type='JigsawClustering', grid=2,
        # GroupNorm is per sample, so splitting the batch over ranks cannot change it
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      norm_cfg=dict(type='GN', num_groups=4), out_indices=(3, )),
        neck=dict(type='DecoupleNeck', grid=2),
        heads=dict(
            clu=dict(type='ClusteringHead', in_channels=64, hid_channels=32, out_channels=16),
            cls=dict(type='PatchClassificationHead', num_classes=GLOBAL_BATCH, in_channels=64,
                     hid_channels=32),
            loc=dict(type='LocationHead', grid=2, in_channels=64)))


def global_patches():
    generator = torch.Generator().manual_seed(7)
    return [torch.randn(GLOBAL_BATCH, 3, 16, 16, generator=generator) for _ in range(4)]


def build_model(state_path):
    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    model = MODELS.build(model_cfg())
    model.load_state_dict(torch.load(state_path))
    return model


def step(model, patches, forward):
    torch.manual_seed(123)  # the permutation (drawn on rank 0 only under DDP)
    losses = forward(patches)
    sum(losses.values()).backward()
    return ({k: v.item() for k, v in losses.items()},
            {k: p.grad.clone() for k, p in model.named_parameters()})


def worker(rank, init_file, state_path, out_path):
    dist.init_process_group('gloo', init_method=f'file://{init_file}', rank=rank,
                            world_size=WORLD)
    torch.set_num_threads(1)
    model = build_model(state_path)
    ddp = DistributedDataParallel(model)
    local_n = GLOBAL_BATCH // WORLD
    mine = [p[rank * local_n:(rank + 1) * local_n] for p in global_patches()]
    losses, grads = step(model, mine, lambda x: ddp(x, None, mode='loss'))
    torch.save(dict(losses=losses, grads=grads), f'{out_path}.{rank}')
    dist.destroy_process_group()


def test_two_processes_match_one_process(tmp_path):
    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    state_path = str(tmp_path / 'init.pth')
    torch.save(MODELS.build(model_cfg()).state_dict(), state_path)

    model = build_model(state_path)
    single_losses, single_grads = step(model, global_patches(), lambda x: model.loss(x, None))

    out_path = str(tmp_path / 'result')
    mp.spawn(worker, args=(str(tmp_path / 'init'), state_path, out_path), nprocs=WORLD)
    for rank in range(WORLD):
        result = torch.load(f'{out_path}.{rank}')
        for name, value in single_losses.items():
            assert abs(result['losses'][name] - value) < 1e-4 * max(1.0, abs(value)), name
        for name, grad in single_grads.items():
            torch.testing.assert_close(result['grads'][name], grad, rtol=1e-4, atol=1e-6,
                                       msg=lambda m: f'{name}: {m}')
