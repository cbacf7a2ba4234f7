# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Images per second and peak memory of inference, network forward and
training steps."""
import os.path as osp
import tempfile
from typing import Callable, Dict

import numpy as np
import torch
from mmengine.optim import build_optim_wrapper

from .batches import test_batch, train_batch
from .clock import Clock, alternate, median
from .forward_timing import forward_fns
from .markdown_table import fmt, ratio, table
from .peak_memory import peak_memory


def measure_throughput(fns: Dict[str, Callable], runs: int, warmup: int,
                       device: torch.device, clock: Clock) -> Dict[str, dict]:
    """Images per second and peak memory of each function, keyed
    ``'{model}|{what}|{batch}'``."""
    times = alternate(fns, runs, warmup, clock)
    results = {}
    for key, fn in fns.items():
        result = dict(batch=int(key.rsplit('|', 1)[1]))
        with peak_memory(device, result):
            if isinstance(times[key], list):
                clock.time(fn)
        value = times[key]
        result['images_per_s'] = (
            result['batch'] / median(value) *
            1e3 if isinstance(value, list) else value)
        results[key] = result
    return results


def measure_inference(models: dict, image: np.ndarray, batch_size: int,
                      runs: int, warmup: int, device: torch.device,
                      clock: Clock) -> Dict[str, dict]:
    """Throughput of ``test_step`` at batch 1 and ``batch_size`` (batch 1
    only for DEKR's head), and of the network forward at ``batch_size``."""
    fns = {}
    for name, model in models.items():
        sizes = [1, batch_size]
        if type(model.head).__name__ == 'DEKRHead':
            sizes = [1]  # DEKRHead.predict asserts a batch of one
        for size in dict.fromkeys(sizes):
            data = test_batch(model, image, size)
            fns[f'{name}|inference|{size}'] = (
                lambda model=model, data=data: model.test_step(data))
    for key, fn in forward_fns(models, batch_size, device, False,
                               False).items():
        fns[f'{key.split("|")[0]}|forward|{batch_size}'] = fn
    with torch.no_grad():
        return measure_throughput(fns, runs, warmup, device, clock)


def measure_training(models: dict, cfgs: dict, batch_size: int, runs: int,
                     warmup: int, device: torch.device,
                     clock: Clock) -> Dict[str, dict]:
    """Training-step images per second and peak memory at the batch size."""
    fns = {}
    with tempfile.TemporaryDirectory() as data_root:
        for name, model in models.items():
            data = train_batch(cfgs[name], batch_size,
                               osp.join(data_root, name))
            optim_wrapper = build_optim_wrapper(model,
                                                cfgs[name].optim_wrapper)

            def step(model=model, data=data, optim_wrapper=optim_wrapper):
                model.train_step(data, optim_wrapper)

            fns[f'{name}|train|{batch_size}'] = step
            model.train()
        results = measure_throughput(fns, runs, warmup, device, clock)
    for model in models.values():
        model.eval()
    return results


def throughput_report(stats: Dict[str, dict], base: str, title: str) -> list:
    """The lines of a throughput table and the batch speed-ups."""
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
    out = [
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
            out.append(f'{name} {what}: batch {batch} gives '
                       f'{ratio(s["images_per_s"], single["images_per_s"])}'
                       'x the images/s of batch 1.')
    return out
