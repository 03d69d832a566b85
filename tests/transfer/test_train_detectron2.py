"""tools/train_detectron2.py and the JigClu recipes in configs/mejigclu/benchmarks/detectron2/,
in detectron2 v0.6 (the test stand-in of tools/setup_env.sh)."""
import json
import shutil

import pytest
import train_detectron2
from conftest import ROOT
from export_sources import detectron2_exports

from mejigclu_mm.transfer import detectron2_settings
from mejigclu_mm.transfer.detectron2_recipes import RecipeConfigError, detectron2_recipe_config
from mejigclu_mm.transfer.detectron2_settings import settings_conflicts

pytest.importorskip('detectron2')
from detectron2 import model_zoo  # noqa: E402
from detectron2.config import get_cfg  # noqa: E402

RECIPES = ROOT / 'configs/mejigclu/benchmarks/detectron2'
COCO = RECIPES / 'faster_rcnn_R_50_FPN_SyncBN_4conv1fc_bs8-180k_coco.yaml'
VOC = RECIPES / 'faster_rcnn_R_50_FPN_SyncBN_4conv1fc_bs8-24k_voc0712.yaml'


@pytest.fixture(scope='module')
def exports(r50_pretrain_checkpoint, tmp_path_factory):
    return detectron2_exports(r50_pretrain_checkpoint, tmp_path_factory.getbasetemp())


def check_jigclu_detector(cfg):
    """R50-JigClu.yaml's detector on detectron2's Base-RCNN-FPN.yaml."""
    model = cfg.MODEL
    assert model.META_ARCHITECTURE == 'GeneralizedRCNN'
    assert model.BACKBONE.NAME == 'build_resnet_fpn_backbone' and model.BACKBONE.FREEZE_AT == 0
    assert model.RESNETS.DEPTH == 50 and model.RESNETS.NORM == 'SyncBN'
    assert model.RESNETS.OUT_FEATURES == ['res2', 'res3', 'res4', 'res5']
    assert model.FPN.NORM == 'SyncBN'
    head = model.ROI_BOX_HEAD
    assert (head.NAME, head.NUM_CONV, head.NUM_FC, head.NORM) == ('FastRCNNConvFCHead', 4, 1,
                                                                 'SyncBN')
    assert (model.RPN.PRE_NMS_TOPK_TEST, model.RPN.POST_NMS_TOPK_TEST) == (6000, 1000)
    assert cfg.TEST.PRECISE_BN.ENABLED is True
    assert (cfg.SOLVER.IMS_PER_BATCH, cfg.SOLVER.BASE_LR) == (8, 0.01)
    # what torchvision-style weights need, as --to detectron2 writes it for a ResNet-50
    assert settings_conflicts(cfg, detectron2_settings('r50_d2.pkl', 50)) == {}
    assert model.WEIGHTS == ''  # given by --weights


def test_coco_recipe_is_jigclus(tmp_path):
    cfg = detectron2_recipe_config(str(COCO))
    check_jigclu_detector(cfg)
    assert (cfg.SOLVER.MAX_ITER, cfg.SOLVER.STEPS) == (180000, (120000, 160000))
    assert cfg.SOLVER.WARMUP_ITERS == 1000  # detectron2's default: the recipe does not set it
    assert cfg.DATASETS.TRAIN == ('coco_2017_train', ) and cfg.DATASETS.TEST == (
        'coco_2017_val', )
    assert cfg.MODEL.ROI_HEADS.NUM_CLASSES == 80


def test_voc_recipe_is_jigclus():
    cfg = detectron2_recipe_config(str(VOC))
    check_jigclu_detector(cfg)
    assert (cfg.SOLVER.MAX_ITER, cfg.SOLVER.STEPS) == (24000, (18000, 22000))
    assert cfg.SOLVER.WARMUP_ITERS == 100
    assert cfg.MODEL.ROI_HEADS.NUM_CLASSES == 20
    assert cfg.INPUT.MIN_SIZE_TRAIN == tuple(range(480, 801, 32)) and cfg.INPUT.MIN_SIZE_TEST == 800
    assert cfg.DATASETS.TRAIN == ('voc_2007_trainval', 'voc_2012_trainval')
    assert cfg.DATASETS.TEST == ('voc_2007_test', )


@pytest.mark.parametrize('recipe', [COCO, VOC], ids=['coco', 'voc'])
def test_plain_merge_from_file_beside_detectron2s_base_gives_the_same_config(recipe, tmp_path):
    """The route the recipe's header gives for detectron2's own train_net.py: the files copied
    into detectron2's configs/ folder, read by get_cfg().merge_from_file alone."""
    shutil.copy(model_zoo.get_config_file('Base-RCNN-FPN.yaml'), tmp_path)
    for path in (COCO, VOC):
        shutil.copy(path, tmp_path)
    cfg = get_cfg()
    cfg.merge_from_file(str(tmp_path / recipe.name))
    assert cfg.dump() == detectron2_recipe_config(str(recipe)).dump()
    assert '_BASE_: "Base-RCNN-FPN.yaml"' in COCO.read_text()  # detectron2's own, not a copy
    assert not (RECIPES / 'Base-RCNN-FPN.yaml').exists()


