# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Read the scalar logs that mmengine's runner writes to
``WORK_DIR/<timestamp>/vis_data/scalars.json``."""
import glob
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Tuple

# {key: (steps, values)}
Series = Dict[str, Tuple[List[float], List[float]]]


def find_logs(path: str) -> List[str]:
    """The scalar logs of a work dir, in run order, or a JSON log itself.

    Args:
        path (str): A work dir, one run's ``<timestamp>`` folder, or a
            JSON log.

    Returns:
        List[str]: The JSON logs.

    Raises:
        ValueError: If ``path`` holds no mmengine scalar log.
    """
    if osp.isfile(path):
        return [path]
    # mmengine's timestamps (YYYYmmdd_HHMMSS) sort in time order
    logs = sorted(
        glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')) +
        glob.glob(osp.join(path, 'vis_data', 'scalars.json')))
    if not logs:
        raise ValueError(f'{path} is no JSON log and holds no '
                         f'<timestamp>/vis_data/scalars.json')
    return logs


def read_logs(logs: Sequence[str]) -> Tuple[List[dict], List[dict]]:
    """Split the lines of JSON logs into training and validation records.

    A later run's record of the same step replaces the earlier one (a run
    resumed from an earlier checkpoint repeats steps).

    Args:
        logs (Sequence[str]): JSON logs, in run order.

    Returns:
        tuple: The training records (they have a ``loss``) and the
        validation records (the others with a metric), each sorted by
        ``step``.
    """
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for log in logs:
        with open(log) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                if 'loss' in record:
                    train[record['step']] = record
                elif any('/' in key for key in record):
                    val[record['step']] = record
    return ([train[s] for s in sorted(train)], [val[s] for s in sorted(val)])


def is_loss(key: str) -> bool:
    """Whether a training key is a loss, e.g. ``loss/heatmap``."""
    return key.startswith('loss')


def is_ap(key: str) -> bool:
    """Whether a validation key is an AP, e.g. ``coco/AP (M)``."""
    return '/' in key and key.rsplit('/', 1)[1].startswith('AP')


def collect(records: Sequence[dict],
            keys: Optional[Sequence[str]] = None,
            default: Callable[[str], bool] = is_loss) -> Series:
    """The series of some keys of log records, against their ``step``.

    Args:
        records (Sequence[dict]): The records, in step order.
        keys (Sequence[str], optional): The keys; by default every logged
            key for which ``default`` holds, in logging order.
        default (Callable[[str], bool]): Selects the default keys.
            Defaults to :func:`is_loss`.

    Returns:
        dict: ``{key: (steps, values)}``, without COCO's -1 and keys with
        no value.
    """
    if keys is None:
        keys = [
            k for k in dict.fromkeys(k for r in records for k in r)
            if default(k)
        ]
    series = {}
    for key in keys:
        points = [(r['step'], r[key]) for r in records
                  if key in r and r[key] != -1]
        if points:
            series[key] = tuple(map(list, zip(*points)))
    return series
