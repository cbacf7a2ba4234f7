# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Benchmark SAMKR against MMPose's DEKR, side by side in one process.

Every measurement alternates the models run by run (after warm-up runs) and
reports medians, so that a machine's drift hits all of them alike; the
ratio column divides each model's figure by the baseline's. Tables:

- complexity: #Params and GFLOPs beside the paper's Table 3;
- deformable convolution: each kernel on the SAMKR head's shape, which is
  what ``deform_backend='auto'`` chooses from;
- network forward at batch 1: eager, and on CUDA in a CUDA graph and, with
  ``--compile``, under ``torch.compile``;
- end to end per image through ``mmpose.apis.inference_bottomup`` with the
  configs' flip test, split by stage;
- throughput at ``--batch-size`` (inference, network forward, training
  step) with peak memory: allocated CUDA memory, or on CPU the growth of
  the process's peak resident memory.

Weights are random and nothing is downloaded. So that decoding, NMS,
matching and rescoring see as many poses as trained models give on crowded
images, every model decodes its ``decode_max_instances`` highest centre
peaks (30 in MMPose's DEKR configs) whatever their score. On CUDA without
mmcv CUDA kernels, the baseline's mmcv ``DeformConv2d`` runs torchvision's
kernel (the same operation, see ``route_mmcv_deform_conv``).
"""
import argparse
import contextlib
import copy
import ctypes
import json
import os
import os.path as osp
import statistics
import tempfile
import time
from collections import defaultdict
from typing import Callable, Dict, List

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.hub import get_config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import mmpose.models.heads.hybrid_heads.dekr_head as dekr_head_module
import samkr_mmpose.models.heads.samkr_head as samkr_head_module
from mmpose.apis import inference_bottomup, init_model
from mmpose.registry import DATASETS
from samkr_mmpose.datasets import (generate_synthetic_crowd,
                                   render_synthetic_image)
from samkr_mmpose.ops import deform_conv2d, resolve_backend
from samkr_mmpose.utils import config_complexity

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMKR_CONFIG = osp.join(ROOT, 'configs', 'samkr',
                        'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
DEKR_CONFIG = ('mmpose::body_2d_keypoint/dekr/coco/'
               'dekr_hrnet-w32_8xb10-140e_coco-512x512.py')
SECTIONS = ('complexity', 'deform', 'forward', 'e2e', 'throughput', 'train')
STAGES = ('pipeline', 'preprocess', 'forward', 'decode', 'nms', 'matching',
          'rescore', 'other')


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        'configs',
        nargs='*',
        default=[SAMKR_CONFIG],
        help='configs to measure (default: SAMKR-W32 COCO 512)')
    parser.add_argument(
        '--baseline',
        default=DEKR_CONFIG,
        help='the config of the ratios\' denominator (default: MMPose\'s '
        'DEKR-W32 COCO 512)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device (default: cuda if available)')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='batch of the throughput tables (default: 8 on CUDA, 2 on CPU)')
    parser.add_argument(
        '--runs', type=int, help='timed runs (default: 30 on CUDA, 5 on CPU)')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed runs first (default: 10 on CUDA, 1 on CPU)')
    parser.add_argument(
        '--image', help='image for the end-to-end table (default: synthetic)')
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='tables to measure (default: all)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='also time the forward under torch.compile')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='overrides applied to every config, as in tools/train.py')
    parser.add_argument(
        '--out-dir', help='also write benchmark.md and benchmark.json here')
    return parser.parse_args()


class Clock:
    """Wall-clock timing that waits for the device's queued work.

    Args:
        device (torch.device): The device whose work is timed.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'

    def sync(self) -> None:
        """Wait for all queued work on the device."""
        if self.cuda:
            torch.cuda.synchronize()

    def time(self, fn: Callable) -> float:
        """Milliseconds ``fn()`` takes; CUDA events time it on CUDA."""
        if self.cuda:
            start, end = (
                torch.cuda.Event(enable_timing=True) for _ in range(2))
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end)
        start = time.perf_counter()
        fn()
        return (time.perf_counter() - start) * 1e3


