# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The network forward (backbone, neck, head), eager, in a CUDA graph or
under ``torch.compile``."""
from typing import Callable, Dict

import torch

from .clock import Clock, alternate, median
from .markdown_table import fmt, ratio, table


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


def forward_fns(models: dict, batch: int, device: torch.device, graphs: bool,
                compile_: bool) -> Dict[str, Callable]:
    """Network forwards (backbone, neck, head) on a random batch, by
    ``'{model}|{mode}'``."""
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


def measure_forward(models: dict, device: torch.device, compile_: bool,
                    runs: int, warmup: int, clock: Clock) -> Dict[str, float]:
    """Median milliseconds of the forwards at batch 1 (in CUDA graphs too
    on CUDA), by ``'{model}|{mode}'``."""
    fns = forward_fns(models, 1, device, device.type == 'cuda', compile_)
    return {
        key: median(v)
        for key, v in alternate(fns, runs, warmup, clock).items()
    }


def forward_report(times: Dict[str, float], base: str) -> list:
    """The lines of the forward table."""
    rows = []
    for key, value in times.items():
        name, mode = key.split('|')
        rows.append([
            name, mode,
            fmt(value, 2),
            ratio(value, times.get(f'{base}|{mode}'))
        ])
    return [
        '', '### Network forward, batch 1', '',
        table(['Model', 'Mode', 'ms', 'ratio'], rows)
    ]
