"""What a resume compares between the checkpoint's run and the config (issue 27.5)."""
from mejigclu_mm.runtime.run_facts import compare_data, compare_settings, run_facts


def facts(**cfg):
    base = dict(model=dict(type='MEJigClu', backbone=dict(depth=18, init_cfg=dict(x=1))),
                optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.03)),
                param_scheduler=[dict(type='CosineAnnealingLR', T_max=100)],
                train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=100))
    base.update(cfg)
    return run_facts(base)


def test_the_same_settings_compare_equal_and_init_cfg_does_not_count():
    saved = facts()
    assert compare_settings(saved, facts(model=dict(type='MEJigClu',
                                                    backbone=dict(depth=18)))) == ([], [])


def test_an_optimizer_of_another_type_is_refused_naming_both():
    refused, _ = compare_settings(facts(), facts(optim_wrapper=dict(
        optimizer=dict(type='AdamW', lr=0.03))))
    assert refused == ["optim_wrapper.optimizer.type: 'SGD' when saved, 'AdamW' now"]


def test_other_values_warn_and_say_which_goes_on():
    refused, warned = compare_settings(facts(), facts(
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.3)),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=200)))
    assert refused == []
    assert warned[0].startswith("optim_wrapper.optimizer.lr: 0.03 when saved, 0.3 now; the "
                                "checkpoint's value goes on")
    assert warned[1].startswith("train_cfg.max_epochs: 100 when saved, 200 now; the config's "
                                'value applies from here on')


def test_a_checkpoint_without_facts_compares_nothing():
    assert compare_settings(None, facts()) == ([], [])
    assert compare_data(None, dict(dataset_size=3, subsets=None)) == ([], [])


def test_a_dataset_of_another_size_warns_and_a_new_subset_split_is_refused():
    old = dict(dataset_size=60, subsets=None)
    assert compare_data(old, dict(dataset_size=60, subsets=None)) == ([], [])
    refused, warned = compare_data(old, dict(dataset_size=48, subsets=None))
    assert refused == [] and warned[0].startswith('training set: 60 images when saved, 48 now')
    split = dict(split_seed=0, num_subsets=4, dataset_length=60)
    refused, _ = compare_data(dict(dataset_size=60, subsets=split),
                              dict(dataset_size=48, subsets=dict(split, dataset_length=48)))
    assert "(0, 4, 60) when saved, (0, 4, 48) now" in refused[0]
