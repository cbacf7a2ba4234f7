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
from typing import Optional, Sequence

from samkr_mmpose.apis import inference_demo, input_kind


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
    inference_demo(args.config, args.checkpoint, args.input, args.out_dir,
                   args.device, args.batch_size, args.kpt_thr, args.radius,
                   args.thickness, args.show)


if __name__ == '__main__':
    main()
