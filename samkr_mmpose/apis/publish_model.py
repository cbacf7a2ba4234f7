# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Make a training checkpoint ready for the model zoo.

Only ``meta`` and ``state_dict`` are kept (the optimizer, message hub,
parameter schedulers, ... are dropped) and the file is named as MMPose's
model zoo names them, ``<stem>-<sha256[:8]>_<YYYYMMDD>.pth``, with the first
8 hex digits of the SHA-256 of the written file and today's date.

``OUT`` is either a directory, then the stem is the config name the runner
recorded (``meta['experiment_name']`` without its timestamp), or a path
whose last part is the stem.
"""
import hashlib
import os
import os.path as osp
import re
from datetime import date
from typing import List, Tuple

import torch
from mmengine.runner import CheckpointLoader

KEPT = ('meta', 'state_dict')
# mmengine's runner: f'{config stem}_{%Y%m%d_%H%M%S}'
EXPERIMENT_NAME = re.compile(r'^(?P<stem>.+)_\d{8}_\d{6}$')


def output_stem(checkpoint: dict, out: str) -> str:
    """The output path without its ``-<sha>_<date>.pth`` suffix.

    Args:
        checkpoint (dict): The loaded checkpoint.
        out (str): An output directory or stem path.

    Returns:
        str: The stem path.
    """
    if not osp.isdir(out):
        return out[:-len('.pth')] if out.endswith('.pth') else out
    name = checkpoint.get('meta', {}).get('experiment_name', '')
    match = EXPERIMENT_NAME.match(name)
    if match is None:
        raise ValueError(
            f'cannot name the file in {out}: the checkpoint records no '
            f'config name (meta experiment_name={name!r}); give the output '
            'path with its name instead of a directory')
    return osp.join(out, match.group('stem'))


def publish_model(in_file: str, out: str) -> Tuple[str, List[str]]:
    """Write the published checkpoint.

    Args:
        in_file (str): The checkpoint written by the runner.
        out (str): An output directory or stem path (see module doc).

    Returns:
        tuple:
        - path (str): The written file.
        - removed (List[str]): The top-level keys that were dropped.
    """
    checkpoint = CheckpointLoader.load_checkpoint(in_file, map_location='cpu')
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        found = list(checkpoint) if isinstance(checkpoint,
                                               dict) else type(checkpoint)
        raise ValueError(f'{in_file} is not a checkpoint with a state_dict '
                         f'(found {found})')
    stem = output_stem(checkpoint, out)
    removed = [key for key in checkpoint if key not in KEPT]
    published = {key: checkpoint[key] for key in KEPT if key in checkpoint}

    os.makedirs(osp.dirname(stem) or '.', exist_ok=True)
    temporary = f'{stem}.unpublished'
    torch.save(published, temporary)
    with open(temporary, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    path = f'{stem}-{sha256[:8]}_{date.today():%Y%m%d}.pth'
    os.replace(temporary, path)
    return path, removed
