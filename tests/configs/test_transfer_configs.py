"""Every linear / semi-supervised / detection config builds and runs an iteration on real
images in its data set's layout, with the backbone initialised from converted weights."""
import copy

import convert_weights
import pytest
import torch
from conftest import ROOT
from mmengine.config import Config
from mmengine.runner import Runner

LINEAR = ROOT / 'configs' / 'mejigclu' / 'benchmarks'
DET = LINEAR / 'mmdetection'


def light_loader(loader, data_root, **dataset):
    """Single-process, tiny-batch version of a dataloader config on another data root."""
    loader.update(num_workers=0, persistent_workers=False, batch_size=2)
    loader.dataset.update(data_root=str(data_root), **dataset)
    return loader


def load_for_test(config, work_dir, max_epochs=1):
    cfg = Config.fromfile(config)
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = max_epochs
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    return cfg


def backbone_state(module):
    return {k: v.detach().clone() for k, v in module.backbone.state_dict().items()}


@pytest.mark.parametrize('name', ['resnet50_4xb64-linear-lr10-steplr-100e_in1k.py',
                                  'resnet50_4xb64-linear-lr30-steplr-100e_in1k.py'])
def test_linear_eval_trains_the_head_only(name, imagenet_format_root, r50_pretrain_checkpoint,
                                          tmp_path):
    cfg = load_for_test(LINEAR / name, tmp_path)
    assert cfg.optim_wrapper.optimizer.lr == (10. if 'lr10' in name else 30.)
    cfg.model.backbone.init_cfg.checkpoint = str(r50_pretrain_checkpoint)
    light_loader(cfg.train_dataloader, imagenet_format_root, indices=4)
    light_loader(cfg.val_dataloader, imagenet_format_root, indices=2)
    cfg.test_dataloader = cfg.val_dataloader
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    pretrained = {k[len('backbone.'):]: v for k, v in
                  torch.load(r50_pretrain_checkpoint, weights_only=True)['state_dict'].items()
                  if k.startswith('backbone.')}
    after = backbone_state(model)
    assert set(after) == set(pretrained)
    for key, value in after.items():  # weights and BN statistics, counters included
        assert torch.equal(value, pretrained[key]), key
    assert runner.iter == 2
    assert 'val/accuracy/top1' in runner.message_hub.log_scalars


@pytest.mark.parametrize('fraction,backbone_lr,head_lr', [('1pct', 0.02, 5.0),
                                                            ('10pct', 0.01, 0.2)])
def test_semi_supervised_applies_both_learning_rates(fraction, backbone_lr, head_lr,
                                                     imagenet_format_root,
                                                     r50_pretrain_checkpoint, tmp_path):
    cfg = load_for_test(LINEAR / f'resnet50_4xb64-semi-{fraction}-steplr-100e_in1k.py', tmp_path)
    cfg.model.backbone.init_cfg.checkpoint = str(r50_pretrain_checkpoint)
    light_loader(cfg.train_dataloader, imagenet_format_root)
    light_loader(cfg.val_dataloader, imagenet_format_root, indices=2)
    cfg.test_dataloader = cfg.val_dataloader
    runner = Runner.from_cfg(cfg)
    before = backbone_state(runner.model)
    runner.train()
    groups = runner.optim_wrapper.optimizer.param_groups
    names = {id(p): n for n, p in runner.model.named_parameters()}
    for group in groups:
        for param in group['params']:
            expected = head_lr if names[id(param)].startswith('head.') else backbone_lr
            assert group['initial_lr'] == pytest.approx(expected), names[id(param)]
            assert group['weight_decay'] == 0
    subset = (imagenet_format_root / 'meta' / f'train_{fraction[:-3]}percent.txt').read_text()
    assert len(runner.train_dataloader.dataset) == len(subset.split('\n'))
    after = backbone_state(runner.model)
    assert not torch.equal(after['conv1.weight'], before['conv1.weight'])  # fine-tuned


