# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Write a SAMKR initialisation from an MMPose DEKR checkpoint; see
:mod:`samkr_mmpose.apis.convert_dekr_to_samkr`."""
import argparse
from typing import List, Optional

from mmengine.config import Config, DictAction

from samkr_mmpose.apis import convert_dekr_to_samkr


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Initialise SAMKR from an MMPose DEKR checkpoint',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=convert_dekr_to_samkr.__doc__)
    parser.add_argument('dekr_checkpoint', help='DEKR checkpoint (file/URL)')
    parser.add_argument('samkr_config', help='SAMKR config file')
    parser.add_argument('out_file', help='output checkpoint (.pth)')
    parser.add_argument('--report', help='write the key report here')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the fresh initialisation (default: 0)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the SAMKR config, as in MMPose tools')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.samkr_config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    fates = convert_dekr_to_samkr.convert_checkpoint(args.dekr_checkpoint, cfg,
                                                     args.out_file,
                                                     args.report, args.seed)
    for side in ('samkr', 'dekr'):
        print(f'{side.upper()} keys: '
              f'{convert_dekr_to_samkr.count_fates(fates[side])}')
    print(f'wrote {args.out_file}' +
          (f' and {args.report}' if args.report else ''))


if __name__ == '__main__':
    main()
