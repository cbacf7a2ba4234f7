# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Print #Params and GFLOPs of SAMKR and DEKR beside the paper's Table 3.

By default the models are MMPose's DEKR COCO configs (HRNet-W32 at 512x512,
HRNet-W48 at 640x640) and SAMKR built from them by swapping the head, the
W32 one with SWAHR's heatmap loss as in the paper. Config files given on the
command line are measured instead. No weights are loaded.
"""
import argparse

from mmengine.config import Config
from mmengine.registry import init_default_scope

from samkr_mmpose.benchmark import complexity_row, paper_configs, table
from samkr_mmpose.benchmark.complexity_table import HEADER
from samkr_mmpose.utils import config_complexity


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        'configs', nargs='*', help='config files (default: see above)')
    return parser.parse_args()


def main():
    args = parse_args()
    init_default_scope('mmpose')
    configs = [(path, Config.fromfile(path)) for path in args.configs] \
        or paper_configs()
    rows = []
    for name, cfg in configs:
        rows.append(complexity_row(name, config_complexity(cfg)))
        print(f'measured {name}', flush=True)
    print(table(HEADER, rows))
    print('FLOPs are multiply-accumulates (mmengine\'s convention), with the '
          'deformable convolutions counted as convolutions.')


if __name__ == '__main__':
    main()
