# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Collated test and training batches for the benchmark."""
import copy
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmpose.registry import DATASETS
from samkr_mmpose.datasets import generate_synthetic_crowd


def test_batch(model: torch.nn.Module, image: np.ndarray, batch: int):
    """A collated test batch of ``image`` through the model's pipeline."""
    pipeline = Compose(model.cfg.test_dataloader.dataset.pipeline)
    data = pipeline(dict(img=image, **model.dataset_meta))
    return pseudo_collate([copy.deepcopy(data) for _ in range(batch)])


def train_batch(cfg: Config, batch: int, data_root: str):
    """A collated training batch from synthetic images at the input size."""
    size = tuple(cfg.codec.input_size)
    ann_file = generate_synthetic_crowd(
        data_root, batch, 'train', 'coco', seed=0, image_size=size)
    dataset_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    dataset_cfg.update(
        data_root=data_root,
        ann_file=osp.relpath(ann_file, data_root),
        data_prefix=dict(img='train2017/'))
    dataset = DATASETS.build(dataset_cfg)
    return pseudo_collate([dataset[i] for i in range(batch)])
