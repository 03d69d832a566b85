"""What K paired seeds can say about arms and their differences: t-intervals, Holm, power.

A comparison runs every arm on the same K seeds with common random numbers (the same initial
backbone, batch order and draws per seed: ``tools/compare.py``), so each seed gives one paired
difference per contrast and the seed-to-seed spread of the arms cancels out of it. For each
arm: the mean and its 95 % t-interval over the seeds. For each contrast A - B: the mean paired
difference, its t-interval, the two-sided paired t-test, Holm's step-down correction over the
contrasts (family-wise error 5 %), and the smallest difference these K seeds could have
detected with 80 % power at the contrast's Holm level, from the observed paired spread:
``(t(1 - a/2, K-1) + t(0.8, K-1)) * sd(d) / sqrt(K)``. The verdict says "resolved" only when
Holm rejects the contrast.
"""
import math
from dataclasses import asdict, dataclass
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy import stats

ALPHA, POWER = 0.05, 0.8


@dataclass
class ArmSummary:
    """One arm's values over the seeds.

    Args:
        mean (float): Their mean.
        low (float): Lower end of the 95 % t-interval (the mean with one seed).
        high (float): Upper end.
        values (list[float]): The values, in seed order.
    """
    mean: float
    low: float
    high: float
    values: List[float]


@dataclass
class ContrastSummary:
    """A - B over paired seeds, Holm-corrected within its family of contrasts.

    Args:
        first (str): Arm A.
        second (str): Arm B.
        differences (list[float]): A - B per seed.
        mean (float): Mean paired difference.
        low (float): Lower end of its interval at ``level``.
        high (float): Upper end.
        level (float): The confidence of the interval: 1 - the contrast's Holm level.
        p_value (float): Two-sided paired t-test (1.0 when every difference is the same, 0.0 if
            that difference is not 0).
        p_holm (float): Holm-adjusted p-value.
        resolved (bool): Whether Holm rejects "no difference" at 5 %.
        detectable (float): Smallest |difference| K seeds detect with 80 % power at the
            contrast's Holm level (inf with fewer than 2 seeds).
    """
    first: str
    second: str
    differences: List[float]
    mean: float
    low: float
    high: float
    level: float
    p_value: float
    p_holm: float
    resolved: bool
    detectable: float


def t_interval(values: Sequence[float], alpha: float = ALPHA) -> Tuple[float, float, float]:
    """Mean and two-sided (1 - alpha) t-interval of ``values``.

    One value gives a zero-width interval at the value (nothing to estimate a spread from is
    said by the caller: K = 1 resolves nothing).
    """
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    half = float(stats.t.ppf(1 - alpha / 2, len(values) - 1) * values.std(ddof=1)
                 / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def summarise_arm(values: Sequence[float]) -> ArmSummary:
    mean, low, high = t_interval(values)
    return ArmSummary(mean, low, high, [float(v) for v in values])


def paired_p_value(differences: Sequence[float]) -> float:
    """Two-sided one-sample t-test of the differences against 0 (scipy's)."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return 1.0
    if np.all(d == d[0]):  # no spread: scipy returns nan
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_1samp(d, 0.0).pvalue)


def holm(p_values: Sequence[float], alpha: float = ALPHA) -> Tuple[List[float], List[bool],
                                                                   List[float]]:
    """Holm's step-down procedure.

    Returns:
        tuple: adjusted p-values, rejections at ``alpha``, and each hypothesis' own level
        ``alpha / (m - rank)`` (rank 0 for the smallest p-value).
    """
    m = len(p_values)
    order = np.argsort(p_values, kind='stable')
    adjusted, rejected, levels = [0.0] * m, [False] * m, [0.0] * m
    running, still = 0.0, True
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
        levels[index] = alpha / (m - rank)
        still = still and p_values[index] <= levels[index]
        rejected[index] = still
    return adjusted, rejected, levels


def detectable_difference(differences: Sequence[float], alpha: float = ALPHA,
                          power: float = POWER) -> float:
    """The smallest true difference a paired t-test on these K seeds detects with ``power``."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return math.inf
    k = len(d)
    factor = stats.t.ppf(1 - alpha / 2, k - 1) + stats.t.ppf(power, k - 1)
    return float(factor * d.std(ddof=1) / math.sqrt(k))


def compare(values: Dict[str, Sequence[float]],
            contrasts: Sequence[Tuple[str, str]]) -> Tuple[Dict[str, ArmSummary],
                                                           List[ContrastSummary]]:
    """Arm summaries and Holm-corrected paired contrasts of one metric.

    Args:
        values (dict): Arm -> its value per seed, every arm over the same seeds in one order.
        contrasts (list[tuple]): (A, B) pairs; each gives A - B.

    Raises:
        ValueError: an arm of a contrast has no values, or arms have different seed counts.
    """
    counts = {len(v) for v in values.values()}
    if len(counts) > 1:
        raise ValueError(f'paired arms need the same seeds: seed counts {sorted(counts)}')
    arms = {name: summarise_arm(v) for name, v in values.items()}
    for first, second in contrasts:
        for arm in (first, second):
            if arm not in values:
                raise ValueError(f'contrast {first} - {second}: no values for {arm}')
    diffs = [[a - b for a, b in zip(values[first], values[second])]
             for first, second in contrasts]
    p_values = [paired_p_value(d) for d in diffs]
    adjusted, rejected, levels = holm(p_values)
    summaries = []
    for (first, second), d, p, p_adj, rej, level in zip(contrasts, diffs, p_values, adjusted,
                                                        rejected, levels):
        mean, low, high = t_interval(d, alpha=level)
        summaries.append(ContrastSummary(first, second, [float(v) for v in d], mean, low, high,
                                         1 - level, p, p_adj, bool(rej),
                                         detectable_difference(d, alpha=level)))
    return arms, summaries


def verdict(contrast: ContrastSummary, unit: str) -> str:
    """'MEJigClu - JigClu: +0.3 [-0.4, +1.0] probe points: not resolved; this size resolves
    >= 1.1'."""
    head = (f'{contrast.first} - {contrast.second}: {contrast.mean:+.2f} '
            f'[{contrast.low:+.2f}, {contrast.high:+.2f}] {unit}')
    size = ('one seed resolves nothing' if math.isinf(contrast.detectable) else
            f'this size resolves >= {contrast.detectable:.2f}')
    if contrast.resolved:
        better = contrast.first if contrast.mean > 0 else contrast.second
        return f'{head}: resolved ({better} higher, Holm p = {contrast.p_holm:.2g}); {size}'
    return f'{head}: not resolved (Holm p = {contrast.p_holm:.2g}); {size}'


def as_dict(summary) -> dict:
    """A summary as plain JSON-able data (infinities as None)."""
    data = asdict(summary)
    return {key: (None if isinstance(value, float) and not math.isfinite(value) else value)
            for key, value in data.items()}
