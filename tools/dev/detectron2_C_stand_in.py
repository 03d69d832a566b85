"""mejigclu_mm's test stand-in for ``detectron2._C``, detectron2's compiled extension.

tools/setup_env.sh installs detectron2 v0.6's Python sources into the test environment (its
PyPI sdist ``pb1-detectron2`` has no C++ sources) and copies this file there as
``detectron2/_C.py``. It lets detectron2 import: Faster R-CNN R50-FPN / C4 call none of the
compiled ops (ROIAlign and NMS come from torchvision). Every compiled op is here by name and
raises :class:`CompiledOpUnavailable` when called: deformable convolutions, rotated boxes (IoU,
NMS, ROIAlign) and the fast COCO evaluator (``COCOEvaluator(..., use_fast_impl=False)`` takes
pycocotools' pure-Python path instead). Users install detectron2 their own way.
"""
import torch

STAND_IN = 'mejigclu_mm test stand-in (tools/setup_env.sh): no compiled ops'

FAST_COCO_EVALUATOR = 'the fast COCO evaluator: pass COCOEvaluator(..., use_fast_impl=False)'
# The functions detectron2 v0.6's layers/csrc/vision.cpp exports, by what needs them.
COMPILED_OPS = {
    'deform_conv_forward': 'deformable convolution',
    'deform_conv_backward_input': 'deformable convolution',
    'deform_conv_backward_filter': 'deformable convolution',
    'modulated_deform_conv_forward': 'modulated deformable convolution',
    'modulated_deform_conv_backward': 'modulated deformable convolution',
    'box_iou_rotated': 'rotated boxes',
    'roi_align_rotated_forward': 'rotated ROIAlign',
    'roi_align_rotated_backward': 'rotated ROIAlign',
    'COCOevalAccumulate': FAST_COCO_EVALUATOR,
    'COCOevalEvaluateImages': FAST_COCO_EVALUATOR,
    'InstanceAnnotation': FAST_COCO_EVALUATOR,
    'ImageEvaluation': FAST_COCO_EVALUATOR,
}


class CompiledOpUnavailable(RuntimeError):
    """A compiled op of detectron2 was called, and this ``_C`` is the test stand-in."""


def _message(name: str) -> str:
    return (f'detectron2._C.{name} ({COMPILED_OPS[name]}) is one of detectron2\'s compiled ops, '
            f'and this detectron2._C is mejigclu_mm\'s test stand-in ({__file__}), which has '
            f'none: install detectron2 built from its source (see its INSTALL.md) to use it')


def _unavailable(name: str):
    def op(*args, **kwargs):
        raise CompiledOpUnavailable(_message(name))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f'Raises CompiledOpUnavailable: {COMPILED_OPS[name]} needs the compiled op.'
    return op


globals().update({name: _unavailable(name) for name in COMPILED_OPS})
COMPILED_OPS['nms_rotated'] = 'rotated NMS'  # torch.ops.detectron2.nms_rotated, below


def get_compiler_version() -> str:
    """What detectron2's collect_env prints as the compiler: the stand-in, named."""
    return STAND_IN


def get_cuda_version() -> str:
    """What detectron2's collect_env prints as the CUDA compiler: the stand-in, named."""
    return STAND_IN


def has_cuda() -> bool:
    """No CUDA ops: there are no ops."""
    return False


def _nms_rotated(boxes, scores, iou_threshold):
    raise CompiledOpUnavailable(_message('nms_rotated'))


# detectron2.layers.nms_rotated calls torch.ops.detectron2.nms_rotated, which the compiled
# extension registers; the stand-in registers it too, so the call names the stand-in instead of
# torch's "no such operator".
_LIBRARY = torch.library.Library('detectron2', 'DEF')
_LIBRARY.define('nms_rotated(Tensor boxes, Tensor scores, float iou_threshold) -> Tensor')
_LIBRARY.impl('nms_rotated', _nms_rotated, 'CompositeExplicitAutograd')
