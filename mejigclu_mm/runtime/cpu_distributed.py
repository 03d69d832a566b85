"""Distributed training on machines without a GPU: a gloo process group and DDP on the CPU.

mmengine 0.10.7's launchers call ``torch.cuda.set_device`` unconditionally and build
``MMDistributedDataParallel`` with ``device_ids=[LOCAL_RANK]``; both fail without a GPU.
mmengine skips its own initialisation when a process group already exists, so
:func:`init_cpu_distributed` creates one with the gloo backend first and adapts the config.
"""
import datetime
import logging
import os
import subprocess
from typing import Any

import torch.distributed as dist
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.logging import print_log

CPU_LAUNCHERS = ('pytorch', 'slurm')


def _slurm_environment() -> None:
    """Set torch's rendezvous variables from Slurm's, as mmengine's slurm launcher does."""
    node_list = os.environ['SLURM_NODELIST']
    os.environ.setdefault('MASTER_ADDR', subprocess.getoutput(
        f'scontrol show hostname {node_list} | head -n1'))
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def _sync_bn_to_bn(node: Any) -> int:
    """Replace ``type='SyncBN'`` by ``'BN'`` in a config tree in place; the number replaced."""
    count = 0
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            count += 1
        for value in node.values():
            count += _sync_bn_to_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            count += _sync_bn_to_bn(value)
    return count


def init_cpu_distributed(cfg: Config) -> bool:
    """Start a gloo process group for ``cfg.launcher`` when this machine has no GPU.

    Does nothing (returns False) when the launcher is ``'none'``, when an accelerator is present
    (mmengine's own launcher then works) or when a process group exists. Otherwise:

    - initialises the default process group with gloo from torchrun's environment variables
      (``--launcher pytorch``) or Slurm's (``--launcher slurm``), with
      ``env_cfg.dist_cfg.timeout`` (seconds) when set;
    - sets ``model_wrapper_cfg`` to ``MMDistributedDataParallel`` without ``device_ids`` (what
      DDP wants for a CPU module), keeping ``find_unused_parameters``;
    - configures ``SyncBN`` layers as ``BN`` (torch's SyncBatchNorm refuses CPU tensors), with a
      warning: each process then normalises over its own images, so results depend on the
      number of processes unless the model has no batch normalisation (e.g. GroupNorm).

    Args:
        cfg (Config): The merged training config; changed in place.

    Returns:
        bool: Whether a process group was started here.

    Raises:
        ValueError: an unsupported launcher, or missing launcher environment variables.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none' or get_device() != 'cpu' or dist.is_initialized():
        return False
    if launcher not in CPU_LAUNCHERS:
        raise ValueError(f'launcher {launcher!r} has no CPU fallback here; without a GPU use '
                         f'one of {CPU_LAUNCHERS} (tools/dist_train.sh uses pytorch)')
    if launcher == 'slurm':
        _slurm_environment()
    missing = [key for key in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')
               if key not in os.environ]
    if missing:
        raise ValueError(f'--launcher {launcher} without a GPU: environment variables '
                         f'{", ".join(missing)} are not set; start the processes with '
                         'tools/dist_train.sh CONFIG NUM_PROCESSES (torchrun sets them)')
    dist_cfg = cfg.get('env_cfg', {}).get('dist_cfg', {})
    kwargs = {}
    if dist_cfg.get('timeout') is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=dist_cfg['timeout'])
    dist.init_process_group('gloo', rank=int(os.environ['RANK']),
                            world_size=int(os.environ['WORLD_SIZE']), **kwargs)
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'

    wrapper = cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel')
    if wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if cfg.get('sync_bn') is not None:
        cfg.sync_bn = None
    replaced = _sync_bn_to_bn(cfg.model)
    if replaced:
        print_log(f'no GPU: {replaced} SyncBN layer config(s) trained as BN (torch\'s SyncBN '
                  'needs GPU tensors); each process normalises over its own images, so the '
                  'result depends on the number of processes. Use GroupNorm '
                  '(norm_cfg=dict(type=\'GN\', ...)) where that matters.', logger='current',
                  level=logging.WARNING)
    return True
