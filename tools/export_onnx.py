# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Export the network of a SAMKR model to ONNX and check it (see
:mod:`samkr_mmpose.apis.export_onnx`)."""
import argparse

from mmengine.config import DictAction

from samkr_mmpose.apis.export_onnx import (BACKEND_OPSETS, DEFAULT_OPSET,
                                           export_and_check)


def parse_args():
    parser = argparse.ArgumentParser(
        description='Export the network of a SAMKR model to ONNX, with its '
        'test-time settings, and compare onnxruntime with PyTorch.')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint file (default: random weights)')
    parser.add_argument('--out', default='samkr.onnx', help='ONNX file')
    parser.add_argument(
        '--backend',
        choices=sorted(BACKEND_OPSETS),
        default='torchvision',
        help='adaptive convolutions as ONNX DeformConv (torchvision) or '
        'GridSample + MatMul (torch)')
    parser.add_argument(
        '--opset',
        type=int,
        help=f'ONNX opset (default: {DEFAULT_OPSET}, PyTorch\'s)')
    parser.add_argument(
        '--images', nargs='*', default=[], help='images to compare on')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config')
    return parser.parse_args()


def main():
    args = parse_args()
    export_and_check(args.config, args.checkpoint, args.out, args.backend,
                     args.opset, args.images, args.cfg_options)


if __name__ == '__main__':
    main()
