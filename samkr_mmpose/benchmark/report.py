# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The benchmark's figures as Markdown, and the files they are written
to."""
import json
import os
import os.path as osp

from .complexity_table import complexity_report
from .deform_table import deform_report
from .end_to_end import end_to_end_report
from .forward_timing import forward_report
from .throughput import throughput_report


def report(results: dict) -> str:
    """The tables of ``results`` (see :func:`measure`) in Markdown."""
    base = results['baseline']
    out = [
        f'Device: {results["device"]}; torch {results["torch"]}; '
        f'medians of {results["runs"]} alternating runs after '
        f'{results["warmup"]} warm-up runs; ratios are model / '
        f'{base}.'
    ]
    if results['routed_mmcv']:
        out.append(f'{base}: mmcv has no CUDA kernels here, its '
                   'DeformConv2d runs torchvision\'s kernel.')
    if 'complexity' in results:
        out += complexity_report(results['complexity'], base)
    if results.get('deform'):
        out += deform_report(results['deform'])
    if 'forward' in results:
        out += forward_report(results['forward'], base)
    if 'e2e' in results:
        out += end_to_end_report(results['e2e'], base)
    if 'throughput' in results:
        out += throughput_report(results['throughput'], base,
                                 'Inference and forward')
        out.append(f'{base} (DEKRHead) predicts one image at a time.')
    if 'train' in results:
        out += throughput_report(results['train'], base, 'Training step')
    return '\n'.join(out)


def write_report(results: dict, text: str, out_dir: str) -> None:
    """Write ``OUT_DIR/benchmark.md`` (the report ``text``) and
    ``OUT_DIR/benchmark.json`` (``results``)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'benchmark.md'), 'w') as f:
        f.write(text + '\n')
    with open(osp.join(out_dir, 'benchmark.json'), 'w') as f:
        json.dump(results, f, indent=2, default=str)
