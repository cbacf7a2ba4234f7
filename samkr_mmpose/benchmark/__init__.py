# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Timing, memory and complexity tables of SAMKR beside MMPose's DEKR."""
from .benchmark_config import load_benchmark_config, model_name
from .clock import Clock, alternate, median
from .complexity_table import (complexity_report, complexity_row,
                               measure_complexity, paper_configs)
from .deform_table import deform_report, measure_deform
from .end_to_end import end_to_end, end_to_end_report
from .forward_timing import (cuda_graph, forward_fns, forward_report,
                             measure_forward)
from .markdown_table import fmt, ratio, table
from .measure import SECTIONS, measure
from .patched import patched
from .peak_memory import peak_memory
from .report import report, write_report
from .route_mmcv_deform_conv import route_mmcv_deform_conv
from .stage_timer import STAGES, stage_timer, timed_stages
from .throughput import (measure_inference, measure_throughput,
                         measure_training, throughput_report)

__all__ = [
    'Clock', 'SECTIONS', 'STAGES', 'alternate', 'complexity_report',
    'complexity_row', 'cuda_graph', 'deform_report', 'end_to_end',
    'end_to_end_report', 'fmt', 'forward_fns', 'forward_report',
    'load_benchmark_config', 'measure', 'measure_complexity', 'measure_deform',
    'measure_forward', 'measure_inference', 'measure_throughput',
    'measure_training', 'median', 'model_name', 'paper_configs', 'patched',
    'peak_memory', 'ratio', 'report', 'route_mmcv_deform_conv', 'stage_timer',
    'table', 'throughput_report', 'timed_stages', 'write_report'
]
