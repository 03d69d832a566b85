"""Section ``neck``: DecoupleNeck (one matrix per axis) vs the papers' interpolate + pool."""
from dataclasses import dataclass
from typing import Tuple

import torch
import torch.nn.functional as F

from .report import SectionReport, Table, at_least, ratio
from .section import RunContext, Section, setting, settings_line
from .timing import time_interleaved

LAYOUTS = {'NCHW': torch.contiguous_format, 'channels-last': torch.channels_last}


@dataclass
class NeckSettings:
    shape: Tuple[int, ...] = setting((64, 2048, 7, 7), 'N x C x H x W layer4 map (ResNet-50 on '
                                                      '224 px montages: 7 x 7)')
    grid: int = setting(2, 'slots per side, m')
    steps: int = setting(20, 'timed forward + backward calls per implementation')
    warmup: int = setting(2, 'untimed calls first')
    rtol: float = setting(1e-4, 'relative tolerance of the agreement check')
    atol: float = setting(1e-5, 'absolute tolerance of the agreement check')


def interpolate_then_pool(x: torch.Tensor, grid: int) -> torch.Tensor:
    """The papers' decouple: bilinear to 4m x 4m (align_corners=False), average-pool to m x m.

    Returns the (m*m*n) x C per-slot features slot-major (row = slot * n + montage), the order
    ``DecoupleNeck`` emits.
    """
    size = 4 * grid
    pooled = F.adaptive_avg_pool2d(
        F.interpolate(x, (size, size), mode='bilinear', align_corners=False), (grid, grid))
    return pooled.permute(2, 3, 0, 1).reshape(-1, x.size(1))


def forward_backward(fn, x: torch.Tensor, grad: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Output and input gradient of ``fn(x)`` for the output gradient ``grad``."""
    x = x.detach().requires_grad_()
    out = fn(x)
    out.backward(grad)
    return out.detach(), x.grad


def max_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    return (a.float() - b.float()).abs().max().item()


def run(settings: NeckSettings, context: RunContext) -> SectionReport:
    """Check both implementations agree (values and gradients), then time them per layout."""
    from mejigclu_mm.models.necks import DecoupleNeck
    report = SectionReport(settings=[settings_line(settings, context)])
    neck = DecoupleNeck(grid=settings.grid).to(context.device)
    implementations = {'DecoupleNeck': lambda x: neck((x, ))[0],
                       'interpolate + pool': lambda x: interpolate_then_pool(x, settings.grid)}
    table = Table(['layout', 'DecoupleNeck ms', 'interpolate + pool ms', 'speed-up',
                   'max |diff| output', 'max |diff| input grad'])
    generator = torch.Generator().manual_seed(context.seed)
    base = torch.randn(settings.shape, generator=generator).to(context.device)
    grid_slots = settings.grid * settings.grid * settings.shape[0]
    grad = torch.randn(grid_slots, settings.shape[1], generator=generator).to(context.device)
    for layout, memory_format in LAYOUTS.items():
        x = base.contiguous(memory_format=memory_format)
        (ours, ours_grad), (ref, ref_grad) = (forward_backward(fn, x, grad)
                                              for fn in implementations.values())
        diffs = max_difference(ours, ref), max_difference(ours_grad, ref_grad)
        agree = all(torch.allclose(a, b, rtol=settings.rtol, atol=settings.atol)
                    for a, b in ((ours, ref), (ours_grad, ref_grad)))
        if not agree:
            report.refused.append(
                f'{layout}: DecoupleNeck and interpolate + pool disagree (max |diff| output '
                f'{diffs[0]:.3g}, input grad {diffs[1]:.3g}; rtol {settings.rtol}, atol '
                f'{settings.atol}): no speed-up reported for a wrong result')
            table.add(layout, None, None, 'refused', *diffs)
            continue
        timings = time_interleaved(
            {name: (lambda fn=fn: forward_backward(fn, x, grad))
             for name, fn in implementations.items()},
            context.device, settings.steps, settings.warmup)
        seconds = [timing.median for timing in timings.values()]
        speed_up = ratio(seconds[1], seconds[0])
        table.add(layout, 1000 * seconds[0], 1000 * seconds[1], f'{speed_up:.2f}x', *diffs)
        if layout == 'NCHW':
            report.targets.append(at_least('DecoupleNeck >= 3x interpolate + pool (NCHW, '
                                           'forward + backward)', speed_up, 3.0))
    report.tables.append(table)
    report.notes.append('Both implementations are checked on the same input (forward values and '
                        'input gradients, torch.allclose) before they are timed; a disagreement '
                        'is reported instead of a speed-up. Times: median of forward + backward '
                        '(fp32, input leaf re-created per call), the two implementations '
                        'called alternately.')
    return report


SECTION = Section(
    name='neck',
    title='(e) DecoupleNeck vs interpolate + pool, forward + backward',
    description="""\
DecoupleNeck (an exact linear map: einsum with cached m x H matrices) against the papers'
F.interpolate(x, (4m, 4m), bilinear, align_corners=False) + F.adaptive_avg_pool2d(x, (m, m)),
forward + backward, NCHW and channels-last inputs. The two must agree (values and gradients)
before a speed-up is reported. Target: >= 3x in NCHW on the 2-core CPU.""",
    settings=NeckSettings,
    run=run,
    cuda_defaults=dict(shape=(256, 2048, 7, 7), steps=50, warmup=5),
)