def test_fashion_mnist_linear_eval(fashion_mnist_format_root, tmp_path):
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    init_default_scope('mmpretrain')
    pretrain = Config.fromfile(
        ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
    src = tmp_path / 'pretrain.pth'
    torch.save({'state_dict': MODELS.build(pretrain.model).state_dict()}, src)
    cfg = load_for_test(LINEAR / 'resnet18-cifar_1xb256-linear-steplr-100e_fashion-mnist.py',
                        tmp_path / 'work')
    cfg.model.backbone.init_cfg.checkpoint = str(src)
    cfg.train_cfg.val_interval = 1
    light_loader(cfg.train_dataloader, fashion_mnist_format_root)
    light_loader(cfg.val_dataloader, fashion_mnist_format_root)
    cfg.test_dataloader = cfg.val_dataloader
    runner = Runner.from_cfg(cfg)
    assert len(runner.val_dataloader.dataset) == 20  # the test split, not the training one
    assert len(runner.train_dataloader.dataset) == 60
    runner.train()
    metrics = runner.val_loop.run()
    assert 0 <= metrics['accuracy/top1'] <= 100
    pretrained = torch.load(src, weights_only=True)['state_dict']
    for key, value in backbone_state(runner.model).items():
        assert torch.equal(value, pretrained[f'backbone.{key}']), key
    # The config's ChannelsLastHook is there and, on a CPU (not in its devices), left the
    # loaded weights in PyTorch's default layout.
    hooks = [h for h in runner.hooks if type(h).__name__ == 'ChannelsLastHook']
    assert len(hooks) == 1 and hooks[0].devices == ('cuda', )
    assert runner.model.backbone.layer1[0].conv2.weight.is_contiguous()


def converted(r50_pretrain_checkpoint, tmp_path):
    dst = tmp_path / 'r50_mmdet.pth'
    assert convert_weights.main([str(r50_pretrain_checkpoint), str(dst), '--to', 'mmdet']) == 0
    return str(dst)


def small_scales(pipeline, scale):
    for transform in pipeline:
        if transform.type == 'RandomChoiceResize':
            transform.scales = [scale]
        elif transform.type == 'Resize':
            transform.scale = scale


def few_regions(model):
    """64 sampled RoIs for the box head and 100 proposals (512 and 1000 in the configs): the
    box head's four convolutions over them took half of the two one-iteration tests' time on a
    CPU (42 s -> 23 s serial)."""
    model.train_cfg.rcnn.sampler.num = 64
    model.train_cfg.rpn_proposal.max_per_img = model.test_cfg.rpn.max_per_img = 100


def test_faster_rcnn_coco_config_one_iteration(deepforest_coco_root, r50_pretrain_checkpoint,
                                               tmp_path):
    cfg = load_for_test(DET / 'faster-rcnn_r50_fpn_syncbn_1x_coco.py', tmp_path)
    assert cfg.model.backbone.frozen_stages == -1 and cfg.model.backbone.norm_eval is False
    assert cfg.model.roi_head.bbox_head.type == 'Shared4Conv1FCBBoxHead'
    assert {cfg.model.backbone.norm_cfg.type, cfg.model.neck.norm_cfg.type,
            cfg.model.roi_head.bbox_head.norm_cfg.type} == {'SyncBN'}
    cfg.model.backbone.init_cfg.checkpoint = converted(r50_pretrain_checkpoint, tmp_path)
    coco = dict(metainfo=dict(classes=('tree', )), data_prefix=dict(img='images/'))
    cfg.model.roi_head.bbox_head.num_classes = 1  # the data's (DetectionDataCheckHook checks)
    light_loader(cfg.train_dataloader, deepforest_coco_root, indices=2,
                 ann_file='annotations/train.json', **coco)
    small_scales(cfg.train_dataloader.dataset.pipeline, (320, 192))
    few_regions(cfg.model)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    assert torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))


def test_faster_rcnn_voc_config_one_iteration(voc_format_root, r50_pretrain_checkpoint,
                                              tmp_path):
    cfg = Config.fromfile(DET / 'faster-rcnn_r50_fpn_syncbn_24k_voc0712.py')
    assert cfg.train_cfg.max_iters == 24000 and cfg.model.roi_head.bbox_head.num_classes == 20
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    cfg.model.backbone.init_cfg.checkpoint = converted(r50_pretrain_checkpoint, tmp_path)
    cfg.model.roi_head.bbox_head.num_classes = 1  # the data's (DetectionDataCheckHook checks)
    cfg.train_dataloader.update(num_workers=0, persistent_workers=False, batch_size=1)
    for dataset in cfg.train_dataloader.dataset.datasets:
        dataset.update(data_root=str(voc_format_root) + '/', metainfo=dict(classes=('Tree', )))
        small_scales(dataset.pipeline, (320, 192))
    light_loader(cfg.val_dataloader, str(voc_format_root) + '/', metainfo=dict(classes=('Tree', )))
    small_scales(cfg.val_dataloader.dataset.pipeline, (320, 192))
    few_regions(cfg.model)
    cfg.test_dataloader = cfg.val_dataloader
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 1
    scalars = runner.message_hub.log_scalars
    thresholds = [f'val/pascal_voc/AP{t}' for t in range(50, 100, 5)]
    assert all(key in scalars for key in thresholds)  # AP50, AP55, ..., AP95
    # pascal_voc/mAP is their mean: the AP over IoU 0.5:0.95 (AP{t} are rounded to 3 digits)
    mean = sum(scalars[key].current() for key in thresholds) / len(thresholds)
    assert scalars['val/pascal_voc/mAP'].current() == pytest.approx(mean, abs=6e-4)


