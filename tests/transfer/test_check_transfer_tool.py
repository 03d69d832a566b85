"""tools/check_transfer.py CONFIG CHECKPOINT: the transfer guard's verdict from the command line,
for mmdet configs and detectron2 YAML recipes (issue 26.5)."""
import check_transfer
import pytest
import torch
from conftest import ROOT

D2_RECIPE = ROOT / 'configs/mejigclu/benchmarks/detectron2/faster_rcnn_R_50_FPN_SyncBN_4conv1fc_bs8-180k_coco.yaml'  # noqa: E501
FASHION_DET = ROOT / 'configs/mejigclu/benchmarks/mmdetection/faster-rcnn_r18-cifar_fpn_1xb8-6e_fashion-scenes.py'  # noqa: E501


@pytest.fixture(scope='module')
def d2_export(r50_pretrain_checkpoint, tmp_path_factory):
    pytest.importorskip('detectron2')
    from export_sources import detectron2_exports
    return detectron2_exports(r50_pretrain_checkpoint, tmp_path_factory.mktemp('d2'))['ours']


def test_the_shipped_detectron2_recipe_passes(d2_export, capsys):
    assert check_transfer.main([str(D2_RECIPE), str(d2_export)]) == 0
    assert 'transfer guard: OK: stage 4' in capsys.readouterr().out


def test_detectron2s_default_stride_placement_is_refused_by_name(d2_export, tmp_path, capsys):
    config = tmp_path / 'stride_in_1x1.yaml'
    config.write_text(f'_BASE_: "{D2_RECIPE}"\nMODEL:\n  RESNETS:\n    STRIDE_IN_1X1: True\n'
                      f'VERSION: 2\n')
    assert check_transfer.main([str(config), str(d2_export)]) == 1
    out = capsys.readouterr().out
    assert "stride placement: the detector's blocks are style='caffe'" in out
    assert 'STRIDE_IN_1X1 True' in out


def test_a_converted_file_of_another_depth_is_refused_naming_both(tmp_path, capsys):
    import convert_weights
    from mmengine.registry import init_default_scope

    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    src = tmp_path / 'r34.pth'
    state = MODELS.build(dict(type='ResNet_CIFAR', depth=34)).state_dict()
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in state.items()}}, src)
    converted = tmp_path / 'r34_mmdet.pth'
    assert convert_weights.main([str(src), str(converted), '--to', 'mmdet']) == 0
    assert check_transfer.main([str(FASHION_DET), str(converted)]) == 1
    assert 'ResNet-34' in capsys.readouterr().out


def test_bgr_input_in_an_mmdet_config_is_refused_by_name(tmp_path, capsys):
    from export_sources import backbone_state, source_resnet50
    checkpoint = tmp_path / 'r50.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in
                               backbone_state(source_resnet50()).items()}}, checkpoint)
    config = tmp_path / 'bgr.py'
    config.write_text(f"_base_ = '{ROOT}/configs/mejigclu/benchmarks/mmdetection/"
                      f"faster-rcnn_r50_fpn_syncbn_1x_coco.py'\n"
                      f"model = dict(data_preprocessor=dict(bgr_to_rgb=False))\n")
    assert check_transfer.main([str(config), str(checkpoint)]) == 1
    assert "channel order: the detector's backbone sees BGR" in capsys.readouterr().out