def alternate(fns: Dict[str, Callable], runs: int, warmup: int,
              clock: Clock) -> Dict[str, List[float]]:
    """Time every function ``runs`` times, alternating, after ``warmup``
    untimed rounds; a function that raises is reported as failed."""
    times = {name: [] for name in fns}
    failed = {}
    for round_ in range(warmup + runs):
        for name, fn in fns.items():
            if name in failed:
                continue
            try:
                elapsed = clock.time(fn)
            except Exception as error:  # reported in the table
                failed[name] = f'failed: {type(error).__name__}'
                continue
            if round_ >= warmup:
                times[name].append(elapsed)
    return {name: failed.get(name, t) for name, t in times.items()}


def median(values) -> float:
    return statistics.median(values) if isinstance(values, list) else values


@contextlib.contextmanager
def peak_memory(device: torch.device, result: dict):
    """Record in ``result['memory']`` the peak memory (MiB) of the block:
    allocated CUDA memory, or on Linux CPUs how far the resident set grew
    (glibc's heap trimmed first, the peak reset through
    ``/proc/self/clear_refs``)."""
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        yield
        torch.cuda.synchronize()
        result['memory'] = torch.cuda.max_memory_allocated() / 2**20
        return
    status = '/proc/self/status'
    if not osp.exists(status):
        yield
        result['memory'] = None
        return

    def read(field):
        with open(status) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1]) / 1024

    # freed heap memory back to the system, so that the block's own
    # allocations raise the peak
    ctypes.CDLL(None).malloc_trim(0)
    before = read('VmRSS')
    with open('/proc/self/clear_refs', 'w') as f:
        f.write('5')
    yield
    result['memory'] = read('VmHWM') - before


def route_mmcv_deform_conv(device: torch.device) -> bool:
    """Run mmcv's ``DeformConv2d`` on CUDA tensors with torchvision's
    kernel when mmcv was built without CUDA kernels (the wheels of the
    GPU runs); the layouts are the same. Returns whether it did."""
    from mmcv.ops import deform_conv, get_compiling_cuda_version
    if device.type != 'cuda' or (get_compiling_cuda_version()
                                 != 'not available'):
        return False

    def routed(x,
               offset,
               weight,
               stride,
               padding,
               dilation,
               groups,
               deform_groups,
               bias=False,
               im2col_step=32):
        return deform_conv2d(x, offset, weight, stride, padding, dilation,
                             groups, deform_groups, 'torchvision')

    deform_conv.deform_conv2d = routed
    return True


def load_config(path: str, options: dict) -> Config:
    """A config for benchmarking: no pretrained weights, the maximum
    number of poses decoded from every image."""
    cfg = get_config(path) if path.startswith('mmpose::') else \
        Config.fromfile(path)
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = None
    if cfg.model.head.get('rescore_cfg'):
        cfg.model.head.rescore_cfg.init_cfg = None
    cfg.model.head.decoder.decode_thr = -float('inf')
    return cfg


