"""What a benchmark section is: a name, its settings with CPU and GPU defaults, a run function."""
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

import torch


@dataclass
class RunContext:
    """What every section gets besides its settings.

    Args:
        device (str): ``'cpu'`` or ``'cuda'``.
        seed (int): Seed set before the section runs.
    """
    device: str
    seed: int = 0

    @property
    def on_gpu(self) -> bool:
        return self.device == 'cuda'


@dataclass(frozen=True)
class Section:
    """One benchmark section of ``tools/benchmark.py``.

    Args:
        name (str): Name used by ``--only`` and ``--set NAME.FIELD=VALUE``.
        title (str): One-line title printed above the section's output.
        description (str): What is measured and how (shown by ``--help``).
        settings (type): A dataclass; its field defaults are the CPU defaults and each field's
            ``metadata['help']`` says what it is.
        run (Callable): ``run(settings, context) -> SectionReport``.
        cuda_defaults (dict): Field values that replace the defaults when ``--device cuda``
            (the paper's sizes).
    """
    name: str
    title: str
    description: str
    settings: type
    run: Callable
    cuda_defaults: Dict[str, Any] = field(default_factory=dict)

    def default_settings(self, device: str):
        """The settings this section uses on ``device`` unless told otherwise."""
        values = dict(self.cuda_defaults) if device == 'cuda' else {}
        return self.settings(**values)

    def help_lines(self) -> List[str]:
        """``--help`` text: description, then every setting with its CPU / GPU default."""
        lines = [f'{self.name}: {self.title}', *[f'    {line}' for line in
                                                 self.description.strip().splitlines()]]
        cpu, gpu = self.default_settings('cpu'), self.default_settings('cuda')
        for item in dataclasses.fields(self.settings):
            default = format_value(getattr(cpu, item.name))
            on_gpu = format_value(getattr(gpu, item.name))
            where = default if default == on_gpu else f'{default} (cuda: {on_gpu})'
            lines.append(f'    {self.name}.{item.name} = {where}: {item.metadata.get("help", "")}')
        return lines


def setting(default: Any, help: str) -> Any:  # noqa: A002  (mirrors argparse's keyword)
    """A settings field with its ``--help`` text.

    Args:
        default: CPU default; tuples are copied per instance.
        help (str): What the setting controls.
    """
    return field(default=default, metadata={'help': help})


def format_value(value: Any) -> str:
    """Settings values as ``--set`` accepts them (tuples as comma-separated lists)."""
    if isinstance(value, (tuple, list)):
        return ','.join(format_value(v) for v in value)
    return str(value)


def parse_value(text: str, current: Any) -> Any:
    """Parse ``text`` into the type of the setting's current value.

    Args:
        text (str): The value from ``--set`` (``a,b,c`` for tuples, ``none`` for None).
        current: The current value, which decides the type.

    Raises:
        ValueError: text that does not fit the type.
    """
    if text.lower() == 'none':
        return None
    if isinstance(current, bool):
        if text.lower() not in ('true', 'false', '1', '0', 'yes', 'no'):
            raise ValueError(f'expected a boolean, got {text!r}')
        return text.lower() in ('true', '1', 'yes')
    if isinstance(current, tuple):
        item = current[0] if current else ''
        return tuple(parse_value(part, item) for part in text.split(',') if part)
    if isinstance(current, (int, float)):
        return type(current)(text)
    return text


def settings_line(settings: Any, context: RunContext, extra: Optional[Dict[str, Any]] = None
                  ) -> str:
    """One line with every setting of a section, the device and the thread count."""
    values = {item.name: format_value(getattr(settings, item.name))
              for item in dataclasses.fields(settings)}
    values.update({key: format_value(value) for key, value in (extra or {}).items()})
    values['device'] = context.device
    values['torch threads'] = torch.get_num_threads()
    return 'settings: ' + ', '.join(f'{key}={value}' for key, value in values.items())
