"""ChannelsLastHook: the model trains in channels-last layout and computes the same losses, on
the device types it is given (CUDA by default); the data preprocessor's montages follow."""
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mejigclu_mm.runtime.hooks import ChannelsLastHook


class TinyConvNet(BaseModel):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3, stride=2, padding=1))
        self.fc = nn.Linear(8, 2)

    def forward(self, inputs, labels, mode='loss'):
        logits = self.fc(self.conv(torch.stack(inputs)).mean((2, 3)))
        return dict(loss=nn.functional.cross_entropy(logits, torch.stack(labels)))


def dataset():
    generator = torch.Generator().manual_seed(0)
    return [dict(inputs=torch.randn(3, 12, 12, generator=generator), labels=torch.tensor(i % 2))
            for i in range(16)]


def train(work_dir, hooks):
    torch.manual_seed(0)
    runner = Runner(
        model=TinyConvNet(), work_dir=str(work_dir), custom_hooks=hooks,
        experiment_name=work_dir.name,  # own message hub per run
        train_dataloader=dict(dataset=dataset(), batch_size=4, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=True, max_epochs=2), default_hooks=dict(checkpoint=None),
        default_scope='mmengine')
    runner.train()
    return runner


@pytest.mark.slow
def test_trains_in_channels_last_with_the_same_losses(tmp_path):
    plain = train(tmp_path / 'plain', hooks=[])
    converted = train(tmp_path / 'channels_last', hooks=[ChannelsLastHook(devices=('cpu', ))])
    for conv in (converted.model.conv[0], converted.model.conv[3]):
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
        assert not conv.weight.is_contiguous()  # really NHWC, not a layout-agnostic shape
    assert plain.model.conv[0].weight.is_contiguous()
    # The optimizer still holds the model's parameters after the conversion: they moved.
    torch.manual_seed(0)
    initial = TinyConvNet().conv[0].weight
    assert (converted.model.conv[0].weight - initial).abs().max() > 1e-3
    losses = [r.message_hub.get_scalar('train/loss').data[0] for r in (plain, converted)]
    assert len(losses[1]) == 8  # 16 samples / 4 x 2 epochs
    torch.testing.assert_close(torch.tensor(losses[1]), torch.tensor(losses[0]),
                               rtol=1e-4, atol=1e-5)
    for (name, a), b in zip(plain.model.state_dict().items(), converted.model.state_dict().values()):
        torch.testing.assert_close(b, a, rtol=1e-4, atol=1e-5, msg=name)


@pytest.mark.slow
def test_convert_false_or_another_device_leaves_the_layout(tmp_path):
    runner = train(tmp_path / 'off', hooks=[ChannelsLastHook(convert=False, devices=('cpu', ))])
    assert runner.model.conv[0].weight.is_contiguous()
    runner = train(tmp_path / 'default', hooks=[ChannelsLastHook()])  # CUDA only; this is a CPU
    assert runner.model.conv[0].weight.is_contiguous()


def test_the_jigsaw_preprocessor_stitches_channels_last_where_the_hook_converts():
    import sys
    from types import SimpleNamespace

    from conftest import ROOT
    from mmengine.logging import MMLogger

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    sys.path.insert(0, str(ROOT / 'tests/models/algorithms'))
    from test_jigsaw_clustering import tiny_model_cfg
    from mejigclu_mm.models.data_preprocessors import JigsawDataPreprocessor
    assert ChannelsLastHook().devices == JigsawDataPreprocessor().channels_last_devices
    cfg = tiny_model_cfg(4)
    cfg['data_preprocessor'] = dict(cfg.get('data_preprocessor') or
                                    dict(type='JigsawDataPreprocessor'),
                                    channels_last_devices=('cpu', ))
    model = MODELS.build(cfg)
    runner = SimpleNamespace(model=model, logger=MMLogger.get_instance('channels_last_jigsaw'))
    ChannelsLastHook(devices=('cpu', )).before_run(runner)
    assert model.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    patches = [torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8) for _ in range(4)]
    montages = model.data_preprocessor(dict(inputs=patches), training=True)['inputs']
    assert montages.is_contiguous(memory_format=torch.channels_last)
    assert not montages.is_contiguous()


def ddp_worker(rank, world_size, state_path, out_path):
    """DDP wraps the model first (as mmengine's Runner does), then the hook converts it."""
    from types import SimpleNamespace

    import test_distributed_equivalence as equivalence
    from mmengine.logging import MMLogger
    from mmengine.model import MMDistributedDataParallel
    torch.set_num_threads(1)
    model = equivalence.build_model(state_path)
    runner = SimpleNamespace(model=MMDistributedDataParallel(model),
                             logger=MMLogger.get_instance('channels_last_ddp'))
    ChannelsLastHook(devices=('cpu', )).before_run(runner)
    local_n = equivalence.GLOBAL_BATCH // world_size
    mine = [p[rank * local_n:(rank + 1) * local_n] for p in equivalence.global_patches()]
    result = equivalence.step(model, mine, lambda data: runner.model(**data, mode='loss'))
    torch.save(result, f'{out_path}.{rank}')


@pytest.mark.slow
def test_under_ddp_the_gradients_stay_those_of_one_process(tmp_path):
    """Converting after DDP was built left its gradient buckets in the old layout: gradients
    up to 0.94 off. The hook rebuilds the wrapper around the converted model."""
    import sys

    from conftest import ROOT
    sys.path.insert(0, str(ROOT / 'tests/models/algorithms'))
    import test_distributed_equivalence as equivalence
    from distributed import run_in_processes

    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    state_path = str(tmp_path / 'init.pth')
    torch.save(MODELS.build(equivalence.model_cfg()).state_dict(), state_path)
    model = equivalence.build_model(state_path).to(memory_format=torch.channels_last)
    single_losses, single_grads = equivalence.step(
        model, equivalence.global_patches(), lambda data: model(**data, mode='loss'))
    run_in_processes(ddp_worker, 2, state_path, str(tmp_path / 'result'))
    for rank in range(2):
        losses, grads = torch.load(tmp_path / f'result.{rank}')
        assert losses == pytest.approx(single_losses, rel=1e-5)
        for name, grad in single_grads.items():
            torch.testing.assert_close(grads[name], grad, rtol=1e-4, atol=1e-6,
                                       msg=lambda m: f'{name}: {m}')
