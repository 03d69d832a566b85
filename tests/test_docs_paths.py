"""Every repository path the README, docs/ and the config folders' READMEs name exists: a
renamed config, tool or module leaves no stale instruction behind."""
import re

import pytest
from conftest import ROOT

DOCUMENTS = sorted(str(p.relative_to(ROOT)) for p in [
    ROOT / 'README.md', *(ROOT / 'docs').glob('*.md'), *(ROOT / 'configs').glob('*/README.md')])
# A path of the repository: a top folder, then names. Patterns for several files (with {a,b},
# * or CAPITALS as placeholders) are not checked, nor the README's examples of a user's own
# configs (configs/custom/).
PATH = re.compile(r'(?<![\w./-])(?:configs|tools|docs|mejigclu_mm|tests|requirements)/'
                  r'[^\s`\'",()\[\]]*')


def named_paths(text):
    for match in PATH.finditer(text):
        path = match.group(0).rstrip('.:;')
        if re.search(r'[{*<]|[A-Z]{3,}', path) or path.startswith('configs/custom/'):
            continue
        yield path


@pytest.mark.parametrize('document', DOCUMENTS)
def test_every_named_path_exists(document):
    text = (ROOT / document).read_text()
    base = (ROOT / document).parent
    missing = sorted({path for path in named_paths(text)
                      if not (ROOT / path).exists() and not (base / path).exists()})
    assert missing == [], f'{document} names paths that do not exist: {missing}'
