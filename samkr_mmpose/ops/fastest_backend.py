# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import time
from typing import Callable, Dict, Hashable, Optional, Sequence

import torch

_CHOICES: Dict[Hashable, str] = {}


def can_measure(device: torch.device) -> bool:
    """Whether kernels may be timed now: not while ``torch.compile`` traces
    or a CUDA graph captures, which timing would break."""
    if torch.compiler.is_compiling():
        return False
    return not (device.type == 'cuda'
                and torch.cuda.is_current_stream_capturing())


def measure_backends(run: Callable[[str], object],
                     candidates: Sequence[str],
                     device: torch.device,
                     runs: int = 3) -> Dict[str, float]:
    """Median seconds of ``run(backend)`` for every candidate, after one
    untimed call (kernel loading, cuDNN and allocator warm-up).

    Args:
        run (Callable[[str], object]): Runs the operation with a backend.
        candidates (Sequence[str]): The backends to time.
        device (torch.device): The device whose queued work is waited for.
        runs (int): Timed calls per backend. Defaults to 3.

    Returns:
        Dict[str, float]: Seconds by backend.
    """
    times = {}
    for backend in candidates:
        run(backend)
        samples = []
        for _ in range(runs):
            _synchronize(device)
            start = time.perf_counter()
            run(backend)
            _synchronize(device)
            samples.append(time.perf_counter() - start)
        times[backend] = sorted(samples)[len(samples) // 2]
    return times


def fastest_backend(run: Callable[[str], object], candidates: Sequence[str],
                    key: Hashable, device: torch.device) -> Optional[str]:
    """The candidate :func:`measure_backends` finds fastest, measured once
    per ``key`` in a process; ``None`` if it has not been measured and
    cannot be now (see :func:`can_measure`).

    Args:
        run (Callable[[str], object]): Runs the operation with a backend.
        candidates (Sequence[str]): The backends to choose from.
        key (Hashable): What the choice depends on (device, shapes, ...).
        device (torch.device): The device the operation runs on.

    Returns:
        str, optional: The fastest backend.
    """
    if key not in _CHOICES:
        if not can_measure(device):
            return None
        times = measure_backends(run, candidates, device)
        _CHOICES[key] = min(times, key=times.get)
    return _CHOICES[key]


def _synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
