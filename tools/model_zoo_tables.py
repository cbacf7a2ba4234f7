# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Write the model-zoo tables of the README from the metafiles.

``model-index.yml`` imports one metafile per config family
(``configs/samkr/hrnet_coco.yml``, ...) in MMPose's format: a
``Collection`` and, per config, a ``Model`` with ``Config``, ``Metadata``
(architecture, training data, input size, branches, #Params and FLOPs as
measured by ``tools/complexity.py``) and, once a checkpoint has been
trained and evaluated, ``Results`` and ``Weights``. The paper's numbers are
kept apart in ``Paper Results`` (a field mim ignores), so they are never
shown as results of these configs.

The tables are written between ``<!-- model-zoo:NAME -->`` and
``<!-- model-zoo:end -->`` in the collection's README; ``--check`` only
reports whether they are up to date.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

from samkr_mmpose.analysis import write_model_zoo_tables

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--check',
        action='store_true',
        help='exit with 1 if the README is not up to date')
    args = parser.parse_args(argv)
    return write_model_zoo_tables(ROOT, args.check)


if __name__ == '__main__':
    sys.exit(main())
