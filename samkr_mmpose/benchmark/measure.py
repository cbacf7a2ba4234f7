# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Every table of the benchmark, measured for some models and a baseline
in one process."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.registry import init_default_scope

from mmpose.apis import init_model
from samkr_mmpose.datasets import render_synthetic_image
from .benchmark_config import load_benchmark_config, model_name
from .clock import Clock
from .complexity_table import measure_complexity
from .deform_table import measure_deform
from .end_to_end import end_to_end
from .forward_timing import measure_forward
from .route_mmcv_deform_conv import route_mmcv_deform_conv
from .throughput import measure_inference, measure_training

SECTIONS = ('complexity', 'deform', 'forward', 'e2e', 'throughput', 'train')


def benchmark_image(path: Optional[str]) -> np.ndarray:
    """The BGR image of the end-to-end and inference tables: ``path``,
    or a synthetic crowd at 640x480."""
    if path:
        import mmcv
        return np.ascontiguousarray(mmcv.imread(path, channel_order='bgr'))
    image, _, _ = render_synthetic_image(
        np.random.default_rng(0), (640, 480), (6, 10), (0.3, 0.8))
    return image


def measure_models(cfgs: dict, image: Optional[str], device: torch.device,
                   batch_size: int, runs: int, warmup: int,
                   sections: Sequence[str], compile_: bool,
                   clock: Clock) -> dict:
    """The sections of :func:`measure` that run the models built from
    ``cfgs``."""
    models = {
        name: init_model(cfg, device=str(device)).eval()
        for name, cfg in cfgs.items()
    }
    picture = benchmark_image(image)
    results = {}
    if 'forward' in sections:
        results['forward'] = measure_forward(models, device, compile_, runs,
                                             warmup, clock)
        print('measured forward', flush=True)
    if 'e2e' in sections:
        with torch.no_grad():
            results['e2e'] = end_to_end(models, picture, runs, warmup, clock)
        print('measured end to end', flush=True)
    if 'throughput' in sections:
        results['throughput'] = measure_inference(models, picture, batch_size,
                                                  runs, warmup, device, clock)
        print('measured throughput', flush=True)
    if 'train' in sections:
        results['train'] = measure_training(models, cfgs, batch_size, runs,
                                            warmup, device, clock)
        print('measured training', flush=True)
    return results


def measure(configs: Sequence[str],
            baseline: str,
            device: torch.device,
            batch_size: int,
            runs: int,
            warmup: int,
            sections: Sequence[str] = SECTIONS,
            image: Optional[str] = None,
            compile_: bool = False,
            cfg_options: Optional[dict] = None) -> dict:
    """Run the chosen sections, alternating the models run by run.

    Args:
        configs (Sequence[str]): Configs to measure.
        baseline (str): The config of the ratios' denominator.
        device (torch.device): The device.
        batch_size (int): Batch of the throughput tables.
        runs (int): Timed runs.
        warmup (int): Untimed runs first.
        sections (Sequence[str]): Tables to measure, of :data:`SECTIONS`.
            Defaults to all.
        image (str, optional): Image of the end-to-end table; by default a
            synthetic one.
        compile_ (bool): Also time the forward under ``torch.compile``.
            Defaults to False.
        cfg_options (dict, optional): Overrides of every config.

    Returns:
        dict: Every figure by table, with the settings.
    """
    clock = Clock(device)
    init_default_scope('mmpose')
    cfgs = {
        model_name(p): load_benchmark_config(p, cfg_options or {})
        for p in [*configs, baseline]
    }
    with route_mmcv_deform_conv(device) as routed:
        results = dict(
            device=(torch.cuda.get_device_name(device) if device.type == 'cuda'
                    else f'CPU, {torch.get_num_threads()} threads'),
            torch=torch.__version__,
            baseline=model_name(baseline),
            routed_mmcv=routed,
            batch_size=batch_size,
            runs=runs,
            warmup=warmup)
        if 'complexity' in sections:
            results['complexity'] = measure_complexity(cfgs)
            print('measured complexity', flush=True)
        if 'deform' in sections:
            results['deform'] = measure_deform(cfgs, runs, warmup, device,
                                               clock)
            print('measured deformable convolutions', flush=True)
        results.update(
            measure_models(cfgs, image, device, batch_size, runs, warmup,
                           sections, compile_, clock))
    return results
