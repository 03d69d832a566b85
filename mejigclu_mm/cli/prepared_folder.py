"""One guard for the data-set folders the preparation tools write (the folder counterpart of
:mod:`mejigclu_mm.runtime.output_guard`).

A prepared folder holds ``meta.json`` with the settings it was made with (options, the digest of
its source files). :func:`reuse_or_refuse` keeps a folder made with the same settings (the tools
are idempotent), and refuses one made otherwise, naming each setting that differs, or a folder
that is not a prepared one: it is never completed or mixed with new files. :func:`build_folder`
writes a new folder under a temporary name beside ``out`` and renames it in one step, so that an
interrupted run leaves no half-made data set behind.
"""
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import Callable, Optional

META_FILE = 'meta.json'


def reuse_or_refuse(out: str, wanted: dict, tool: str, option: str = '--out',
                    hint: Optional[Callable[[list], str]] = None,
                    kind: str = 'a set') -> Optional[dict]:
    """The meta of ``out`` when it was made with ``wanted``; None when ``out`` does not exist
    or is an empty folder.

    Args:
        out (str): The folder.
        wanted (dict): The settings the tool would make it with.
        tool (str): The tool, for the messages (e.g. ``'prepare_deepforest'``).
        option (str): The option that names the folder.
        hint (callable, optional): Says more about the differing keys (their list).
        kind (str): What the folder holds, for the messages (e.g. ``'scenes'``).

    Raises:
        SystemExit: ``out`` exists and is no folder of these settings, naming what differs.
    """
    if not osp.exists(out) or (osp.isdir(out) and not os.listdir(out)):
        return None  # an empty folder is free, as an empty file is for the output guard
    meta_path = osp.join(out, META_FILE)
    meta, missing = None, 'no meta.json'
    if osp.isfile(meta_path):
        missing = 'an unreadable meta.json'
        try:
            with open(meta_path, encoding='utf-8') as file:
                meta = json.load(file)
        except (OSError, ValueError):
            meta = None
    if isinstance(meta, dict) and meta.get('settings') == wanted:
        return meta
    if not isinstance(meta, dict):
        what = f'something else ({missing})'
    else:
        stored = meta.get('settings') or {}
        differ = [key for key, value in wanted.items() if stored.get(key) != value]
        what = f'{kind} made otherwise: ' + '; '.join(
            f'{key} {stored.get(key)!r} there, {wanted[key]!r} asked' for key in differ)
        if hint is not None:
            what += hint(differ)
    raise SystemExit(f'{tool}: {option} {out} exists and holds {what}: choose another '
                     f'{option}, or remove it to make the set again')


def build_folder(out: str, build: Callable[[str], dict]) -> dict:
    """Make ``out`` whole or not at all.

    Args:
        out (str): The folder, which must not exist or be empty (check with
            :func:`reuse_or_refuse`).
        build (callable): Writes the data set into the folder it is given and returns the
            meta (a dict with ``settings``), written to ``meta.json``.

    Returns:
        dict: The meta.
    """
    parent = osp.dirname(osp.abspath(out))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=osp.basename(osp.normpath(out)) + '.tmp-', dir=parent)
    try:
        meta = build(tmp)
        with open(osp.join(tmp, META_FILE), 'w', encoding='utf-8') as file:
            json.dump(meta, file, indent=1)
        os.rename(tmp, out)  # fails, leaving OUT alone, if OUT appeared meanwhile
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta
