"""Side-by-side speed benchmarks of MEJigClu / JigClu (the method's point is cost).

Each section prints the exact settings it used, a Markdown table and ratios computed in the
same run. Defaults are small enough for a 2-core CPU (a few minutes in all); ``--device cuda``
switches to the paper's sizes (ResNet-50, 256 images per step, 112 px patches / 224 px
montages and images, 15 dataloader workers).

    python tools/benchmark.py                              # every section, CPU defaults
    python tools/benchmark.py --device cuda                # every section, paper sizes
    python tools/benchmark.py --only model neck --steps 5
    python tools/benchmark.py --only e2e --image-dir data/imagenet/train --workers 8
    python tools/benchmark.py --only model --set model.depth=50 model.batch=16
    python tools/benchmark.py --threads 0                  # torch's threads (CPU default: 1)

Exit status: 0, or 1 when a section failed or refused to report (e.g. two implementations
that should agree do not).
"""
import argparse
import dataclasses
import platform
import sys
import time
import traceback
from typing import List, Optional, Tuple

import torch

from benchmarks.section import RunContext, Section, parse_value
from benchmarks.sections import BY_NAME, SECTIONS

# Common options: (flag, setting name they set in every section that has it, help)
COMMON_OPTIONS = (
    ('--steps', 'steps', int, 'timed steps / calls of every section (overrides its default)'),
    ('--warmup', 'warmup', int, 'untimed warm-up steps of every section'),
    ('--workers', 'workers', int, 'dataloader workers of the e2e section'),
    ('--image-dir', 'image_dir', str, 'folder of images for the e2e and cpu sections (default: '
                                      "the 20 ImageNet photos of foolbox's offline data)"),
)


def build_parser() -> argparse.ArgumentParser:
    epilog = ['sections (NAME.SETTING = CPU default (cuda: GPU default): meaning):', '']
    for section in SECTIONS:
        epilog += section.help_lines() + ['']
    parser = argparse.ArgumentParser(
        description=__doc__, epilog='\n'.join(epilog),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--only', nargs='+', choices=list(BY_NAME), metavar='SECTION',
                        help=f'run only these sections (of: {", ".join(BY_NAME)})')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu',
                        help='where models and device-side work run; cuda picks the paper sizes')
    for flag, _, kind, text in COMMON_OPTIONS:
        parser.add_argument(flag, type=kind, help=text)
    parser.add_argument('--set', nargs='+', default=[], metavar='SECTION.SETTING=VALUE',
                        help='any setting listed below (tuples comma-separated, none for None)')
    parser.add_argument('--threads', type=int,
                        help='torch CPU threads for the run; default 1 with --device cpu (steady '
                             'side-by-side figures on a CPU shared with other jobs, where '
                             'OpenMP threads stall each other), torch\'s own with cuda; 0: '
                             'torch\'s own (one per core)')
    parser.add_argument('--seed', type=int, default=0, help='seed set before every section')
    return parser


def resolve_settings(section: Section, args: argparse.Namespace) -> object:
    """The section's defaults for the device, then the common options, then ``--set``."""
    settings = section.default_settings(args.device)
    names = {item.name for item in dataclasses.fields(settings)}
    for _, name, _, _ in COMMON_OPTIONS:
        value = getattr(args, name)
        if value is not None and name in names:
            setattr(settings, name, value)
    for assignment in args.set:
        key, _, value = assignment.partition('=')
        section_name, _, name = key.partition('.')
        if section_name not in BY_NAME or not value:
            raise SystemExit(f'--set {assignment!r}: expected SECTION.SETTING=VALUE with SECTION '
                             f'one of {", ".join(BY_NAME)}')
        if section_name != section.name:
            continue
        if name not in names:
            raise SystemExit(f'--set {assignment!r}: section {section.name} has no setting '
                             f'{name!r} (it has {", ".join(sorted(names))})')
        try:
            setattr(settings, name, parse_value(value, getattr(settings, name)))
        except ValueError as error:
            raise SystemExit(f'--set {assignment!r}: {error}') from None
    return settings


def environment_line(device: str) -> str:
    """Library versions and the hardware the figures come from."""
    import mmengine
    import mmpretrain
    hardware = (torch.cuda.get_device_name() if device == 'cuda'
                else f'{platform.processor() or platform.machine()}, '
                     f'{torch.get_num_threads()} torch threads')
    return (f'torch {torch.__version__}, mmengine {mmengine.__version__}, mmpretrain '
            f'{mmpretrain.__version__}; {device}: {hardware}')


def main(argv: Optional[List[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available here')
    chosen = [BY_NAME[name] for name in args.only] if args.only else list(SECTIONS)
    # resolve all settings first: a typo in --set fails before minutes of timing
    plan = [(section, resolve_settings(section, args)) for section in chosen]
    threads = args.threads if args.threads is not None else (1 if args.device == 'cpu' else 0)
    previous_threads = torch.get_num_threads()
    if threads > 0:
        torch.set_num_threads(threads)
    try:
        return run_sections(plan, args, argv)
    finally:  # callers (tests) keep their own thread count
        torch.set_num_threads(previous_threads)


def run_sections(plan: List[Tuple[Section, object]], args: argparse.Namespace,
                 argv: Optional[List[str]]) -> int:
    """Run and print every planned section; the exit status (1: a section failed or refused)."""
    print(f'# tools/benchmark.py {" ".join(argv if argv is not None else sys.argv[1:])}')
    print(f'\n{environment_line(args.device)}', flush=True)
    failed = []
    for section, settings in plan:
        print(f'\n## {section.name}: {section.title}\n', flush=True)
        torch.manual_seed(args.seed)
        start = time.perf_counter()
        try:
            report = section.run(settings, RunContext(device=args.device, seed=args.seed))
        except Exception:  # report and go on: one broken section must not hide the others
            print(f'FAILED:\n```\n{traceback.format_exc()}```', flush=True)
            failed.append(section.name)
            continue
        print(report.markdown(args.device))
        print(f'\n({section.name}: {time.perf_counter() - start:.0f} s)', flush=True)
        if report.refused:
            failed.append(section.name)
    if failed:
        print(f'\nsections that failed or refused to report: {", ".join(failed)}')
    return 1 if failed else 0

if __name__ == '__main__':
    sys.exit(main())
