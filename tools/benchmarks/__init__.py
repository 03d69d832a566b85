"""Sections of ``tools/benchmark.py``: one module per measurement, plus shared helpers.

Every section module defines a ``SECTION`` (:class:`benchmarks.section.Section`): its settings
(a dataclass whose defaults fit a 2-core CPU, with the paper's sizes for ``--device cuda``) and
a ``run`` function that returns a :class:`benchmarks.report.SectionReport`. The list of
sections, in the order they run, is :data:`benchmarks.sections.SECTIONS`.
"""
