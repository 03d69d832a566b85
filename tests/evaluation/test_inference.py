"""The whole-image pipeline of a config, and the config mmpretrain's inferencers accept."""
import pytest
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.evaluation.inference import inference_config, inference_pipeline

LINEAR = ROOT / 'configs/mejigclu/benchmarks/resnet50_4xb64-linear-lr10-steplr-100e_in1k.py'
PRETRAIN = ROOT / 'configs/mejigclu/mejigclu_resnet50_4xb64-coslr-200e_in1k.py'
TEST_PIPELINE = [dict(type='CheckedLoadImageFromFile'), dict(type='Resize', scale=(8, 8)),
                 dict(type='PackInputs')]


def test_a_classification_configs_test_pipeline_without_loading():
    pipeline = inference_pipeline(str(LINEAR))
    assert [t['type'] for t in pipeline] == ['ResizeEdge', 'CenterCrop', 'PackInputs']
    cfg = Config.fromfile(LINEAR)
    assert cfg.test_dataloader.dataset.pipeline[0]['type'] == 'LoadImageFromFile'  # unchanged


def test_a_top_level_test_pipeline_and_the_config_for_mmpretrain():
    cfg = Config.fromfile(PRETRAIN)
    assert 'test_dataloader' not in cfg
    cfg.test_pipeline = TEST_PIPELINE
    assert [t['type'] for t in inference_pipeline(cfg)] == ['Resize', 'PackInputs']
    converted = inference_config(cfg)
    assert converted.test_dataloader.dataset.pipeline == inference_pipeline(cfg)
    assert converted.test_dataloader.dataset.type == cfg.train_dataloader.dataset.type
    assert converted.model == cfg.model and 'test_dataloader' not in cfg  # a copy


def test_wrapped_datasets_are_looked_through():
    cfg = Config(dict(test_dataloader=dict(dataset=dict(
        type='RepeatDataset', times=2, dataset=dict(type='ImageNet', pipeline=TEST_PIPELINE)))))
    assert [t['type'] for t in inference_pipeline(cfg)] == ['Resize', 'PackInputs']


def test_a_config_without_one_is_told_what_to_add(tmp_path):
    config = tmp_path / 'no_test_pipeline.py'
    config.write_text(f"_base_ = '{PRETRAIN}'\ntest_pipeline = None\n")
    with pytest.raises(KeyError, match=r'has no test pipeline .* top-level `test_pipeline`'):
        inference_pipeline(str(config))
