"""The package's rooms (tools/dev/import_graph.py): imports go only downward, no module circle,
and the method imports nothing of the harness, transfer or evaluation code."""
import import_graph


def test_imports_go_only_downward_and_close_no_circle():
    edges = import_graph.graph()
    assert len(edges) > 50  # the whole package was read
    assert import_graph.layering_problems(edges) == []
    assert import_graph.circles(edges) == []


def test_the_method_stands_on_nothing_but_itself():
    edges = import_graph.graph()
    method = ('augmentation', 'datasets', 'models')
    for source, targets in edges.items():
        if import_graph.part_of(source) in method:
            assert {import_graph.part_of(t) for t in targets} <= set(method), source


def test_an_upward_import_and_a_circle_are_found():
    edges = {'mejigclu_mm.models.a': {'mejigclu_mm.runtime.b'},
             'mejigclu_mm.runtime.b': {'mejigclu_mm.runtime.c'},
             'mejigclu_mm.runtime.c': {'mejigclu_mm.runtime.b'},
             'mejigclu_mm.models.d': {'mejigclu_mm.datasets.e'}}
    problems = import_graph.layering_problems(edges)
    assert any('mejigclu_mm.models.a (method) imports mejigclu_mm.runtime.b' in p
               for p in problems)
    assert any('models/ may use only augmentation' in p for p in problems)
    assert import_graph.circles(edges) == [['mejigclu_mm.runtime.b', 'mejigclu_mm.runtime.c']]


def test_relative_imports_are_resolved(tmp_path):
    package = tmp_path / 'mejigclu_mm' / 'models'
    package.mkdir(parents=True)
    (package / '__init__.py').write_text('from .heads import Head\n')
    (package / 'heads.py').write_text('from ..runtime import x\n')
    known = {'mejigclu_mm.models', 'mejigclu_mm.models.heads', 'mejigclu_mm.runtime'}
    assert import_graph.imports_of('mejigclu_mm.models', package / '__init__.py', known) == {
        'mejigclu_mm.models.heads'}
    assert import_graph.imports_of('mejigclu_mm.models.heads', package / 'heads.py', known) == {
        'mejigclu_mm.runtime'}
