# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Print #Params and GFLOPs of SAMKR and DEKR beside the paper's Table 3.

By default the models are MMPose's DEKR COCO configs (HRNet-W32 at 512x512,
HRNet-W48 at 640x640) and SAMKR built from them by swapping the head, the
W32 one with SWAHR's heatmap loss as in the paper. Config files given on the
command line are measured instead. No weights are loaded.
"""
import argparse
import copy

from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.registry import init_default_scope

from samkr_mmpose.utils import config_complexity

DEKR_CONFIG = ('mmpose::body_2d_keypoint/dekr/coco/'
               'dekr_hrnet-{width}_8xb10-140e_coco-{size}x{size}.py')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        'configs', nargs='*', help='config files (default: see above)')
    return parser.parse_args()


def default_configs():
    """MMPose's DEKR configs and SAMKR configs derived from them."""
    configs = []
    for width, size in (('w32', 512), ('w48', 640)):
        dekr = get_config(DEKR_CONFIG.format(width=width, size=size))
        samkr = copy.deepcopy(dekr)
        samkr.model.head.type = 'SAMKRHead'
        if width == 'w32':
            samkr.model.head.heatmap_loss = dict(type='AdaptiveHeatmapLoss')
            samkr.model.head.scale_loss = dict(type='HeatmapScaleLoss')
        configs += [(f'DEKR-{width.upper()}', dekr),
                    (f'SAMKR-{width.upper()}', samkr)]
    return configs


def main():
    args = parse_args()
    init_default_scope('mmpose')

    configs = [(path, Config.fromfile(path)) for path in args.configs] \
        or default_configs()
    header = ('Model', 'Input', '#Params (M)', 'GFLOPs', 'paper #Params (M)',
              'paper GFLOPs')
    rows = []
    for name, cfg in configs:
        stats = config_complexity(cfg)
        rows.append((name, stats['input'], f'{stats["params"] / 1e6:.2f}',
                     f'{stats["flops"] / 1e9:.2f}',
                     *map(str, stats['paper'] or ('-', '-'))))
        print(f'measured {name}', flush=True)
    widths = [max(len(row[i]) for row in rows + [header]) for i in range(6)]
    for row in [header, ['-' * w for w in widths]] + rows:
        print('| ' + ' | '.join(c.ljust(w)
                                for c, w in zip(row, widths)) + ' |')
    print('FLOPs are multiply-accumulates (mmengine\'s convention), with the '
          'deformable convolutions counted as convolutions.')


if __name__ == '__main__':
    main()
