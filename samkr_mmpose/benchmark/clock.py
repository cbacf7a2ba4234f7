# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Wall-clock timing of device work, alternating between functions."""
import statistics
import time
from typing import Callable, Dict, List

import torch


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
    """The median of a list of timings, or the reason it failed."""
    return statistics.median(values) if isinstance(values, list) else values