def model_name(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def forward_fns(models: dict, batch: int, device: torch.device, graphs: bool,
                compile_: bool) -> Dict[str, Callable]:
    """Network forwards (backbone, neck, head) on a random batch."""
    fns = {}
    for name, model in models.items():
        width, height = model.cfg.codec.input_size
        x = torch.randn(batch, 3, height, width, device=device)

        def eager(model=model, x=x):
            with torch.no_grad():
                return model._forward(x)

        fns[f'{name}|eager'] = eager
        if graphs:
            fns[f'{name}|CUDA graph'] = cuda_graph(eager)
        if compile_:
            compiled = torch.compile(model._forward)

            def run_compiled(compiled=compiled, x=x):
                with torch.no_grad():
                    return compiled(x)

            fns[f'{name}|torch.compile'] = run_compiled
    return fns


def cuda_graph(fn: Callable) -> Callable:
    """``fn`` captured in a CUDA graph, replayed on its captured inputs;
    a capture that fails raises when called."""
    try:
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                fn()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            fn()
    except Exception as error:
        message = f'{type(error).__name__}: {error}'

        def failed():
            raise RuntimeError(message)

        return failed
    return graph.replay


@contextlib.contextmanager
def stage_timer(model: torch.nn.Module, clock: Clock):
    """Accumulate the milliseconds spent in each inference stage while the
    block runs, by wrapping the functions that make up the stage."""
    times = defaultdict(float)
    patched = []

    def wrap(owner, attr, stage):
        original = getattr(owner, attr)
        own = attr in vars(owner)

        def timed(*args, **kwargs):
            clock.sync()
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                clock.sync()
                times[stage] += (time.perf_counter() - start) * 1e3

        setattr(owner, attr, timed)
        patched.append((owner, attr, original, own))

    wrap(Compose, '__init__', 'pipeline')
    wrap(Compose, '__call__', 'pipeline')
    wrap(model.data_preprocessor, 'forward', 'preprocess')
    for module in (model.backbone, model.neck, model.head):
        if module is not None:
            wrap(module, 'forward', 'forward')
    wrap(model.head.decoder, 'decode', 'decode')
    wrap(dekr_head_module, 'nearby_joints_nms', 'nms')
    wrap(samkr_head_module, 'pose_nms', 'nms')
    if hasattr(model.head, '_match_heatmap'):
        wrap(model.head, '_match_heatmap', 'matching')
    if model.head.rescore_net is not None:
        wrap(model.head.rescore_net, 'forward', 'rescore')
    try:
        yield times
    finally:
        for owner, attr, original, own in reversed(patched):
            if own:
                setattr(owner, attr, original)
            else:
                delattr(owner, attr)


def end_to_end(models: dict, image: np.ndarray, runs: int, warmup: int,
               clock: Clock) -> Dict[str, Dict[str, float]]:
    """Median milliseconds per stage of ``inference_bottomup``."""
    records = {name: defaultdict(list) for name in models}
    for round_ in range(warmup + runs):
        for name, model in models.items():
            with stage_timer(model, clock) as times:
                total = clock.time(lambda: inference_bottomup(model, image))
            if round_ < warmup:
                continue
            times['other'] = total - sum(times.values())
            times['total'] = total
            for stage in (*STAGES, 'total'):
                records[name][stage].append(times.get(stage, 0.))
    return {
        name: {
            stage: median(v)
            for stage, v in record.items()
        }
        for name, record in records.items()
    }


def test_batch(model: torch.nn.Module, image: np.ndarray, batch: int):
    """A collated test batch of ``image`` through the model's pipeline."""
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = pipeline(dict(img=image, **model.dataset_meta))
    return pseudo_collate([copy.deepcopy(data) for _ in range(batch)])


def train_batch(cfg: Config, batch: int, data_root: str):
    """A collated training batch from synthetic images at the input size."""
    size = tuple(cfg.codec.input_size)
    ann_file = generate_synthetic_crowd(
        data_root, batch, 'train', 'coco', seed=0, image_size=size)
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(
        data_root=data_root,
        ann_file=osp.relpath(ann_file, data_root),
        data_prefix=dict(img='train2017/'))
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[i] for i in range(batch)])


def measure_throughput(fns: Dict[str, Callable], args,
                       clock: Clock) -> Dict[str, dict]:
    """Images per second and peak memory of each function."""
    times = alternate(fns, args.runs, args.warmup, clock)
    results = {}
    for key, fn in fns.items():
        result = dict(batch=int(key.rsplit('|', 1)[1]))
        with peak_memory(args.device, result):
            if isinstance(times[key], list):
                clock.time(fn)
        value = times[key]
        result['images_per_s'] = (
            result['batch'] / median(value) *
            1e3 if isinstance(value, list) else value)
        results[key] = result
    return results


