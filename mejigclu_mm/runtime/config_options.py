"""Name the ``--cfg-options`` keys that nothing reads, with the closest keys that exist."""
import difflib
import inspect
from typing import Iterable, List, Mapping, Tuple

from mmengine.runner import Runner

# Top-level keys mmengine reads besides the Runner's arguments (runner.py, Runner.from_cfg and
# build_* methods), and GuardedRunner's own ('overwrite'); a config may set them although its
# bases do not.
EXTRA_RUNNER_KEYS = ('runner_type', 'overwrite', 'custom_imports', 'model_wrapper_cfg',
                     'find_unused_parameters', 'compile', 'activation_checkpointing',
                     'efficient_conv_bn_eval', 'sync_bn', 'gpu_ids', 'strategy', 'dist_params')


def runner_keys() -> Tuple[str, ...]:
    """Every top-level config key mmengine's Runner reads."""
    arguments = [name for name in inspect.signature(Runner.__init__).parameters
                 if name not in ('self', 'cfg')]
    return tuple(arguments) + EXTRA_RUNNER_KEYS


def _dotted_keys(node: Mapping, prefix: str = '', depth: int = 3) -> Iterable[str]:
    for key, value in node.items():
        if not isinstance(key, str):
            continue
        path = f'{prefix}{key}'
        yield path
        if depth > 1 and isinstance(value, Mapping):
            yield from _dotted_keys(value, f'{path}.', depth - 1)


def unknown_option_warnings(cfg: Mapping, options: Iterable[str]) -> List[str]:
    """One warning per ``--cfg-options`` key whose top level is neither in ``cfg`` nor read
    by mmengine's Runner (e.g. ``max_epochs=1``: the schedule reads ``train_cfg.max_epochs``).

    Args:
        cfg (Mapping): The config before the options are merged.
        options (Iterable[str]): The options' keys (``'train_cfg.max_epochs'``, ...).

    Returns:
        list[str]: The warnings, each naming the key and the closest existing keys.
    """
    known = set(cfg.keys()) | set(runner_keys())
    dotted = sorted(set(_dotted_keys(cfg)))
    leaves = {}
    for path in dotted:
        leaves.setdefault(path.rsplit('.', 1)[-1], []).append(path)
    warnings = []
    for option in options:
        top = option.split('.')[0]
        if top in known:
            continue
        last = option.rsplit('.', 1)[-1]
        close = difflib.get_close_matches(top, sorted(known), n=3, cutoff=0.6)
        for leaf in difflib.get_close_matches(last, sorted(leaves), n=3, cutoff=0.75):
            close += [path for path in leaves[leaf] if path not in close]
        hint = f'; did you mean {", ".join(close[:5])}?' if close else ''
        warnings.append(f'--cfg-options {option}: the config has no top-level key {top!r} and '
                        f'mmengine\'s Runner does not read one, so this option changes nothing'
                        f'{hint}')
    return warnings
