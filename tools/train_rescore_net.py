# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Command line of :func:`samkr_mmpose.apis.train_rescore_net`, DEKR's
rescore-net training (see its docstring and the README)."""
import argparse

import torch
from mmengine.config import DictAction

from samkr_mmpose.apis import train_rescore_net


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def parse_args():
    parser = argparse.ArgumentParser(
        description='Train the rescore net of a bottom-up model')
    parser.add_argument('config', help='config file of the model')
    parser.add_argument('checkpoint', help='checkpoint of the model')
    parser.add_argument(
        '--out', required=True, help='checkpoint file of the rescore net')
    parser.add_argument(
        '--model-out',
        help='also write CHECKPOINT with the fitted net as head.rescore_net')
    parser.add_argument('--epochs', type=positive_int, default=20)
    parser.add_argument('--lr', type=float, default=1e-3)
    parser.add_argument('--batch-size', type=positive_int, default=1024)
    parser.add_argument(
        '--norm-indexes',
        type=int,
        nargs=2,
        help='the two skeleton links whose mean length normalises the '
        'features (default: those of the config\'s rescore_cfg, else the '
        'shoulder-hip links)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--device',
        default='cuda:0' if torch.cuda.is_available() else 'cpu',
        help='device of the model and the net')
    parser.add_argument('--num-workers', type=int, default=2)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, as in tools/train.py')
    return parser.parse_args()


def main():
    args = parse_args()
    train_rescore_net(args.config, args.checkpoint, args.out, args.model_out,
                      args.epochs, args.lr, args.batch_size, args.norm_indexes,
                      args.seed, args.device, args.num_workers,
                      args.cfg_options)


if __name__ == '__main__':
    main()
