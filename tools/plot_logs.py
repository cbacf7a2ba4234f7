# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Command line of :mod:`samkr_mmpose.analysis.plot_logs`."""
import argparse
import os.path as osp
from typing import Optional, Sequence

from samkr_mmpose.analysis import plot_logs
from samkr_mmpose.analysis.plot_logs import __doc__ as DESCRIPTION


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=DESCRIPTION,
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
