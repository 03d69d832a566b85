"""``--cfg-options KEY=VALUE ...`` that keeps each value as it was typed.

mmengine 0.10.7's ``DictAction`` removes every space of a value before parsing it, so
``data_root="/data/my photos/"`` becomes ``/data/myphotos/``. :class:`DictAction` here parses
lists, tuples, numbers, booleans and None as mmengine's does, and keeps spaces: an element is
stripped at its ends only, and a quoted element (``'...'`` or ``"..."``) is a string taken
verbatim, commas and brackets included. A quoted value that is a whole list or tuple
(``key="[a,b]"``, mmengine's documented form) is still parsed as one.
"""
import argparse
from typing import Any, List

from mmengine.config import DictAction as MMEngineDictAction

QUOTES = ('"', "'")
OPENING, CLOSING = '([', ')]'


def _quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] in QUOTES and text[-1] == text[0]


def split_elements(text: str) -> List[str]:
    """``text`` split at the commas outside brackets and quotes.

    Raises:
        ValueError: unbalanced brackets or an unclosed quote.
    """
    elements, depth, quote, start = [], 0, None, 0
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in QUOTES:
            quote = char
        elif char in OPENING:
            depth += 1
        elif char in CLOSING:
            depth -= 1
            if depth < 0:
                raise ValueError(f'unbalanced brackets in {text!r}')
        elif char == ',' and depth == 0:
            elements.append(text[start:index])
            start = index + 1
    if quote or depth:
        raise ValueError(f'{"an unclosed quote" if quote else "unbalanced brackets"} in '
                         f'{text!r}')
    elements.append(text[start:])
    return elements


def parse_value(text: str, top: bool = True) -> Any:
    """One ``--cfg-options`` value: list / tuple / number / bool / None / string.

    Args:
        text (str): The value as typed (after the shell).
        top (bool): Whether ``text`` is the whole value (a comma then makes a list, as in
            mmengine: ``key=a,b``).

    Returns:
        The parsed value.
    """
    text = text.strip()
    if _quoted(text):
        inner = text[1:-1]
        if top and inner.strip()[:1] in OPENING:
            return parse_value(inner, top=True)  # key="[a, b]": mmengine's list form
        return inner
    is_tuple = text.startswith('(') and text.endswith(')')
    if is_tuple or (text.startswith('[') and text.endswith(']')):
        inner = text[1:-1]
        values = [parse_value(item, top=False) for item in split_elements(inner)] \
            if inner.strip() else []
        return tuple(values) if is_tuple else values
    elements = split_elements(text)
    if len(elements) > 1:
        return [parse_value(item, top=False) for item in elements if item.strip()]
    return MMEngineDictAction._parse_int_float_bool(text)


class DictAction(argparse.Action):
    """argparse action: ``KEY=VALUE`` pairs into a dict, values parsed by
    :func:`parse_value` (spaces kept); a pair without ``=`` is an error naming it."""

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        for pair in values or []:
            key, sep, value = pair.partition('=')
            if not sep or not key:
                parser.error(f'{option_string or "--cfg-options"}: {pair!r} is not KEY=VALUE '
                             '(a value with spaces must be one argument: quote it, e.g. '
                             'data_root="/data/my photos/")')
            try:
                options[key] = parse_value(value)
            except ValueError as error:
                parser.error(f'{option_string or "--cfg-options"} {key}: {error}')
        setattr(namespace, self.dest, options)
