# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""#Params and GFLOPs of models beside the paper's Table 3."""
import copy
from typing import Dict, List, Tuple

from mmengine.config import Config
from mmengine.hub import get_config

from samkr_mmpose.utils import config_complexity
from .markdown_table import ratio, table

DEKR_CONFIG = ('mmpose::body_2d_keypoint/dekr/coco/'
               'dekr_hrnet-{width}_8xb10-140e_coco-{size}x{size}.py')
HEADER = [
    'Model', 'Input', '#Params (M)', 'GFLOPs', 'paper #Params (M)',
    'paper GFLOPs'
]


def paper_configs() -> List[Tuple[str, Config]]:
    """MMPose's DEKR COCO configs (HRNet-W32 at 512x512, HRNet-W48 at
    640x640) and SAMKR built from them by swapping the head, the W32 one
    with SWAHR's heatmap loss as in the paper, by model name."""
    configs = []
    for width, size in (('w32', 512), ('w48', 640)):
        dekr = get_config(DEKR_CONFIG.format(width=width, size=size))
        samkr = copy.deepcopy(dekr)
        samkr.model.head.type = 'SAMKRHead'
        if width == 'w32':
            samkr.model.head.heatmap_loss = dict(type='AdaptiveHeatmapLoss')
            samkr.model.head.scale_loss = dict(type='HeatmapScaleLoss')
        configs += [(f'DEKR-{width.upper()}', dekr),
                    (f'SAMKR-{width.upper()}', samkr)]
    return configs


def complexity_row(name: str, stats: dict) -> List[str]:
    """A row of :data:`HEADER` from :func:`config_complexity`'s figures."""
    paper = stats['paper'] or ('-', '-')
    return [
        name, stats['input'], f'{stats["params"] / 1e6:.2f}',
        f'{stats["flops"] / 1e9:.2f}',
        str(paper[0]),
        str(paper[1])
    ]


def measure_complexity(cfgs: Dict[str, Config]) -> Dict[str, dict]:
    """:func:`config_complexity` of every config, by model name."""
    return {name: config_complexity(cfg) for name, cfg in cfgs.items()}


def complexity_report(stats: Dict[str, dict], base: str) -> list:
    """The lines of the complexity table, with the GFLOPs ratios."""
    rows = [
        complexity_row(name, s) + [ratio(s['flops'], stats[base]['flops'])]
        for name, s in stats.items()
    ]
    return ['', '### Complexity', '', table(HEADER + ['GFLOPs ratio'], rows)]
