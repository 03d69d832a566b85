"""All sections of ``tools/benchmark.py``, in the order they run."""
from . import (channels_last, cpu_pipeline, end_to_end, exchange, model_step, neck,
               photometric)

SECTIONS = (model_step.SECTION, end_to_end.SECTION, cpu_pipeline.SECTION, photometric.SECTION,
            neck.SECTION, exchange.SECTION, channels_last.SECTION)
BY_NAME = {section.name: section for section in SECTIONS}
