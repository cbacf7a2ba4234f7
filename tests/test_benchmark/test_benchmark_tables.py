# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``tools/benchmark.py`` measures every table for SAMKR and MMPose's DEKR
(shrunk to a width-8 HRNet at 64 px), :mod:`samkr_mmpose.benchmark`
restores every function it wraps, and ``tools/gpu_bench.sh`` checks its
arguments; the figures themselves are in docs/benchmarks.md."""
import json
import os.path as osp
import subprocess
import sys

import mmcv.ops
import pytest
import torch
from helpers import ROOT, shrink_options
from mmcv.ops import deform_conv
from mmengine.dataset import Compose

import mmpose.models.heads.hybrid_heads.dekr_head as dekr_head_module
import samkr_mmpose.models.utils.bottomup_post_processor as post_processor
from mmpose.apis import init_model
from samkr_mmpose.benchmark import (Clock, load_benchmark_config, measure,
                                    route_mmcv_deform_conv, stage_timer)

SAMKR = 'samkr_hrnet-w32_8xb10-140e_coco-512x512'
DEKR = 'dekr_hrnet-w32_8xb10-140e_coco-512x512'


def cli_options(options: dict) -> list:
    return [
        f'{key}={value!r}'.replace("'", '').replace(' ', '')
        for key, value in options.items()
    ]


def tiny_options() -> dict:
    options = shrink_options(64)
    del options['param_scheduler']
    options['codec.input_size'] = (64, 64)
    return options


@pytest.fixture(scope='module')
def results(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp('bench')
    options = tiny_options()
    proc = subprocess.run([
        sys.executable,
        osp.join(ROOT, 'tools', 'benchmark.py'), '--device', 'cpu', '--runs',
        '2', '--warmup', '1', '--batch-size', '2', '--out-dir',
        str(out_dir), '--cfg-options', *cli_options(options)
    ],
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out_dir / 'benchmark.json') as f:
        results = json.load(f)
    results['stdout'] = proc.stdout
    with open(out_dir / 'benchmark.md') as f:
        results['markdown'] = f.read()
    return results


def test_every_table_is_printed(results):
    for title in ('### Complexity', '### Deformable 3x3 convolution',
                  '### Network forward, batch 1', '### End to end per image',
                  '### Inference and forward throughput',
                  '### Training step throughput'):
        assert title in results['markdown']
    assert results['markdown'].strip() in results['stdout']
    assert results['baseline'] == DEKR


def test_samkr_is_smaller_than_dekr(results):
    complexity = results['complexity']
    assert complexity[SAMKR]['input'] == '64x64'
    assert complexity[SAMKR]['flops'] < complexity[DEKR]['flops']
    assert complexity[SAMKR]['params'] < complexity[DEKR]['params']


def table_row(markdown: str, *first_cells: str) -> list:
    """The cells of the first table row starting with ``first_cells``."""
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if cells[:len(first_cells)] == list(first_cells):
            return cells
    raise AssertionError(f'no row {first_cells}')


def test_ratios_are_the_printed_figures(results):
    forward = results['forward']
    samkr, dekr = forward[f'{SAMKR}|eager'], forward[f'{DEKR}|eager']
    assert table_row(results['markdown'], SAMKR,
                     'eager')[2:] == [f'{samkr:.2f}', f'{samkr / dekr:.2f}']
    e2e = results['e2e']
    assert table_row(results['markdown'], 'total')[1:] == [
        f'{e2e[SAMKR]["total"]:.2f}', f'{e2e[DEKR]["total"]:.2f}',
        f'{e2e[SAMKR]["total"] / e2e[DEKR]["total"]:.2f}'
    ]
    for name in (SAMKR, DEKR):
        stages = results['e2e'][name]
        other = stages['total'] - sum(
            v for k, v in stages.items() if k not in ('other', 'total'))
        assert stages['other'] == pytest.approx(other)
        assert stages['forward'] > 0 and stages['decode'] > 0
    # only SAMKR matches keypoints to heatmap peaks
    assert results['e2e'][SAMKR]['matching'] > 0
    assert results['e2e'][DEKR]['matching'] == 0


def test_batches_where_the_head_can(results):
    throughput = results['throughput']
    assert set(throughput) == {
        f'{SAMKR}|inference|1', f'{SAMKR}|inference|2', f'{DEKR}|inference|1',
        f'{SAMKR}|forward|2', f'{DEKR}|forward|2'
    }
    assert all(v['images_per_s'] > 0 for v in throughput.values())
    assert set(results['train']) == {f'{SAMKR}|train|2', f'{DEKR}|train|2'}
    deform = results['deform']
    assert deform['auto'] == 'torch'
    assert deform['shape'] == '272 channels, 17 groups, 16x16'
    assert {key.split('|')[0]
            for key in deform['times']
            } == {'torch', 'torchvision', 'mmcv', 'plain grouped conv'}


def module_functions() -> dict:
    """The module and class functions the benchmark wraps or routes."""
    return {
        'Compose.__init__':
        vars(Compose)['__init__'],
        'Compose.__call__':
        vars(Compose)['__call__'],
        'nearby_joints_nms':
        dekr_head_module.nearby_joints_nms,
        'pose_nms':
        post_processor.pose_nms,
        'match_heatmap':
        vars(post_processor.BottomupPostProcessor)['match_heatmap'],
        'mmcv deform_conv2d':
        deform_conv.deform_conv2d,
    }


def test_measuring_restores_what_it_wraps():
    """After a run (the end-to-end table wraps every inference stage) the
    functions and the models' instances are the originals again, also
    where the timed block raises."""
    before = module_functions()
    results = measure([osp.join(ROOT, 'configs', 'samkr', f'{SAMKR}.py')],
                      f'mmpose::body_2d_keypoint/dekr/coco/{DEKR}.py',
                      torch.device('cpu'),
                      batch_size=1,
                      runs=1,
                      warmup=0,
                      sections=['e2e'],
                      cfg_options=tiny_options())
    assert results['e2e'][SAMKR]['matching'] > 0
    assert module_functions() == before

    model = init_model(
        load_benchmark_config(
            osp.join(ROOT, 'configs', 'samkr', f'{SAMKR}.py'), tiny_options()),
        device='cpu')
    modules = (model.data_preprocessor, model.backbone, model.head,
               model.head.decoder)
    with pytest.raises(RuntimeError, match='stop'):
        with stage_timer(model, Clock(torch.device('cpu'))):
            assert dekr_head_module.nearby_joints_nms is not before[
                'nearby_joints_nms']
            assert 'forward' in vars(model.backbone)
            raise RuntimeError('stop')
    assert module_functions() == before
    for module in modules:
        assert not {'forward', 'decode'} & set(vars(module))


def test_mmcv_routing_is_undone(monkeypatch):
    """mmcv without CUDA kernels runs torchvision's kernel inside the block
    only."""
    original = deform_conv.deform_conv2d
    with route_mmcv_deform_conv(torch.device('cpu')) as routed:
        assert not routed and deform_conv.deform_conv2d is original
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version',
                        lambda: 'not available')
    with pytest.raises(RuntimeError, match='stop'):
        with route_mmcv_deform_conv(torch.device('cuda')) as routed:
            assert routed and deform_conv.deform_conv2d is not original
            raise RuntimeError('stop')
    assert deform_conv.deform_conv2d is original


def test_gpu_bench_checks_its_arguments(tmp_path):
    script = osp.join(ROOT, 'tools', 'gpu_bench.sh')
    usage = subprocess.run(['bash', script], capture_output=True, text=True)
    assert usage.returncode == 2 and 'Usage: bash tools/gpu_bench.sh' in (
        usage.stdout)
    empty = subprocess.run(
        ['bash', script, str(tmp_path),
         str(tmp_path / 'out')],
        capture_output=True,
        text=True)
    assert empty.returncode == 1
    assert f'no wheels in {tmp_path}' in empty.stderr
