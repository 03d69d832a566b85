"""Time ResNet_CIFAR-18 in the default (NCHW) and channels-last layouts, side by side.

The three workloads of ``make demo``: pretraining (forward + backward of a batch of montages),
linear evaluation (forward of a frozen backbone) and detection fine-tuning (forward + backward of
the multi-scale backbone on larger images). Prints the seconds per step of each layout and the
ratio; the figures behind ``ChannelsLastHook`` being on in the Fashion-MNIST configs only.

    python tools/benchmark_channels_last.py [--steps 3] [--device cpu|cuda]
"""
import argparse
import time

import torch
from mmpretrain.models import ResNet_CIFAR

WORKLOADS = {  # name: (batch, image size, out_indices, backward)
    'pretrain: 64 montages, 32 px, fwd+bwd': (64, 32, (3, ), True),
    'linear eval: 256 images, 32 px, frozen fwd': (256, 32, (3, ), False),
    'detection: 4 images, 200 px, fwd+bwd': (4, 200, (1, 2, 3), True),
}


def seconds_per_step(model, images, backward, steps, device):
    def step():
        if backward:
            sum(out.mean() for out in model(images)).backward()
        else:
            with torch.no_grad():
                model(images)
        if device == 'cuda':
            torch.cuda.synchronize()

    step()  # warm-up (oneDNN / cuDNN algorithm selection)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=3, help='timed steps per workload')
    parser.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    args = parser.parse_args()
    print(f'device {args.device}, torch threads {torch.get_num_threads()}, {args.steps} steps')
    print('| workload | NCHW s/step | channels-last s/step | speed-up |')
    print('|---|---|---|---|')
    for name, (batch, size, out_indices, backward) in WORKLOADS.items():
        torch.manual_seed(0)
        images = torch.randn(batch, 3, size, size, device=args.device)
        times = []
        for layout in (torch.contiguous_format, torch.channels_last):
            model = ResNet_CIFAR(depth=18, out_indices=out_indices).to(args.device)
            model.train(backward)
            model.to(memory_format=layout)
            times.append(seconds_per_step(model, images, backward, args.steps, args.device))
        print(f'| {name} | {times[0]:.3f} | {times[1]:.3f} | {times[0] / times[1]:.2f}x |')


if __name__ == '__main__':
    main()
