# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""One run of the ablation harness, in a process of its own:
``python -m samkr_mmpose.apis.ablation_worker CONFIG WORK_DIR``."""
import json
import os
import os.path as osp
import sys
import time

from mmengine.config import Config
from mmengine.runner import Runner

RESULT_FILE = 'result.json'


def train_and_test(config_file: str, work_dir: str) -> dict:
    """Train a config in ``WORK_DIR/train`` (resuming its last checkpoint
    there if a run was killed), test it, and write ``WORK_DIR/result.json``
    atomically, so that a run counts as done only when complete.

    Args:
        config_file (str): The config, with its seed (not in
            ``WORK_DIR/train``, where the runner writes its own copy).
        work_dir (str): The run's folder.

    Returns:
        dict: ``metrics`` of the test and ``train_seconds`` (of the last
        session of a resumed run).
    """
    cfg = Config.fromfile(config_file)
    cfg.work_dir = osp.join(work_dir, 'train')
    cfg.resume = True
    runner = Runner.from_cfg(cfg)
    start = time.perf_counter()
    runner.train()
    seconds = time.perf_counter() - start
    metrics = runner.test()
    result = dict(
        metrics={
            k: float(v)
            for k, v in metrics.items()
        },
        train_seconds=seconds)
    partial = osp.join(work_dir, RESULT_FILE + '.part')
    with open(partial, 'w') as f:
        json.dump(result, f, indent=2)
    os.replace(partial, osp.join(work_dir, RESULT_FILE))
    return result


if __name__ == '__main__':
    train_and_test(*sys.argv[1:])
