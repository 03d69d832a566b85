"""A config from elsewhere gets the guard hooks it lacks; a config's own choices are kept."""
from mmengine.config import Config

from mejigclu_mm.runtime.guard_hooks import GUARD_HOOKS, complete_guard_hooks


def test_missing_guards_are_added_and_named(tmp_path):
    path = tmp_path / 'my_config.py'
    path.write_text("default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=3))\n"
                    "custom_hooks = [dict(type='RandomStateHook', seed_samples=False)]\n")
    cfg = Config.fromfile(path)
    messages = complete_guard_hooks(cfg)
    hooks = cfg.default_hooks
    # the config's own RandomStateHook (in custom_hooks) is kept and not doubled
    assert 'random_state' not in hooks
    assert {key for key in GUARD_HOOKS if key in hooks} == {
        'safe_checkpoint', 'dataloader_check', 'non_finite_loss'}
    assert hooks.checkpoint == dict(type='mmpretrain.AtomicCheckpointHook', interval=3)
    assert messages[0].startswith(f'{path} does not list SafeCheckpointHook, '
                                  'DataloaderCheckHook, NonFiniteLossHook')
    assert "default_hooks.checkpoint is mmengine's CheckpointHook" in messages[1]


def test_a_guard_switched_off_and_another_checkpoint_hook_are_kept():
    cfg = Config(dict(default_hooks=dict(checkpoint=dict(type='MyCheckpointHook', interval=3),
                                         random_state=None)))
    messages = complete_guard_hooks(cfg)
    assert cfg.default_hooks.random_state is None
    assert cfg.default_hooks.checkpoint.type == 'MyCheckpointHook'
    assert 'default_hooks.checkpoint is MyCheckpointHook, kept as the config says' in messages[-1]


def test_a_complete_config_is_left_alone():
    cfg = Config(dict(default_hooks=dict(
        checkpoint=dict(type='mmpretrain.AtomicCheckpointHook'),
        **{key: dict(type=f'mmpretrain.{name}') for key, name in GUARD_HOOKS.items()})))
    before = cfg.to_dict()
    assert complete_guard_hooks(cfg) == [] and cfg.to_dict() == before
