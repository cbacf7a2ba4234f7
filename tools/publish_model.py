# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Make a training checkpoint ready for the model zoo.

Only ``meta`` and ``state_dict`` are kept (the optimizer, message hub,
parameter schedulers, ... are dropped) and the file is named as MMPose's
model zoo names them, ``<stem>-<sha256[:8]>_<YYYYMMDD>.pth``, with the first
8 hex digits of the SHA-256 of the written file and today's date.

``OUT`` is either a directory, then the stem is the config name the runner
recorded (``meta['experiment_name']`` without its timestamp), or a path
whose last part is the stem.

Example::

    python tools/publish_model.py \\
        work_dirs/samkr_hrnet-w32_8xb10-140e_coco-512x512/epoch_140.pth \\
        release/
"""
import argparse
from typing import List, Optional

from samkr_mmpose.apis import publish_model


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Publish a checkpoint: keep meta and state_dict, name '
        'it <stem>-<sha256[:8]>_<YYYYMMDD>.pth',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__)
    parser.add_argument('in_file', help='checkpoint written by the runner')
    parser.add_argument(
        'out', help='output directory, or output path without the suffix')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    path, removed = publish_model(args.in_file, args.out)
    if removed:
        print(f'removed {", ".join(removed)}')
    print(f'wrote {path}')


if __name__ == '__main__':
    main()
