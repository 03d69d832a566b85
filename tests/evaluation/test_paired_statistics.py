"""Paired-seed statistics against values computed independently (scipy's distributions, a
hand-worked Holm example, the noncentral t for power)."""
import math

import numpy as np
import pytest
from scipy import stats

from mejigclu_mm.evaluation.paired_statistics import (compare, detectable_difference, holm,
                                                      paired_p_value, t_interval, verdict)


def test_t_interval_is_scipys():
    values = [80.1, 81.3, 79.8, 80.9, 81.0]
    mean, low, high = t_interval(values)
    expected = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values),
                                scale=stats.sem(values))
    assert mean == pytest.approx(np.mean(values))
    assert (low, high) == pytest.approx(expected)


def test_paired_p_value_is_the_one_sample_t_test_of_the_differences():
    a, b = np.array([80.1, 81.3, 79.8, 80.9]), np.array([79.0, 80.7, 79.9, 80.0])
    assert paired_p_value(a - b) == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert paired_p_value([0., 0., 0.]) == 1.0 and paired_p_value([0.5, 0.5]) == 0.0


def test_holm_step_down_by_hand():
    # sorted: 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> monotone 0.06)
    adjusted, rejected, levels = holm([0.01, 0.04, 0.03])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06])
    assert rejected == [True, False, False]  # stops at the first that fails
    assert levels == pytest.approx([0.05 / 3, 0.05, 0.05 / 2])
    assert holm([0.2, 0.001])[1] == [False, True]


def test_the_detectable_difference_has_80_percent_power():
    d = np.random.default_rng(0).normal(0, 1.3, size=6)
    delta = detectable_difference(d)
    k, sd = len(d), d.std(ddof=1)
    t_crit = stats.t.ppf(0.975, k - 1)
    noncentrality = delta / (sd / math.sqrt(k))
    df = k - 1
    power = stats.nct.sf(t_crit, df, noncentrality) + stats.nct.cdf(-t_crit, df, noncentrality)
    assert 0.75 < power < 0.85  # the (t_a + t_b) approximation of the exact power
    assert detectable_difference([1.0]) == math.inf


def test_identical_arms_differ_by_exactly_zero_and_are_not_resolved():
    values = {'A': [80.0, 81.5, 79.2], 'B': [80.0, 81.5, 79.2]}
    _, (contrast, ) = compare(values, [('A', 'B')])
    assert contrast.differences == [0.0, 0.0, 0.0]
    assert contrast.low <= 0 <= contrast.high and not contrast.resolved
    assert 'not resolved' in verdict(contrast, 'probe points')


def test_a_large_consistent_difference_is_resolved_and_holm_is_applied():
    values = {'pre': [82.0, 81.4, 82.6, 81.9], 'rnd': [78.9, 79.2, 79.0, 79.1],
              'other': [79.0, 79.3, 78.8, 79.2]}
    arms, (big, small) = compare(values, [('pre', 'rnd'), ('other', 'rnd')])
    assert big.resolved and big.low > 0 and 'resolved (pre higher' in verdict(big, 'points')
    p = [stats.ttest_rel(values['pre'], values['rnd']).pvalue,
         stats.ttest_rel(values['other'], values['rnd']).pvalue]
    assert big.p_holm == pytest.approx(min(1, 2 * min(p)))
    assert not small.resolved
    assert arms['pre'].mean == pytest.approx(np.mean(values['pre']))
    # the interval is at the contrast's Holm level: 1 - 0.05 / 2 for the smaller p
    assert big.level == pytest.approx(0.975)
    assert (big.low, big.high) == pytest.approx(stats.t.interval(
        0.975, 3, loc=np.mean(big.differences), scale=stats.sem(big.differences)))


def test_unpaired_arms_are_refused():
    with pytest.raises(ValueError, match='paired arms need the same seeds'):
        compare({'A': [1., 2.], 'B': [1.]}, [('A', 'B')])
    with pytest.raises(ValueError, match='no values for C'):
        compare({'A': [1., 2.], 'B': [1., 2.]}, [('A', 'C')])
