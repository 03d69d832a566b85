"""ChannelsLastHook: the model trains in channels-last layout and computes the same losses."""
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mejigclu_mm.engine.hooks import ChannelsLastHook


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


def test_trains_in_channels_last_with_the_same_losses(tmp_path):
    plain = train(tmp_path / 'plain', hooks=[])
    converted = train(tmp_path / 'channels_last', hooks=[ChannelsLastHook()])
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


def test_convert_false_leaves_the_layout(tmp_path):
    runner = train(tmp_path, hooks=[ChannelsLastHook(convert=False)])
    assert runner.model.conv[0].weight.is_contiguous()
