"""One guard for the files the tools write: never over an input, only over the tool's own
earlier output, the suffix checked before any work, written atomically.

A tool's output carries a mark of what wrote it (:func:`marked`): a first line
``<!-- written by TOOL -->`` in Markdown, a ``written_by`` entry in a JSON / YAML / pickle dict,
a ``written_by`` text chunk in a PNG (:func:`save_figure`). :func:`check_output` refuses any
existing file without the tool's mark (an empty file counts as free); files that cannot carry a
mark (weights for other libraries, whose readers take the file as it is) are replaced only with
the tool's ``--force``. :func:`write_output` and :func:`save_figure` write through a temporary
file and a rename (:mod:`mejigclu_mm.runtime.atomic_write`), as do the tools that write weights
or data sets with it directly.
"""
import json
import os.path as osp
import pickle
from typing import Any, Callable, Iterable, Optional, Sequence

from mejigclu_mm.runtime.atomic_write import atomic_write

MARK_KEY = 'written_by'
MARKDOWN_MARK = '<!-- written by {tool} -->'
DICT_SUFFIXES = ('.json', '.yaml', '.yml', '.pkl', '.pickle')


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles plain values only (dicts, lists, strings, numbers): any class is refused, so
    reading a stranger's pickle runs no code of it."""

    def find_class(self, module, name):
        raise pickle.UnpicklingError(f'{module}.{name} is not a plain value')


def _read_dict(path: str) -> Optional[dict]:
    suffix = osp.splitext(path)[1].lower()
    try:
        if suffix == '.json':
            with open(path, encoding='utf-8') as file:
                value = json.load(file)
        elif suffix in ('.yaml', '.yml'):
            import yaml
            with open(path, encoding='utf-8') as file:
                value = yaml.safe_load(file)
        else:
            with open(path, 'rb') as file:
                value = _PlainUnpickler(file).load()
    except Exception:  # unreadable, another format, classes in a pickle: not this tool's
        return None
    return value if isinstance(value, dict) else None


def _png_mark(path: str) -> Optional[str]:
    try:
        from PIL import Image
        with Image.open(path) as image:
            if image.format != 'PNG':
                return None
            return (getattr(image, 'text', None) or {}).get(MARK_KEY)
    except Exception:  # unreadable or no image: not this tool's
        return None


def written_by(path: str) -> Optional[str]:
    """The tool whose mark ``path`` carries, or None (no mark, unreadable, another format)."""
    if osp.splitext(path)[1].lower() == '.png':
        return _png_mark(path)
    if osp.splitext(path)[1].lower() == '.md':
        try:
            with open(path, encoding='utf-8') as file:
                first = file.readline().strip()
        except (OSError, UnicodeDecodeError):
            return None
        head, tail = MARKDOWN_MARK.split('{tool}')
        if first.startswith(head) and first.endswith(tail):
            return first[len(head):len(first) - len(tail)]
        return None
    value = _read_dict(path)
    mark = value.get(MARK_KEY) if value else None
    return mark if isinstance(mark, str) else None


def refusal(path: str, tool: str, suffixes: Sequence[str], inputs: Iterable = (),
            is_own: Optional[Callable[[str], bool]] = None, option: str = '--out',
            describe: Optional[Callable[[str], str]] = None,
            force: Optional[bool] = None) -> Optional[str]:
    """Why ``path`` may not be ``tool``'s output, or None; the arguments of :func:`check_output`.
    """
    if osp.isdir(path):
        return f'{tool}: {option} {path} is a folder; give a file name'
    unless = '' if force is None else ' (--force does not change this)'
    for source in inputs:
        if source and (osp.realpath(source) == osp.realpath(path) or (
                osp.exists(source) and osp.exists(path) and osp.samefile(source, path))):
            return (f'{tool}: {option} {path} is an input of this tool ({source}); give another '
                    f'{option} path{unless}')
    suffix = osp.splitext(path)[1].lower()
    if suffix not in suffixes:
        return (f'{tool}: {option} {path}: writes {" / ".join(suffixes)} files, not '
                f'{suffix or "a name without a suffix"}; give a name ending in '
                f'{" or ".join(suffixes)}')
    if not osp.lexists(path) or osp.getsize(path) == 0 or force:
        return None
    mark = written_by(path)
    if mark == tool or (is_own is not None and is_own(path)):
        return None
    held = describe(path) if describe is not None else (
        f'was written by {mark}' if mark else f'was not written by {tool}')
    way = 'pass --force to replace it, or give another' if force is not None else 'give another'
    return (f'{tool}: {option} {path} exists and {held}; it is not written over: {way} '
            f'{option} path' + ('' if force is not None else ' (or remove the file)'))


