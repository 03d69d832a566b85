"""The one module that overrides mmengine's private methods says so when another mmengine is
installed (issue 25.2)."""
import mmengine
from log_capture import captured_log

from mejigclu_mm.runtime import mmengine_internals


def test_another_mmengine_is_named_once(monkeypatch):
    monkeypatch.setattr(mmengine, '__version__', '9.9.9')
    monkeypatch.setattr(mmengine_internals, '_warned_versions', set())
    with captured_log() as messages:
        assert mmengine_internals.check_mmengine_version() is False
        assert mmengine_internals.check_mmengine_version() is False
    assert len(messages) == 1
    assert (f'was written for mmengine {mmengine_internals.WRITTEN_FOR}, and mmengine 9.9.9 is '
            'installed') in messages[0]
    assert 'Runner._init_model_weights, load_or_resume, dump_config' in messages[0]


def test_a_runner_of_another_class_gets_safe_loading_wrapped_once():
    class Runner:
        def _init_model_weights(self):
            return 'init'

        def load_or_resume(self):
            return 'load'

    runner = Runner()
    assert mmengine_internals.wrap_loading_methods(runner) == ['_init_model_weights',
                                                               'load_or_resume']
    assert mmengine_internals.wrap_loading_methods(runner) == []  # marked: not again
    assert runner.load_or_resume() == 'load'
