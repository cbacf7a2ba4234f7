# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import copy
from typing import Any, Dict, List, Tuple

import torch
import torch.nn as nn
from mmengine.analysis import FlopAnalyzer, parameter_count
from mmengine.analysis.jit_handles import conv_flop_count, get_shape
from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ConfigType

# the paper's Table 3: #Params (M) and GFLOPs by head and HRNet width
PAPER_TABLE3 = {
    ('DEKRHead', 32): (29.6, 45.4),
    ('DEKRHead', 48): (65.7, 141.5),
    ('SAMKRHead', 32): (29.6, 44.9),
    ('SAMKRHead', 48): (65.7, 140.9),
}


def deform_conv_flop_jit(inputs: List[Any], outputs: List[Any]) -> int:
    """FLOP handle of mmcv's traced ``DeformConv2dFunction``.

    Args:
        inputs (List[Any]): The traced inputs: x, offset and weight.
        outputs (List[Any]): The traced output.

    Returns:
        int: The multiply-accumulates of a regular convolution of the same
        shapes, as ``aten::_convolution`` is counted.
    """
    return conv_flop_count(
        get_shape(inputs[0]), get_shape(inputs[2]), get_shape(outputs[0]))


# mmengine's analyzer skips this op, which would drop DEKR's and SAMKR's
# adaptive convolutions from the count
DEFORM_CONV_FLOP_HANDLES = {
    'prim::PythonOp.DeformConv2dFunction': deform_conv_flop_jit,
}


def model_complexity(model: nn.Module, inputs: Tuple[Tensor,
                                                     ...]) -> Dict[str, int]:
    """Count the parameters and FLOPs of ``model(*inputs)``.

    FLOPs follow mmengine's (fvcore's) convention, which is also the one of
    the DEKR and SAMKR papers' tables: one multiply-accumulate is one FLOP.
    Deformable convolutions computed by mmcv are counted as convolutions of
    the same shapes, so count models built with ``deform_backend='mmcv'``
    (torchvision's kernel cannot be traced; the pure-PyTorch one is counted
    through its own operators, grid sampling and a matrix product).

    Args:
        model (nn.Module): The model, in the mode to analyse.
        inputs (Tuple[Tensor, ...]): Positional inputs of ``model``.

    Returns:
        Dict[str, int]: ``params`` (all parameters) and ``flops``.
    """
    analyzer = FlopAnalyzer(model, inputs)
    for op, handle in DEFORM_CONV_FLOP_HANDLES.items():
        analyzer.set_op_handle(op, handle)
    analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    return dict(params=parameter_count(model)[''], flops=int(analyzer.total()))


def config_complexity(cfg: ConfigType) -> Dict[str, Any]:
    """Build ``cfg.model`` without weights and count its network at the
    codec's input size, as MMPose's ``get_flops`` tool does.

    Args:
        cfg (Config): A DEKR or SAMKR config (MMPose's default scope).

    Returns:
        dict: ``params``, ``flops``, ``input`` (``'WxH'``) and ``paper``,
        the paper's Table 3 entry for the head and HRNet width, or
        ``None``.
    """
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.backbone.init_cfg = None
    if model_cfg.head.get('rescore_cfg'):
        model_cfg.head.rescore_cfg.init_cfg = None
    if model_cfg.head.type == 'SAMKRHead':
        # the op DEKR's deformable convolutions are counted by
        model_cfg.head.deform_backend = 'mmcv'
    model = MODELS.build(model_cfg).eval()
    model.forward = model._forward
    width, height = cfg.codec.input_size
    with torch.no_grad():
        result = model_complexity(model, (torch.zeros(1, 3, height, width), ))
    channels = model_cfg.backbone.extra.stage4.num_channels[0]
    result.update(
        input=f'{width}x{height}',
        paper=PAPER_TABLE3.get((model_cfg.head.type, channels)))
    return result