def voc_sample(gt_boxes, pred_boxes, scores):
    empty = torch.zeros((0, 4))
    return dict(
        gt_instances=dict(bboxes=torch.tensor(gt_boxes, dtype=torch.float32),
                          labels=torch.zeros(len(gt_boxes), dtype=torch.long)),
        ignored_instances=dict(bboxes=empty, labels=torch.zeros(0, dtype=torch.long)),
        pred_instances=dict(bboxes=torch.tensor(pred_boxes, dtype=torch.float32),
                            scores=torch.tensor(scores), labels=torch.zeros(len(scores),
                                                                            dtype=torch.long)))


def test_voc_config_reports_the_11_point_ap_over_iou_0_5_to_0_95():
    """The VOC07+12 config's evaluator on detections whose AP is worked out by hand."""
    from mmdet.registry import METRICS
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')
    cfg = Config.fromfile(DET / 'faster-rcnn_r50_fpn_syncbn_24k_voc0712.py')
    metric = METRICS.build(cfg.val_evaluator)
    metric.dataset_meta = dict(classes=('thing', ))
    # Two exact hits ranked around a false positive: precision 1, 1/2, 2/3 at recall 1/2, 1/2,
    # 1. 11-point VOC07 AP: recall 0, 0.1, ..., 0.5 -> precision 1; 0.6, ..., 1.0 -> 2/3:
    # (6 + 5 * 2/3) / 11 = 0.8485 (the area under the curve would be 0.8333); the same at
    # every IoU threshold.
    metric.process({}, [voc_sample([[0, 0, 49, 49], [60, 60, 99, 99]],
                                   [[0, 0, 49, 49], [200, 200, 240, 240], [60, 60, 99, 99]],
                                   [0.9, 0.8, 0.7])])
    results = metric.compute_metrics(metric.results)
    assert results['mAP'] == pytest.approx((6 + 5 * 2 / 3) / 11)
    assert results['AP50'] == results['AP75'] == results['AP95'] == pytest.approx(0.848)
    # One box at IoU 91 / 100 (VOC's pixel-inclusive areas): a hit at 0.50 ... 0.90, a miss at
    # 0.95, so the AP over 0.5:0.95 is 9 / 10.
    metric.results.clear()
    metric.process({}, [voc_sample([[0, 0, 99, 99]], [[0, 0, 99, 90]], [0.9])])
    results = metric.compute_metrics(metric.results)
    assert results['AP50'] == results['AP90'] == 1.0 and results['AP95'] == 0.0
    assert results['mAP'] == pytest.approx(0.9)


def test_coco_config_of_the_papers_recipe():
    """JigClu supplementary 3.3: 12 epochs, batch 8 = 4 GPUs x 2, lr 0.01, x0.1 at 8 and 10;
    the detector as in the 1x config."""
    cfg = Config.fromfile(DET / 'faster-rcnn_r50_fpn_syncbn_4xb2-12e-steps8-10_coco.py')
    base = Config.fromfile(DET / 'faster-rcnn_r50_fpn_syncbn_1x_coco.py')
    assert cfg.train_dataloader.batch_size == 2 and cfg.auto_scale_lr.base_batch_size == 8
    assert cfg.optim_wrapper.optimizer.lr == 0.01 and cfg.train_cfg.max_epochs == 12
    (step, ) = [s for s in cfg.param_scheduler if s.type == 'MultiStepLR']
    assert step.milestones == [8, 10] and step.gamma == 0.1 and step.by_epoch
    assert cfg.model == base.model
    assert cfg.train_dataloader.dataset.pipeline == base.train_dataloader.dataset.pipeline


@pytest.mark.parametrize('init', ['random', 'pretrained'])
def test_small_deepforest_config_trains_and_evaluates(init, deepforest_coco_root, tmp_path):
    from mmengine.registry import init_default_scope

    import mejigclu_mm  # noqa: F401
    from mmpretrain.registry import MODELS
    cfg = load_for_test(DET / 'faster-rcnn_r18-cifar_fpn_1xb4-12e_deepforest.py', tmp_path)
    if init == 'random':
        cfg.model.backbone.init_cfg = None
    else:
        init_default_scope('mmpretrain')
        pretrain = Config.fromfile(
            ROOT / 'configs/mejigclu/mejigclu_resnet18-cifar_1xb64-coslr-100e_fashion-mnist.py')
        src, dst = tmp_path / 'pretrain.pth', tmp_path / 'r18_mmdet.pth'
        torch.save({'state_dict': MODELS.build(pretrain.model).state_dict()}, src)
        assert convert_weights.main([str(src), str(dst), '--to', 'mmdet']) == 0
        cfg.model.backbone.init_cfg.checkpoint = str(dst)
    cfg.train_cfg.val_interval = 1
    light_loader(cfg.train_dataloader, deepforest_coco_root, indices=4)
    light_loader(cfg.val_dataloader, deepforest_coco_root, indices=2)
    cfg.val_evaluator.ann_file = str(deepforest_coco_root / 'annotations' / 'val.json')
    cfg.test_dataloader, cfg.test_evaluator = cfg.val_dataloader, copy.deepcopy(cfg.val_evaluator)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert 'val/coco/bbox_mAP' in runner.message_hub.log_scalars
