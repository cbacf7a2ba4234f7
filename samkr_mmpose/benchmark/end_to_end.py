# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Milliseconds per image through ``mmpose.apis.inference_bottomup``,
split by stage."""
from collections import defaultdict
from typing import Dict

import numpy as np

from mmpose.apis import inference_bottomup
from .clock import Clock, median
from .markdown_table import fmt, ratio, table
from .stage_timer import STAGES, stage_timer


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


def end_to_end_report(e2e: Dict[str, Dict[str, float]], base: str) -> list:
    """The lines of the end-to-end table."""
    names = list(e2e)
    rows = [
        [stage] + [fmt(e2e[n][stage], 2) for n in names] +
        [ratio(e2e[n][stage], e2e[base][stage]) for n in names if n != base]
        for stage in (*STAGES, 'total')
    ]
    return [
        '', '### End to end per image (inference_bottomup, flip '
        'test), ms', '',
        table(['Stage'] + names + [f'ratio {n}' for n in names if n != base],
              rows)
    ]
