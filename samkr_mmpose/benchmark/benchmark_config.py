# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Configs as the benchmark builds them."""
import os.path as osp

from mmengine.config import Config
from mmengine.hub import get_config


def load_benchmark_config(path: str, options: dict) -> Config:
    """A config for benchmarking: no pretrained weights, the maximum
    number of poses decoded from every image.

    Args:
        path (str): A config file, or ``mmpose::`` and a config of
            MMPose's.
        options (dict): Overrides applied to the config.

    Returns:
        Config: The config.
    """
    cfg = get_config(path) if path.startswith('mmpose::') else \
        Config.fromfile(path)
    cfg.merge_from_dict(options)
    cfg.model.backbone.init_cfg = None
    if cfg.model.head.get('rescore_cfg'):
        cfg.model.head.rescore_cfg.init_cfg = None
    cfg.model.head.decoder.decode_thr = -float('inf')
    return cfg


def model_name(path: str) -> str:
    """The name of a config's model in the tables: its file stem."""
    return osp.splitext(osp.basename(path))[0]
