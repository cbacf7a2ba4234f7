# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Peak memory of a block of code."""
import contextlib
import ctypes
import os.path as osp

import torch


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
