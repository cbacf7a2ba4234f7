# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Every deformable convolution kernel on the SAMKR head's shape, which
is what ``deform_backend='auto'`` chooses from."""
from typing import Dict

import torch
import torch.nn.functional as F

from samkr_mmpose.ops import deform_conv2d, resolve_backend
from .clock import Clock, alternate, median
from .markdown_table import fmt, ratio, table


def measure_deform(cfgs: dict, runs: int, warmup: int, device: torch.device,
                   clock: Clock) -> Dict[str, dict]:
    """Forward and forward + backward milliseconds of every deformable
    convolution kernel on the first SAMKR head's shape, beside a plain
    grouped convolution of the same shape; empty without a SAMKR head."""
    from mmcv.ops import get_compiling_cuda_version
    head = next(
        (cfg.model.head
         for cfg in cfgs.values() if cfg.model.head.type == 'SAMKRHead'), None)
    if head is None:
        return {}
    groups = head.num_keypoints if head.get('per_keypoint_branches',
                                            True) else 1
    channels = head.num_keypoints * head.get('num_channels_per_keypoint', 16)
    width, height = (
        s // 4 for s in next(iter(cfgs.values())).codec.input_size)
    x = torch.randn(1, channels, height, width, device=device)
    offset = torch.randn(1, 18 * groups, height, width, device=device) * 2
    weight = torch.randn(channels, channels // groups, 3, 3, device=device)
    backends = ['torch', 'torchvision']
    if device.type == 'cpu' or get_compiling_cuda_version() != 'not available':
        backends.append('mmcv')
    ops = {
        backend: (lambda x, o, w, b=backend: deform_conv2d(
            x, o, w, 1, 1, 1, groups, groups, b))
        for backend in backends
    }
    ops['plain grouped conv'] = lambda x, o, w: F.conv2d(
        x, w, padding=1, groups=groups)
    fns = {}
    for name, op in ops.items():

        def forward(op=op):
            with torch.no_grad():
                op(x, offset, weight)

        def backward(op=op):
            inputs = [t.detach().requires_grad_() for t in (x, offset, weight)]
            op(*inputs).sum().backward()

        fns[f'{name}|forward'] = forward
        fns[f'{name}|forward + backward'] = backward
    times = alternate(fns, runs, warmup, clock)
    return dict(
        shape=f'{channels} channels, {groups} groups, {width}x{height}',
        auto=resolve_backend('auto', device),
        times={
            key: median(v)
            for key, v in times.items()
        })


def deform_report(deform: dict) -> list:
    """The lines of the deformable convolution table."""
    times = deform['times']
    plain = times['plain grouped conv|forward']
    rows = [[
        k,
        fmt(times[f'{k}|forward']),
        fmt(times[f'{k}|forward + backward']),
        ratio(times[f'{k}|forward'], plain)
    ] for k in dict.fromkeys(key.split('|')[0] for key in times)]
    return [
        '', f'### Deformable 3x3 convolution ({deform["shape"]}, '
        f'batch 1); auto picks {deform["auto"]}', '',
        table([
            'Kernel', 'forward (ms)', 'forward + backward (ms)',
            'forward / plain conv'
        ], rows)
    ]
