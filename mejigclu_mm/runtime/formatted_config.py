"""A run's config that formats its text once per content.

A run asks for ``cfg.pretty_text`` five times, and once more per checkpoint (mmengine 0.10.7's
log, ``vis_data/config.py``, the work dir's copy, the message hub and every checkpoint's meta;
our record of the merged config), and each time yapf formats the whole text again. In the test
suite that was 22 % of the CPU time of the tests that build Runners (py-spy, ten test files);
most of it repeats. :class:`FormattedOnceConfig` keeps the last text with the content it was
made from and formats again only when the content changed: the text is the one mmengine gives.
"""
from mmengine.config import Config


class FormattedOnceConfig(Config):
    """A :class:`mmengine.config.Config` whose ``pretty_text`` is formatted once per content.

    The content is what mmengine's ``pretty_text`` reads: ``to_dict()`` (compared through its
    ``repr``) and whether the text is formatted with yapf. A change of either gives a new text.
    """

    @property
    def pretty_text(self) -> str:
        key = (repr(self.to_dict()), self._format_python_code)
        cached = self.__dict__.get('_pretty_text_of')
        if cached is None or cached[0] != key:
            cached = (key, Config.pretty_text.fget(self))
            object.__setattr__(self, '_pretty_text_of', cached)
        return cached[1]

    @classmethod
    def of(cls, cfg: Config) -> 'FormattedOnceConfig':
        """``cfg`` itself (the same attributes, not a copy) as a :class:`FormattedOnceConfig`."""
        if isinstance(cfg, cls):
            return cfg
        formatted = cls.__new__(cls)
        for key, value in cfg.__dict__.items():
            object.__setattr__(formatted, key, value)
        return formatted
