"""2 and 4 CPU processes (gloo, DDP) give the losses and gradients of one process on the
same global batch: the permutation and the photometric draws come from the preprocessor's
(seed, step) generator, not the ranks' global streams (which differ here, as with
randomness.diff_rank_seed=True), each rank receives its montages' patches through an
all_to_all, the photometric draws follow the global patch ids, and the feature gather sums
gradients over ranks. The all-gather exchange gives the same, for the same permutation."""
import pytest
import torch
from all_gather_exchange import exchange_by_all_gather
from distributed import run_in_processes
from torch.nn.parallel import DistributedDataParallel

GLOBAL_BATCH = 8
PREPROCESSOR = 'mejigclu_mm.models.data_preprocessors.jigsaw_data_preprocessor'
# The MoCo v2 photometric recipe, applied on the device after the exchange.
RECIPE = dict(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, jitter_prob=0.8,
              grayscale_prob=0.2, blur_sigma=(0.1, 2.0), blur_prob=0.5)


def model_cfg():
    return dict(
        type='JigsawClustering',
        data_preprocessor=dict(type='JigsawDataPreprocessor', photometric=RECIPE),
        # GroupNorm is per sample, so splitting the batch over ranks cannot change it
        backbone=dict(type='ResNet_CIFAR', depth=18, stem_channels=8, base_channels=8,
                      norm_cfg=dict(type='GN', num_groups=4), out_indices=(3, )),
        neck=dict(type='DecoupleNeck'),
        heads=dict(
            clu=dict(type='ClusteringHead', in_channels=64, hid_channels=32, out_channels=16),
            cls=dict(type='PatchClassificationHead', num_classes=GLOBAL_BATCH, in_channels=64,
                     hid_channels=32),
            loc=dict(type='LocationHead', grid=2, in_channels=64)))


def global_patches():
    generator = torch.Generator().manual_seed(7)
    return [torch.randint(0, 256, (GLOBAL_BATCH, 3, 16, 16), dtype=torch.uint8,
                          generator=generator) for _ in range(4)]


def build_model(state_path):
    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    model = MODELS.build(model_cfg())
    model.load_state_dict(torch.load(state_path))  # also the preprocessor's seed and step
    return model


def step(model, patches, forward):
    data = model.data_preprocessor(dict(inputs=patches), training=True)
    losses = forward(data)
    sum(losses.values()).backward()
    return ({k: v.item() for k, v in losses.items()},
            {k: p.grad.clone() for k, p in model.named_parameters()})


def all_gather_with_the_same_permutation(patches, generator):
    perm = torch.randperm(4 * GLOBAL_BATCH, generator=generator, device=patches[0].device)
    return exchange_by_all_gather(patches, perm)


def worker(rank, world_size, state_path, out_path):
    import importlib
    torch.set_num_threads(1)
    torch.manual_seed(1000 + rank)  # the global streams differ between ranks
    local_n = GLOBAL_BATCH // world_size
    mine = [p[rank * local_n:(rank + 1) * local_n] for p in global_patches()]
    results = {}
    for name in ('all_to_all', 'all_gather'):
        module = importlib.import_module(PREPROCESSOR)
        if name == 'all_gather':
            module.exchange_patches = all_gather_with_the_same_permutation
        model = build_model(state_path)
        ddp = DistributedDataParallel(model)
        results[name] = step(model, mine, lambda data: ddp(**data, mode='loss'))
    torch.save(results, f'{out_path}.{rank}')


@pytest.mark.slow
@pytest.mark.parametrize('world_size', [2, 4])
def test_processes_match_one_process(world_size, tmp_path):
    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    state_path = str(tmp_path / 'init.pth')
    torch.save(MODELS.build(model_cfg()).state_dict(), state_path)

    model = build_model(state_path)
    single_losses, single_grads = step(model, global_patches(),
                                       lambda data: model(**data, mode='loss'))

    out_path = str(tmp_path / 'result')
    run_in_processes(worker, world_size, state_path, out_path)
    for rank in range(world_size):
        for exchange, (losses, grads) in torch.load(f'{out_path}.{rank}').items():
            for name, value in single_losses.items():
                assert abs(losses[name] - value) < 1e-4 * max(1.0, abs(value)), (exchange, name)
            for name, grad in single_grads.items():
                torch.testing.assert_close(grads[name], grad, rtol=1e-4, atol=1e-6,
                                           msg=lambda m: f'{exchange} {name}: {m}')