def measure(args) -> dict:
    """Run the chosen sections; returns every figure by table."""
    device = args.device = torch.device(args.device)
    clock = Clock(device)
    init_default_scope('mmpose')
    paths = [*args.configs, args.baseline]
    cfgs = {model_name(p): load_config(p, args.cfg_options) for p in paths}
    baseline = model_name(args.baseline)
    results = dict(
        device=(torch.cuda.get_device_name(device)
                if device.type == 'cuda' else f'CPU, {torch.get_num_threads()}'
                ' threads'),
        torch=torch.__version__,
        baseline=baseline,
        routed_mmcv=route_mmcv_deform_conv(device),
        batch_size=args.batch_size,
        runs=args.runs,
        warmup=args.warmup)

    if 'complexity' in args.sections:
        results['complexity'] = {
            name: config_complexity(cfg)
            for name, cfg in cfgs.items()
        }
        print('measured complexity', flush=True)
    if 'deform' in args.sections:
        results['deform'] = measure_deform(cfgs, args, clock)
        print('measured deformable convolutions', flush=True)

    models = {
        name: init_model(cfg, device=str(device)).eval()
        for name, cfg in cfgs.items()
    }
    if args.image:
        image = np.ascontiguousarray(
            __import__('mmcv').imread(args.image, channel_order='bgr'))
    else:
        image, _, _ = render_synthetic_image(
            np.random.default_rng(0), (640, 480), (6, 10), (0.3, 0.8))

    if 'forward' in args.sections:
        fns = forward_fns(models, 1, device, device.type == 'cuda',
                          args.compile)
        results['forward'] = {
            key: median(v)
            for key, v in alternate(fns, args.runs, args.warmup,
                                    clock).items()
        }
        print('measured forward', flush=True)
    if 'e2e' in args.sections:
        with torch.no_grad():
            results['e2e'] = end_to_end(models, image, args.runs, args.warmup,
                                        clock)
        print('measured end to end', flush=True)
    if 'throughput' in args.sections:
        fns = {}
        for name, model in models.items():
            sizes = [1, args.batch_size]
            if type(model.head).__name__ == 'DEKRHead':
                sizes = [1]  # DEKRHead.predict asserts a batch of one
            for size in dict.fromkeys(sizes):
                data = test_batch(model, image, size)
                fns[f'{name}|inference|{size}'] = (
                    lambda model=model, data=data: model.test_step(data))
        for key, fn in forward_fns(models, args.batch_size, device, False,
                                   False).items():
            fns[f'{key.split("|")[0]}|forward|{args.batch_size}'] = fn
        with torch.no_grad():
            results['throughput'] = measure_throughput(fns, args, clock)
        print('measured throughput', flush=True)
    if 'train' in args.sections:
        results['train'] = measure_training(models, cfgs, args, clock)
        print('measured training', flush=True)
    return results


def measure_deform(cfgs: dict, args, clock: Clock) -> Dict[str, dict]:
    """Forward and forward + backward milliseconds of every deformable
    convolution kernel on the first SAMKR head's shape, beside a plain
    grouped convolution of the same shape."""
    from mmcv.ops import get_compiling_cuda_version
    device = args.device
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
    times = alternate(fns, args.runs, args.warmup, clock)
    return dict(
        shape=f'{channels} channels, {groups} groups, {width}x{height}',
        auto=resolve_backend('auto', device),
        times={
            key: median(v)
            for key, v in times.items()
        })


def measure_training(models: dict, cfgs: dict, args,
                     clock: Clock) -> Dict[str, dict]:
    """Training-step images per second and peak memory at the batch size."""
    fns = {}
    with tempfile.TemporaryDirectory() as data_root:
        for name, model in models.items():
            data = train_batch(cfgs[name], args.batch_size,
                               osp.join(data_root, name))
            optim_wrapper = build_optim_wrapper(model,
                                                cfgs[name].optim_wrapper)

            def step(model=model, data=data, optim_wrapper=optim_wrapper):
                model.train_step(data, optim_wrapper)

            fns[f'{name}|train|{args.batch_size}'] = step
            model.train()
        results = measure_throughput(fns, args, clock)
    for model in models.values():
        model.eval()
    return results


def fmt(value, digits: int = 1) -> str:
    """A figure, or the reason it is missing."""
    if value is None:
        return '-'
    return value if isinstance(value, str) else f'{value:.{digits}f}'


def ratio(value, base) -> str:
    if isinstance(value, str) or isinstance(base, str) or not base:
        return '-'
    return f'{value / base:.2f}'


def table(header: List[str], rows: List[List[str]]) -> str:
    widths = [
        max(len(r[i]) for r in [header] + rows) for i in range(len(header))
    ]
    lines = [header, ['-' * w for w in widths]] + rows
    return '\n'.join('| ' + ' | '.join(c.ljust(w)
                                       for c, w in zip(r, widths)) + ' |'
                     for r in lines)


