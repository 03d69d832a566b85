"""What a section prints: settings, Markdown tables, notes and target checks."""
from dataclasses import dataclass, field
from typing import Any, List, Optional


@dataclass
class Table:
    """A Markdown table.

    Args:
        headers (list[str]): Column names.
        rows (list[list]): One list of cells per row (formatted with :func:`cell`).
        caption (str, optional): Line printed above the table.
    """
    headers: List[str]
    rows: List[List[Any]] = field(default_factory=list)
    caption: Optional[str] = None

    def add(self, *cells: Any) -> None:
        if len(cells) != len(self.headers):
            raise ValueError(f'row of {len(cells)} cells for {len(self.headers)} columns')
        self.rows.append(list(cells))

    def column(self, header: str) -> List[Any]:
        """The cells of one column, by header."""
        index = self.headers.index(header)
        return [row[index] for row in self.rows]

    def markdown(self) -> str:
        lines = [f'| {" | ".join(self.headers)} |', '|' + '---|' * len(self.headers)]
        lines += [f'| {" | ".join(cell(value) for value in row)} |' for row in self.rows]
        return '\n'.join(([self.caption, ''] if self.caption else []) + lines)


@dataclass
class TargetCheck:
    """A target from the project's issues, checked on this run's figures.

    Args:
        claim (str): The target, e.g. ``'MEJigClu >= 0.9x the limit (fp32 NCHW)'``.
        value (float | None): The measured ratio (None: not measured).
        holds (bool | None): Whether it holds (None: not measured).
        gpu_only (bool): The target is stated for a GPU; on the CPU it is only informative.
    """
    claim: str
    value: Optional[float]
    holds: Optional[bool]
    gpu_only: bool = False

    def line(self, device: str) -> str:
        if self.value is None:
            verdict = 'not measured'
        elif self.gpu_only and device != 'cuda':
            verdict = f'{self.value:.2f}x here; a GPU target, not checked on {device}'
        else:
            verdict = f'{self.value:.2f}x: {"holds" if self.holds else "MISSED"}'
        return f'- target {self.claim}: {verdict}'


def at_least(claim: str, value: Optional[float], threshold: float, gpu_only: bool = False
             ) -> TargetCheck:
    """A ``value >= threshold`` target."""
    return TargetCheck(claim, value, None if value is None else value >= threshold, gpu_only)


def at_most(claim: str, value: Optional[float], threshold: float, gpu_only: bool = False
            ) -> TargetCheck:
    """A ``value <= threshold`` target."""
    return TargetCheck(claim, value, None if value is None else value <= threshold, gpu_only)


@dataclass
class SectionReport:
    """Everything a section prints, also kept for tests and callers.

    Args:
        settings (list[str]): Lines with the exact settings used.
        tables (list[Table]): The section's tables.
        notes (list[str]): Remarks printed after the tables.
        targets (list[TargetCheck]): Targets checked on this run.
        refused (list[str]): Why a result was not reported (e.g. implementations disagree);
            the tool then exits non-zero.
    """
    settings: List[str] = field(default_factory=list)
    tables: List[Table] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    targets: List[TargetCheck] = field(default_factory=list)
    refused: List[str] = field(default_factory=list)

    def markdown(self, device: str) -> str:
        parts = list(self.settings)
        parts += [table.markdown() for table in self.tables]
        parts += [f'REFUSED: {reason}' for reason in self.refused]
        if self.targets:
            parts.append('\n'.join(target.line(device) for target in self.targets))
        if self.notes:
            parts.append('\n'.join(f'- {note}' for note in self.notes))
        return '\n\n'.join(parts)


def cell(value: Any) -> str:
    """Format a table cell: floats with 3 significant digits (1 decimal from 100), None as n/a."""
    if value is None:
        return 'n/a'
    if isinstance(value, float):
        if value != value:  # NaN
            return 'n/a'
        return f'{value:.1f}' if abs(value) >= 100 else f'{value:.3g}'
    return str(value)


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def megabytes(num_bytes: Optional[float]) -> Optional[float]:
    """Bytes to MiB (None stays None)."""
    return None if num_bytes is None else num_bytes / 2**20
