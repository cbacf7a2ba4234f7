# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Predict poses with a trained SAMKR model on an image, a folder of
images, a video or a webcam, and write the drawn skeletons and the
predictions as JSON.

It runs MMPose's 2D pose inferencer (``MMPoseInferencer`` wraps the same
one), which also writes the outputs: ``OUT_DIR/visualizations/`` holds the
drawn images (for a video: a video of the same name) and
``OUT_DIR/predictions/`` one JSON per image (for a video: one for all
frames), as lists of ``keypoints`` and ``keypoint_scores`` per person.
Unlike MMPose's, the inferencer here predicts ``--batch-size`` images per
forward pass (SAMKR's head predicts batches), and draws with
:class:`Numpy2PoseLocalVisualizer` where the config asks for MMPose's
``PoseLocalVisualizer`` (broken on numpy 2). A progress bar counts the
images or frames.

Examples::

    python tools/demo.py CONFIG CHECKPOINT image.jpg
    python tools/demo.py CONFIG CHECKPOINT images/ --batch-size 8
    python tools/demo.py CONFIG CHECKPOINT video.mp4 --out-dir out
    python tools/demo.py CONFIG CHECKPOINT webcam:0

A webcam (``webcam`` is camera 0) needs a display: the skeletons are shown
in a window, Esc stops.
"""
import argparse
import logging
import mimetypes
import os
import os.path as osp
import re
import sys
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import mmcv
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from mmpose.apis.inferencers import Pose2DInferencer
from mmpose.apis.inferencers.pose2d_inferencer import InputType
from samkr_mmpose.engine import harden_model
from samkr_mmpose.visualization import Numpy2PoseLocalVisualizer

WEBCAM = re.compile(r'webcam(:\d+)?')


class BatchedPose2DInferencer(Pose2DInferencer):
    """MMPose's 2D pose inferencer, predicting ``batch_size`` images per
    forward pass.

    MMPose's inferencers take ``batch_size`` but collate one image at a
    time. Bottom-up models whose head predicts batches of images of any
    sizes (SAMKR's :class:`BatchedBottomupPoseEstimator`) get the whole
    batch here; everything else (visualisation, JSON, videos, webcam) is
    MMPose's. The arguments are those of :class:`Pose2DInferencer`.

    Raises:
        ValueError: If the model is not bottom-up.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.cfg.data_mode != 'bottomup':
            raise ValueError(f'batched inference needs a bottom-up model, '
                             f'got data_mode={self.cfg.data_mode!r}')

    def _init_model(self, cfg, weights, device='cpu'):
        """Build the model as :class:`Pose2DInferencer` does, with
        :class:`BatchedBottomupPoseEstimator` for MMPose's
        ``BottomupPoseEstimator`` (:func:`harden_model`)."""
        if cfg:
            cfg.model = harden_model(cfg.model)
        return super()._init_model(cfg, weights, device)

    def preprocess(self,
                   inputs: Iterable[InputType],
                   batch_size: int = 1,
                   **kwargs) -> Iterator[Tuple[dict, List[InputType]]]:
        """Run the test pipeline and collate ``batch_size`` inputs at a
        time.

        Args:
            inputs (Iterable[str | np.ndarray]): Image paths or BGR images
                (video frames).
            batch_size (int): Images per batch. Defaults to 1.
            **kwargs: MMPose's person-box arguments (``bboxes``,
                ``bbox_thr``, ``nms_thr``), which bottom-up models ignore.

        Yields:
            tuple: The collated batch and its inputs.
        """
        if batch_size < 1:
            raise ValueError(f'batch_size must be >= 1, got {batch_size}')
        batch: List[dict] = []
        originals: List[InputType] = []
        for index, item in enumerate(inputs):
            batch.extend(self.preprocess_single(item, index=index))
            originals.append(item)
            if len(originals) == batch_size:
                yield self.collate_fn(batch), originals
                batch, originals = [], []
        if originals:
            yield self.collate_fn(batch), originals


def list_images(folder: str) -> List[str]:
    """The images in a folder, by file name, as MMPose's inferencer lists
    them (by MIME type), but skipping folders and files of no known type.

    Args:
        folder (str): The folder.

    Returns:
        List[str]: The image paths, sorted.
    """
    paths = [osp.join(folder, name) for name in sorted(os.listdir(folder))]
    return [
        p for p in paths if osp.isfile(p) and (
            mimetypes.guess_type(p)[0] or '').startswith('image/')
    ]


def input_kind(source: str) -> str:
    """Tell what a demo input is.

    Args:
        source (str): ``webcam``, ``webcam:ID``, a folder, a video or an
            image file.

    Returns:
        str: ``'webcam'``, ``'folder'``, ``'video'`` or ``'image'``.

    Raises:
        ValueError: If ``source`` is none of these.
    """
    if WEBCAM.fullmatch(source):
        return 'webcam'
    if source.startswith('webcam'):
        raise ValueError(f'a webcam is webcam or webcam:ID with an integer '
                         f'camera ID, got {source!r}')
    if osp.isdir(source):
        return 'folder'
    if not osp.isfile(source):
        raise ValueError(f'input {source!r} is no file, folder or webcam')
    kind = (mimetypes.guess_type(source)[0] or '').split('/')[0]
    if kind not in ('image', 'video'):
        raise ValueError(f'input {source!r} is neither an image nor a video '
                         f'(by its extension)')
    return kind


def load_config(path: str) -> Config:
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


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the model config')
    parser.add_argument('checkpoint', help='the trained weights')
    parser.add_argument(
        'input',
        help='an image, a folder of images, a video, webcam or '
        'webcam:ID')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/demo_output',
        help='visualizations/ and predictions/ are written here')
    parser.add_argument(
        '--device', help='e.g. cuda:0 or cpu; by default a GPU if any')
    parser.add_argument(
        '--batch-size',
        type=int,
        default=1,
        help='images or frames per forward pass (webcam: 1)')
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='keypoints scoring below are not drawn')
    parser.add_argument(
        '--radius', type=int, default=3, help='keypoint radius in pixels')
    parser.add_argument(
        '--thickness', type=int, default=1, help='limb width in pixels')
    parser.add_argument(
        '--show',
        action='store_true',
        help='also show the drawings in a window (needs a display; always '
        'on for a webcam)')
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    try:
        args.kind = input_kind(args.input)
    except ValueError as error:
        parser.error(str(error))
    return args


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    inputs = args.input
    total = 1
    if args.kind == 'folder':
        inputs = list_images(args.input)
        total = len(inputs)
        if not total:
            raise ValueError(f'no image in {args.input}')
    elif args.kind == 'video':
        total = mmcv.VideoReader(args.input).frame_cnt
    elif args.kind == 'webcam':
        # no total: the bar counts frames and shows the frame rate
        total = 0

    # MMPose logs every file it writes at INFO: that would break the
    # progress bar, so only warnings are printed
    MMLogger.get_instance('samkr_demo', log_level=logging.WARNING)
    inferencer = BatchedPose2DInferencer(
        load_config(args.config), args.checkpoint, device=args.device)
    vis_dir = osp.join(args.out_dir, 'visualizations')
    pred_dir = osp.join(args.out_dir, 'predictions')
    bar = ProgressBar(total, file=sys.stdout)
    for result in inferencer(
            inputs,
            batch_size=args.batch_size,
            vis_out_dir=vis_dir,
            pred_out_dir=pred_dir,
            kpt_thr=args.kpt_thr,
            radius=args.radius,
            thickness=args.thickness,
            show=args.show):
        bar.update(len(result['predictions']))
    print(f'\nDrawn skeletons in {vis_dir}, predictions in {pred_dir}')


if __name__ == '__main__':
    main()
