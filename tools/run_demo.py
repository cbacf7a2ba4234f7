# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Train SAMKR, evaluate it with MMPose's ``CocoMetric`` and draw its
predictions: the project's main job (``make demo``).

With no ``--data-root`` it first writes a synthetic multi-person dataset
(``data/synthetic_coco`` or ``data/synthetic_crowdpose``), so it runs on a
fresh machine with no download. A real COCO 2017 or CrowdPose root in
MMPose's layout works the same way (``--data-root data/coco``).
"""
import argparse
import os.path as osp

from mmengine.config import DictAction

from samkr_mmpose.apis import DEMO_CONFIGS, run_demo

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--dataset', choices=['coco', 'crowdpose'], default='coco')
    parser.add_argument(
        '--data-root',
        help='a COCO or CrowdPose root in MMPose\'s layout; by default a '
        'synthetic one is written to data/synthetic_{dataset}')
    parser.add_argument(
        '--full',
        action='store_true',
        help='train the paper\'s HRNet-W32 512x512 config (needs a GPU and '
        'the real dataset)')
    parser.add_argument('--config', help='any config instead of the default')
    parser.add_argument('--work-dir', help='defaults to work_dirs/demo_*')
    parser.add_argument(
        '--num-train', type=int, default=400, help='synthetic train images')
    parser.add_argument(
        '--num-val', type=int, default=50, help='synthetic val images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='keypoints scoring below are not drawn')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    args = parser.parse_args()
    if args.full and not args.data_root:
        parser.error('--full trains the paper\'s 512x512 model: give the '
                     'real dataset with --data-root')
    if args.full and args.config:
        parser.error('--config replaces the config --full selects: give one')
    return args


def main() -> None:
    args = parse_args()
    config = args.config or osp.join(REPO,
                                     DEMO_CONFIGS[(args.dataset, args.full)])
    run_demo(config, args.dataset, args.data_root, args.work_dir,
             args.num_train, args.num_val, args.seed, args.kpt_thr,
             args.cfg_options)


if __name__ == '__main__':
    main()
