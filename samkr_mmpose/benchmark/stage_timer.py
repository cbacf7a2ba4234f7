# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Milliseconds spent in each stage of bottom-up inference."""
import contextlib
import time
from collections import defaultdict
from typing import Callable, Iterator, List, Tuple

import torch
from mmengine.dataset import Compose

import mmpose.models.heads.hybrid_heads.dekr_head as dekr_head_module
import samkr_mmpose.models.utils.bottomup_post_processor as post_processor
from .clock import Clock
from .patched import patched

STAGES = ('pipeline', 'preprocess', 'forward', 'decode', 'nms', 'matching',
          'rescore', 'other')


def timed_stages(model: torch.nn.Module) -> List[Tuple[object, str, str]]:
    """The functions that make up each inference stage of a model, as
    ``(owner, attribute, stage)``."""
    stages = [(Compose, '__init__', 'pipeline'),
              (Compose, '__call__', 'pipeline'),
              (model.data_preprocessor, 'forward', 'preprocess')]
    stages += [(module, 'forward', 'forward')
               for module in (model.backbone, model.neck, model.head)
               if module is not None]
    stages += [(model.head.decoder, 'decode', 'decode'),
               (dekr_head_module, 'nearby_joints_nms', 'nms'),
               (post_processor, 'pose_nms', 'nms'),
               (post_processor.BottomupPostProcessor, 'match_heatmap',
                'matching')]
    if model.head.rescore_net is not None:
        stages.append((model.head.rescore_net, 'forward', 'rescore'))
    return stages


def _timed(original: Callable, stage: str, times: dict,
           clock: Clock) -> Callable:
    """``original``, adding its milliseconds to ``times[stage]``."""

    def timed(*args, **kwargs):
        clock.sync()
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            clock.sync()
            times[stage] += (time.perf_counter() - start) * 1e3

    return timed


@contextlib.contextmanager
def stage_timer(model: torch.nn.Module, clock: Clock) -> Iterator[dict]:
    """Accumulate the milliseconds spent in each inference stage while the
    block runs, by wrapping the functions that make up the stage (see
    :func:`timed_stages`); every one is restored when the block ends,
    also if it raises.

    Args:
        model (torch.nn.Module): A bottom-up pose estimator.
        clock (Clock): Waits for the device's work around each stage.

    Yields:
        dict: Milliseconds by stage, filled while the block runs.
    """
    times = defaultdict(float)
    with contextlib.ExitStack() as stack:
        for owner, attr, stage in timed_stages(model):
            stack.enter_context(
                patched(owner, attr,
                        _timed(getattr(owner, attr), stage, times, clock)))
        yield times
