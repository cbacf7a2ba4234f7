# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Plot the training losses and the validation APs of mmengine work dirs
as PNG.

mmengine writes one JSON line per logged training iteration and per
validation to ``WORK_DIR/<timestamp>/vis_data/scalars.json``, one folder
per run (a resumed training starts a new one). Each work dir given is one
curve, its runs joined in time order; a JSON file may be given instead.
The losses (every logged key starting with ``loss``) are drawn against
the iteration, one panel each, and the validation metrics (by default
every AP, e.g. ``coco/AP``, ``coco/AP .5``, ``crowdpose/AP(H)``) against
the epoch, or the iteration for iteration-based training (whose logger
needs ``log_metric_by_epoch=False``, as mmengine asks). COCO's -1 (no
ground truth of that size) is left out.

Example::

    python tools/plot_logs.py work_dirs/samkr_coco work_dirs/dekr_coco \\
        --out-dir work_dirs/curves

MMPose's ``tools/analysis_tools/analyze_logs.py`` needs seaborn, which
MMPose does not install, and drops the validation lines (they have no
``epoch`` key), so it cannot plot the AP.
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from samkr_mmpose.analysis import plot_logs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        'paths', nargs='+', help='work dirs or JSON logs, one curve each')
    parser.add_argument(
        '--out-dir',
        help='where the PNGs go; by default the first path\'s '
        'folder')
    parser.add_argument(
        '--losses', nargs='+', help='loss keys; by default all')
    parser.add_argument(
        '--metrics',
        nargs='+',
        help='validation keys, e.g. coco/AP coco/AR; by default every AP')
    parser.add_argument(
        '--names', nargs='+', help='legend names, one per path')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    first = args.paths[0]
    out_dir = args.out_dir or (first if osp.isdir(first) else osp.dirname(
        osp.abspath(first)))
    for png in plot_logs(args.paths, out_dir, args.losses, args.metrics,
                         args.names):
        print(f'Wrote {png}')


if __name__ == '__main__':
    main()
