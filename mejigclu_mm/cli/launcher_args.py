"""``--launcher`` / ``--local-rank``, as tools/train.py and tools/test.py take them."""
import argparse
import os
from typing import Optional, Sequence

from mejigclu_mm.runtime.cpu_distributed import CPU_LAUNCHERS


def add_launcher_arguments(parser: argparse.ArgumentParser) -> None:
    """``--launcher`` and ``--local-rank``, as tools/train.py and tools/test.py take them.

    Args:
        parser (argparse.ArgumentParser): The tool's parser; parse it with
            :func:`parse_launcher_args`.
    """
    parser.add_argument('--launcher', choices=['none', *CPU_LAUNCHERS], default='none',
                        help='none: one process; pytorch: started by tools/dist_train.sh '
                             '(torchrun); slurm: started by tools/slurm_train.sh (srun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help='set by launchers that pass it on the command line')


def parse_launcher_args(parser: argparse.ArgumentParser,
                        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` and export ``--local-rank`` as ``LOCAL_RANK`` unless already set.

    Args:
        parser (argparse.ArgumentParser): A parser given :func:`add_launcher_arguments`.
        argv (Sequence[str], optional): The arguments; ``sys.argv[1:]`` when None.

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args
