"""What the transfer data checks share: their result, their error, the datasets they look at."""
import difflib
from dataclasses import dataclass, field
from typing import Iterator, List, Sequence


class TransferDataError(ValueError):
    """A transfer run's data that disagrees with its config: the message names the file, the
    classes or values, the counts, and what to change."""


@dataclass
class DataCheck:
    """The outcome of checking one dataset (or file) against the config.

    Attributes:
        source (str): What was checked, e.g. 'training set, data/x/annotations/train.json'.
        notes (list[str]): What is kept, dropped and why (logged).
        problems (list[str]): What stops the run (raised together).
        dropped (bool): Whether something is dropped or ignored (the notes are then a
            warning, not information).
    """

    source: str
    notes: List[str] = field(default_factory=list)
    problems: List[str] = field(default_factory=list)
    dropped: bool = False

    def note(self, text: str, dropped: bool = False) -> None:
        self.notes.append(text)
        self.dropped = self.dropped or dropped


def report(checks: Sequence[DataCheck], logger, hook: str) -> None:
    """Log every check (a warning when something is dropped), then raise the problems.

    Args:
        checks (Sequence[DataCheck]): The checks of one hook.
        logger: Where the notes go (a Runner's logger, mmengine's current one).
        hook (str): The hook's name, at the start of each line.

    Raises:
        TransferDataError: With every problem of every check, each naming its source.
    """
    for check in checks:
        text = f'{hook}: {check.source}: ' + '; '.join(check.notes)
        (logger.warning if check.dropped or check.problems else logger.info)(text)
    problems = [f'{check.source}: {problem}' for check in checks for problem in check.problems]
    if problems:
        raise TransferDataError(f'{hook} stopped the run before training:\n- '
                                + '\n- '.join(problems))


def leaf_datasets(dataset) -> Iterator:
    """The datasets that read files, below mmengine's / mmdet's wrappers (ConcatDataset's
    ``datasets``, RepeatDataset's and ClassBalancedDataset's ``dataset``), in order."""
    children = list(getattr(dataset, 'datasets', None) or [])
    inner = getattr(dataset, 'dataset', None)
    if inner is not None and not children:
        children = [inner]
    if not children:
        yield dataset
    for child in children:
        yield from leaf_datasets(child)


def closest(name: str, names: Sequence[str]) -> str:
    """' (closest: a, b)' with the names most like ``name``, or ''."""
    found = difflib.get_close_matches(name, list(names), n=2, cutoff=0.5)
    if not found:
        lowered = {n.lower(): n for n in names}
        found = [lowered[name.lower()]] if name.lower() in lowered else []
    return f' (closest: {", ".join(repr(n) for n in found)})' if found else ''


def shorten(items: Sequence[str], count: int = 8) -> str:
    """The first ``count`` items joined, '... and N more' after them."""
    more = f' and {len(items) - count} more' if len(items) > count else ''
    return ', '.join(items[:count]) + more
