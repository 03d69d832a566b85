"""A top-level pipeline that does not reach its dataloader is named (issue 27.9)."""
from conftest import ROOT
from mmengine.config import Config

from mejigclu_mm.runtime.config_checks import pipeline_warnings

JIGCLU = ROOT / 'configs/jigclu/jigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py'


def test_a_redefined_train_pipeline_that_does_not_run_is_named(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{JIGCLU}']\ntrain_pipeline = [dict(type='PackInputs')]\n")
    warnings = pipeline_warnings(Config.fromfile(child))
    assert len(warnings) == 1
    assert warnings[0].startswith(f'{child}: its top-level train_pipeline differs from '
                                  'train_dataloader.dataset.pipeline, which is what the run uses')
    assert 'train_dataloader = dict(dataset=dict(pipeline=train_pipeline))' in warnings[0]


def test_a_child_that_hands_its_pipeline_to_the_dataloader_is_quiet(tmp_path):
    child = tmp_path / 'child.py'
    child.write_text(f"_base_ = ['{JIGCLU}']\ntrain_pipeline = [dict(type='PackInputs')]\n"
                     'train_dataloader = dict(dataset=dict(pipeline=train_pipeline))\n')
    assert pipeline_warnings(Config.fromfile(child)) == []
    assert pipeline_warnings(Config.fromfile(JIGCLU)) == []
