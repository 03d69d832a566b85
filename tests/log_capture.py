"""Collect what mmengine's current logger (``print_log(..., logger='current')``) writes."""
import contextlib
import logging


class _Collect(logging.Handler):

    def __init__(self, messages):
        super().__init__(logging.DEBUG)
        self.messages = messages

    def emit(self, record):
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def captured_log():
    """Yield a list that receives the messages of mmengine's current logger in the block (a
    Runner built inside the block becomes the current logger: read its log file instead)."""
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    messages = []
    handler = _Collect(messages)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
