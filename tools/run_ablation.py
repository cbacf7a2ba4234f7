# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Rerun the paper's ablations (Tables 1 and 2, and MMPose's DEKR): every
config with every seed on the same budget, then a table (mean +- std and
each seed) and a plot in WORK_DIR.

By default the heads are trained on the demo's small model and synthetic
crowds on the CPU; with --data-root the configs run as they are on a real
COCO or CrowdPose root (use --cfg-options for the budget). Finished runs
are skipped, so the command resumes after a kill.
"""
import argparse

from mmengine.config import DictAction

from samkr_mmpose.apis import ablation_configs, run_ablation


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        'configs',
        nargs='*',
        help='configs to run; by default the Table 1 and 2 rows and DEKR')
    parser.add_argument('--work-dir', default='work_dirs/ablation')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2], help='seeds')
    parser.add_argument(
        '--data-root',
        help='a real COCO or CrowdPose root in MMPose\'s layout')
    parser.add_argument(
        '--dataset', choices=['coco', 'crowdpose'], default='coco')
    parser.add_argument(
        '--jobs', type=int, default=1, help='runs at a time (processes)')
    parser.add_argument(
        '--threads', type=int, help='OMP_NUM_THREADS of each run')
    parser.add_argument(
        '--num-train', type=int, default=400, help='synthetic train images')
    parser.add_argument(
        '--num-val', type=int, default=50, help='synthetic val images')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='overrides of every config, as in tools/train.py')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    records = run_ablation(
        ablation_configs(args.configs),
        args.seeds,
        args.work_dir,
        data_root=args.data_root,
        dataset=args.dataset,
        cfg_options=args.cfg_options,
        jobs=args.jobs,
        threads=args.threads,
        num_train=args.num_train,
        num_val=args.num_val)
    print(f'{len(records)} runs; results in {args.work_dir}/results.md')


if __name__ == '__main__':
    main()