def check_output(path: str, tool: str, suffixes: Sequence[str], inputs: Iterable = (),
                 is_own: Optional[Callable[[str], bool]] = None, option: str = '--out',
                 describe: Optional[Callable[[str], str]] = None,
                 force: Optional[bool] = None) -> None:
    """Refuse ``path`` as ``tool``'s output, before the tool does any work.

    Args:
        path (str): The output path.
        tool (str): The tool, as its mark names it (e.g. ``'tools/test.py'``).
        suffixes (Sequence[str]): The suffixes the tool can write (e.g. ``('.md', )``).
        inputs (Iterable[str]): The files the tool reads (None entries are skipped).
        is_own (callable, optional): Also recognises an earlier output of the tool written
            before it was marked.
        option (str): The option's name, for the messages.
        describe (callable, optional): Says what a refused file holds (e.g. "holds the results
            of linear_probe.py"), in place of whether a tool's mark is there.
        force (bool, optional): The tool's ``--force`` for files that carry no mark: True
            replaces any existing file but an input; None: the tool has no such option.

    Raises:
        SystemExit: naming the file and why it is refused.
    """
    message = refusal(path, tool, suffixes, inputs, is_own, option, describe, force)
    if message:
        raise SystemExit(message)


def marked(value: Any, tool: str, suffix: str) -> Any:
    """``value`` with ``tool``'s mark: a dict gets ``written_by``, Markdown text a first line."""
    if suffix.lower() == '.md':
        return MARKDOWN_MARK.format(tool=tool) + '\n' + value
    return {MARK_KEY: tool, **value}


def _plain(value: Any) -> Any:
    """numpy / torch scalars as Python numbers, so that the pickle holds plain values only."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if hasattr(value, 'item') and callable(value.item) and getattr(value, 'ndim', 1) == 0:
        return value.item()
    return value


def write_output(path: str, value: Any, tool: str) -> str:
    """Write ``value`` (Markdown text, or a dict for JSON / YAML / pickle) with ``tool``'s mark
    to ``path``, atomically.

    Returns:
        str: ``path``.
    """
    suffix = osp.splitext(path)[1].lower()
    content = marked(value if suffix == '.md' else _plain(value), tool, suffix)
    if suffix == '.md':
        with atomic_write(path, encoding='utf-8') as file:
            file.write(content)
    elif suffix == '.json':
        with atomic_write(path, encoding='utf-8') as file:
            json.dump(content, file, indent=2)
    elif suffix in ('.yaml', '.yml'):
        import yaml
        with atomic_write(path, encoding='utf-8') as file:
            yaml.safe_dump(content, file)
    elif suffix in DICT_SUFFIXES:
        with atomic_write(path, 'wb') as file:
            pickle.dump(content, file)
    else:
        raise ValueError(f'write_output: no writer for {path}')
    return path


def save_figure(fig, path: str, tool: str, **savefig_args) -> str:
    """Write a matplotlib figure to ``path`` as a PNG with ``tool``'s mark, atomically.

    Args:
        fig (matplotlib.figure.Figure): The figure.
        path (str): A ``.png`` file, checked beforehand with :func:`check_output`.
        tool (str): The tool, as its mark names it.
        savefig_args: Passed to ``fig.savefig`` (e.g. ``dpi``).

    Returns:
        str: ``path``.
    """
    with atomic_write(path, 'wb') as file:
        fig.savefig(file, format='png', metadata={MARK_KEY: tool}, **savefig_args)
    return path
