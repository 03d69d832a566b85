"""The import graph of mejigclu_mm: which module imports which, by room, and its layering.

Usage:
    python tools/dev/import_graph.py [--mermaid] [--check]

The package has rooms, lowest first (a room may import only from rooms below it, and from
itself):

    utils       the model index, the offline data's location
    method      augmentation/, datasets/, models/ (models and datasets may use augmentation)
    runtime     the guards of an mmengine run
    transfer    checkpoint layouts, converters, the strict initialiser
    evaluation  frozen-feature probes, the kNN monitor
    cli         what only the command-line tools use

``--check`` exits 1 naming every import that goes up or sideways, and every circle between
modules (a package's ``__init__`` counts as a module: a submodule that imports its own
package's ``__init__`` closes a circle). ``--mermaid`` prints the rooms and their arrows as a
Mermaid flowchart (docs/architecture.md holds its output). The graph is read from the source
(``ast``), nothing is imported.
"""
import argparse
import ast
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = 'mejigclu_mm'
# room -> the top-level sub-packages it holds; ROOMS is ordered lowest first
ROOMS = (
    ('utils', ('utils', )),
    ('method', ('augmentation', 'datasets', 'models')),
    ('runtime', ('runtime', )),
    ('transfer', ('transfer', )),
    ('evaluation', ('evaluation', )),
    ('cli', ('cli', )),
)
# inside the method room: what each part may import besides itself
METHOD_PARTS = {'augmentation': (), 'datasets': ('augmentation', ), 'models': ('augmentation', )}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix('').parts)
    if parts[-1] == '__init__':
        parts = parts[:-1]
    return '.'.join(parts)


def modules() -> Dict[str, Path]:
    """Every module of the package, by dotted name."""
    return {module_name(p): p for p in sorted((ROOT / PACKAGE).rglob('*.py'))
            if '.mim' not in p.parts}


def imports_of(name: str, path: Path, known: Set[str]) -> Set[str]:
    """The package's modules that ``name`` imports (a name imported from a package that is a
    submodule counts as that submodule)."""
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == '__init__.py'
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = name.split('.')
                anchor = anchor[:len(anchor) - node.level + (1 if is_package else 0)]
                base = '.'.join(anchor + ([base] if base else []))
            targets = [base] + [f'{base}.{alias.name}' for alias in node.names]
        else:
            continue
        for target in targets:
            if target in known and target != name:
                found.add(target)
    # 'from pkg import submodule' names the submodule, not only pkg
    return found


def graph() -> Dict[str, Set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def part_of(module: str) -> str:
    pieces = module.split('.')
    return pieces[1] if len(pieces) > 1 else ''


def room_of(module: str) -> Tuple[int, str]:
    part = part_of(module)
    for level, (room, parts) in enumerate(ROOMS):
        if part in parts:
            return level, room
    return len(ROOMS), 'top'  # mejigclu_mm/__init__.py: registers every room


def layering_problems(edges: Dict[str, Set[str]]) -> List[str]:
    """Imports that go to a higher room, or sideways between parts of the method."""
    problems = []
    for source, targets in sorted(edges.items()):
        level, room = room_of(source)
        for target in sorted(targets):
            target_level, target_room = room_of(target)
            if target_level > level:
                problems.append(f'{source} ({room}) imports {target} ({target_room}): upward')
            elif room == 'method' and target_room == 'method':
                part, other = part_of(source), part_of(target)
                if other != part and other not in METHOD_PARTS[part]:
                    problems.append(f'{source} imports {target}: {part}/ may use only '
                                    f'{", ".join(METHOD_PARTS[part]) or "itself"}')
    return problems


def circles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    counter = [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def room_edges(edges: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    """Arrows between rooms (the method room split into its parts)."""
    def label(module):
        level, room = room_of(module)
        return part_of(module) if room == 'method' else room

    arrows = defaultdict(set)
    for source, targets in edges.items():
        for target in targets:
            if label(source) != label(target):
                arrows[label(source)].add(label(target))
    return arrows


def mermaid(edges: Dict[str, Set[str]]) -> str:
    lines = ['flowchart TD']
    lines += ['  subgraph method', '    models', '    datasets', '    augmentation', '  end']
    for source, targets in sorted(room_edges(edges).items()):
        lines += [f'  {source} --> {target}' for target in sorted(targets)]
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mermaid', action='store_true', help='print the rooms as Mermaid')
    parser.add_argument('--check', action='store_true', help='exit 1 on upward imports or '
                        'circles')
    args = parser.parse_args(argv)
    edges = graph()
    if args.mermaid:
        print(mermaid(edges))
    problems = layering_problems(edges) + [
        'circle: ' + ' -> '.join(component) for component in circles(edges)]
    if args.check or not args.mermaid:
        for problem in problems:
            print(problem)
        print(f'{len(edges)} modules, {sum(map(len, edges.values()))} imports, '
              f'{len(problems)} problem(s)')
    return 1 if args.check and problems else 0


if __name__ == '__main__':
    sys.exit(main())