def report(results: dict) -> str:
    """The tables of ``results`` in Markdown."""
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
        rows = []
        stats = results['complexity']
        for name, s in stats.items():
            paper = s['paper'] or ('-', '-')
            rows.append([
                name, s['input'], f'{s["params"] / 1e6:.2f}',
                f'{s["flops"] / 1e9:.2f}',
                str(paper[0]),
                str(paper[1]),
                ratio(s['flops'], stats[base]['flops'])
            ])
        out += [
            '', '### Complexity', '',
            table([
                'Model', 'Input', '#Params (M)', 'GFLOPs', 'paper #Params (M)',
                'paper GFLOPs', 'GFLOPs ratio'
            ], rows)
        ]
    if results.get('deform'):
        deform = results['deform']
        times = deform['times']
        plain = times['plain grouped conv|forward']
        rows = [[
            k,
            fmt(times[f'{k}|forward']),
            fmt(times[f'{k}|forward + backward']),
            ratio(times[f'{k}|forward'], plain)
        ] for k in dict.fromkeys(key.split('|')[0] for key in times)]
        out += [
            '', f'### Deformable 3x3 convolution ({deform["shape"]}, '
            f'batch 1); auto picks {deform["auto"]}', '',
            table([
                'Kernel', 'forward (ms)', 'forward + backward (ms)',
                'forward / plain conv'
            ], rows)
        ]
    if 'forward' in results:
        times = results['forward']
        rows = []
        for key, value in times.items():
            name, mode = key.split('|')
            rows.append([
                name, mode,
                fmt(value, 2),
                ratio(value, times.get(f'{base}|{mode}'))
            ])
        out += [
            '', '### Network forward, batch 1', '',
            table(['Model', 'Mode', 'ms', 'ratio'], rows)
        ]
    if 'e2e' in results:
        e2e = results['e2e']
        names = list(e2e)
        rows = [[stage] + [fmt(e2e[n][stage], 2) for n in names] + [
            ratio(e2e[n][stage], e2e[base][stage]) for n in names if n != base
        ] for stage in (*STAGES, 'total')]
        out += [
            '', '### End to end per image (inference_bottomup, flip '
            'test), ms', '',
            table(['Stage'] + names +
                  [f'ratio {n}' for n in names if n != base], rows)
        ]
    for section, title in (('throughput', 'Inference and forward'),
                           ('train', 'Training step')):
        if section not in results:
            continue
        stats = results[section]
        rows = []
        for key, s in stats.items():
            name, what, batch = key.split('|')
            reference = stats.get(f'{base}|{what}|{batch}', {})
            rows.append([
                name, what, batch,
                fmt(s['images_per_s'], 2),
                fmt(s['memory'], 0),
                ratio(s['images_per_s'], reference.get('images_per_s'))
            ])
        out += [
            '', f'### {title} throughput', '',
            table([
                'Model', 'What', 'Batch', 'images/s', 'peak memory (MiB)',
                'speed-up'
            ], rows)
        ]
        for key, s in stats.items():
            name, what, batch = key.split('|')
            single = stats.get(f'{name}|{what}|1')
            if batch != '1' and single:
                out.append(
                    f'{name} {what}: batch {batch} gives '
                    f'{ratio(s["images_per_s"], single["images_per_s"])}'
                    'x the images/s of batch 1.')
        if section == 'throughput':
            out.append(f'{base} (DEKRHead) predicts one image at a time.')
    return '\n'.join(out)


def main():
    args = parse_args()
    cuda = args.device.startswith('cuda')
    args.batch_size = args.batch_size or (8 if cuda else 2)
    args.runs = args.runs or (30 if cuda else 5)
    args.warmup = args.warmup if args.warmup is not None else (
        10 if cuda else 1)
    results = measure(args)
    text = report(results)
    print(text)
    if args.out_dir:
        os.makedirs(args.out_dir, exist_ok=True)
        with open(osp.join(args.out_dir, 'benchmark.md'), 'w') as f:
            f.write(text + '\n')
        with open(osp.join(args.out_dir, 'benchmark.json'), 'w') as f:
            json.dump(results, f, indent=2, default=str)


if __name__ == '__main__':
    main()