def test_a_base_found_nowhere_is_named(tmp_path):
    config = tmp_path / 'mine.yaml'
    config.write_text('_BASE_: "Base-RCNN-FPM.yaml"\nVERSION: 2\n')
    with pytest.raises(RecipeConfigError, match=r"mine.yaml: _BASE_ 'Base-RCNN-FPM.yaml' is "
                       r"neither beside the file nor in detectron2's model zoo"):
        detectron2_recipe_config(str(config))


def run_tool(capsys, *argv):
    code = train_detectron2.main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_a_config_contradicting_the_weights_is_refused_before_anything_is_built(
        exports, tmp_path, capsys):
    pkl = exports['ours']
    code, err = run_tool(capsys, '--weights', pkl, '--work-dir', tmp_path / 'run', COCO,
                         'MODEL.RESNETS.STRIDE_IN_1X1', 'True', 'INPUT.FORMAT', 'BGR')
    assert code == 1
    assert f'the config contradicts the settings of {pkl} ({pkl.with_suffix(".yaml")})' in err
    assert "MODEL.RESNETS.STRIDE_IN_1X1: the weights need False, the config has True" in err
    assert "INPUT.FORMAT: the weights need 'RGB', the config has 'BGR'" in err
    assert not (tmp_path / 'run').exists()


def test_weights_without_their_settings_file_are_refused(exports, tmp_path, capsys):
    pkl = tmp_path / 'moved.pkl'
    shutil.copy(exports['ours'], pkl)
    code, err = run_tool(capsys, '--weights', pkl, COCO)
    assert code == 1 and f'{tmp_path / "moved.yaml"} is missing' in err
    assert f'tools/convert_weights.py SRC {pkl} --to detectron2' in err
    code, err = run_tool(capsys, '--weights', tmp_path / 'none.pkl', COCO)
    assert code == 1 and 'none.pkl: no such file' in err


@pytest.mark.slow
def test_one_step_on_fashion_scenes_then_coco_evaluation(exports, fashion_scenes_root, tmp_path,
                                                         capsys):
    """The COCO recipe's detector (SyncBN, 4conv1fc, precise BN) trained one step on the CPU
    from our export on real-garment scenes registered as COCO datasets, then evaluated on the
    validation scenes by detectron2's COCOEvaluator (pycocotools' path: no compiled ops)."""
    work_dir = tmp_path / 'run'
    annotations, images = fashion_scenes_root / 'annotations', fashion_scenes_root / 'images'
    code = train_detectron2.main([
        '--weights', str(exports['ours']), '--work-dir', str(work_dir),
        '--coco-dataset', 'scenes_train', str(annotations / 'train.json'), str(images),
        '--coco-dataset', 'scenes_val', str(annotations / 'val.json'), str(images),
        str(COCO), 'MODEL.DEVICE', 'cpu', 'SEED', '0', 'DATALOADER.NUM_WORKERS', '0',
        'DATASETS.TRAIN', "('scenes_train',)", 'DATASETS.TEST', "('scenes_val',)",
        'MODEL.ROI_HEADS.NUM_CLASSES', '10', 'INPUT.MIN_SIZE_TRAIN', '(64,)',
        'INPUT.MAX_SIZE_TRAIN', '64', 'INPUT.MIN_SIZE_TEST', '64', 'INPUT.MAX_SIZE_TEST', '64',
        'SOLVER.IMS_PER_BATCH', '2', 'SOLVER.MAX_ITER', '1', 'TEST.PRECISE_BN.NUM_ITER', '1'])
    assert code == 0
    lines = [json.loads(line) for line in (work_dir / 'metrics.json').read_text().splitlines()]
    (step, ) = [line for line in lines if 'total_loss' in line]
    assert step['iteration'] == 0 and 0 < step['total_loss'] < 100
    (evaluation, ) = [line for line in lines if 'bbox/AP' in line]
    assert 0 <= evaluation['bbox/AP'] <= 100 or evaluation['bbox/AP'] != evaluation['bbox/AP']
    predictions = json.loads((work_dir / 'inference' / 'coco_instances_results.json').read_text())
    val = json.loads((annotations / 'val.json').read_text())
    assert {p['image_id'] for p in predictions} <= {image['id'] for image in val['images']}
    assert (work_dir / 'model_final.pth').exists()
