"""conftest.LONGEST_FIRST names modules that exist: a renamed one would quietly lose its place."""
from conftest import LONGEST_FIRST, ROOT


def test_the_longest_modules_listed_first_exist():
    missing = [module for module in LONGEST_FIRST if not (ROOT / module).is_file()]
    assert missing == []
