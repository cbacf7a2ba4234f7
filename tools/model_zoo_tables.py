# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Command line of :mod:`samkr_mmpose.analysis.model_zoo_tables`."""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from samkr_mmpose.analysis import write_model_zoo_tables
from samkr_mmpose.analysis.model_zoo_tables import __doc__ as DESCRIPTION

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=DESCRIPTION.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='exit with 1 if the README is not up to date')
    args = parser.parse_args(argv)
    return write_model_zoo_tables(ROOT, args.check)


if __name__ == '__main__':
    sys.exit(main())
