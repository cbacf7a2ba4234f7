# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Predict poses on images, a video or a webcam, writing the drawn
skeletons and the predictions as JSON, with a progress bar."""
import logging
import os.path as osp
import sys
from typing import Optional

import mmcv
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from samkr_mmpose.visualization import Numpy2PoseLocalVisualizer
from .batched_pose2d_inferencer import BatchedPose2DInferencer
from .demo_input import input_kind, list_images


def load_demo_config(path: str) -> Config:
    """Load a model config, drawing with :class:`Numpy2PoseLocalVisualizer`
    where it asks for MMPose's ``PoseLocalVisualizer``, whose OpenCV
    backend fails on numpy 2.

    Args:
        path (str): The config file.

    Returns:
        Config: The config.
    """
    cfg = Config.fromfile(path)
    if cfg.get('visualizer', {}).get('type') == 'PoseLocalVisualizer':
        cfg.visualizer.type = Numpy2PoseLocalVisualizer.__name__
    return cfg


def inference_demo(config: str,
                   checkpoint: str,
                   source: str,
                   out_dir: str,
                   device: Optional[str] = None,
                   batch_size: int = 1,
                   kpt_thr: float = 0.3,
                   radius: int = 3,
                   thickness: int = 1,
                   show: bool = False) -> None:
    """Predict poses with :class:`BatchedPose2DInferencer`:
    ``OUT_DIR/visualizations/`` gets the drawn images (for a video: a video
    of the same name), ``OUT_DIR/predictions/`` one JSON per image (for a
    video: one for all frames).

    Args:
        config (str): The model config.
        checkpoint (str): The trained weights.
        source (str): An image, a folder of images, a video, ``webcam`` or
            ``webcam:ID``.
        out_dir (str): Where the outputs are written.
        device (str, optional): e.g. ``cuda:0``; by default a GPU if any.
        batch_size (int): Images or frames per forward pass. Defaults to 1.
        kpt_thr (float): Keypoints scoring below are not drawn. Defaults
            to 0.3.
        radius (int): Keypoint radius in pixels. Defaults to 3.
        thickness (int): Limb width in pixels. Defaults to 1.
        show (bool): Also show the drawings in a window. Defaults to False.

    Raises:
        ValueError: If ``source`` is a folder without images.
    """
    kind = input_kind(source)
    inputs = source
    total = 1
    if kind == 'folder':
        inputs = list_images(source)
        total = len(inputs)
        if not total:
            raise ValueError(f'no image in {source}')
    elif kind == 'video':
        total = mmcv.VideoReader(source).frame_cnt
    elif kind == 'webcam':
        # no total: the bar counts frames and shows the frame rate
        total = 0

    # MMPose logs every file it writes at INFO: that would break the
    # progress bar, so only warnings are printed
    MMLogger.get_instance('samkr_demo', log_level=logging.WARNING)
    inferencer = BatchedPose2DInferencer(
        load_demo_config(config), checkpoint, device=device)
    vis_dir = osp.join(out_dir, 'visualizations')
    pred_dir = osp.join(out_dir, 'predictions')
    bar = ProgressBar(total, file=sys.stdout)
    for result in inferencer(
            inputs,
            batch_size=batch_size,
            vis_out_dir=vis_dir,
            pred_out_dir=pred_dir,
            kpt_thr=kpt_thr,
            radius=radius,
            thickness=thickness,
            show=show):
        bar.update(len(result['predictions']))
    print(f'\nDrawn skeletons in {vis_dir}, predictions in {pred_dir}')
