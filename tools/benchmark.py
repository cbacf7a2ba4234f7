# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Benchmark SAMKR against MMPose's DEKR, side by side in one process.

Every measurement alternates the models run by run (after warm-up runs) and
reports medians, so that a machine's drift hits all of them alike; the
ratio column divides each model's figure by the baseline's. Tables:

- complexity: #Params and GFLOPs beside the paper's Table 3;
- deformable convolution: each kernel on the SAMKR head's shape, which is
  what ``deform_backend='auto'`` chooses from;
- network forward at batch 1: eager, and on CUDA in a CUDA graph and, with
  ``--compile``, under ``torch.compile``;
- end to end per image through ``mmpose.apis.inference_bottomup`` with the
  configs' flip test, split by stage;
- throughput at ``--batch-size`` (inference, network forward, training
  step) with peak memory: allocated CUDA memory, or on CPU the growth of
  the process's peak resident memory.

Weights are random and nothing is downloaded. So that decoding, NMS,
matching and rescoring see as many poses as trained models give on crowded
images, every model decodes its ``decode_max_instances`` highest centre
peaks (30 in MMPose's DEKR configs) whatever their score. On CUDA without
mmcv CUDA kernels, the baseline's mmcv ``DeformConv2d`` runs torchvision's
kernel (the same operation, see ``route_mmcv_deform_conv``).
"""
import argparse
import os.path as osp

import torch
from mmengine.config import DictAction

from samkr_mmpose.benchmark import SECTIONS, measure, report, write_report

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
SAMKR_CONFIG = osp.join(ROOT, 'configs', 'samkr',
                        'samkr_hrnet-w32_8xb10-140e_coco-512x512.py')
DEKR_CONFIG = ('mmpose::body_2d_keypoint/dekr/coco/'
               'dekr_hrnet-w32_8xb10-140e_coco-512x512.py')


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument(
        'configs',
        nargs='*',
        default=[SAMKR_CONFIG],
        help='configs to measure (default: SAMKR-W32 COCO 512)')
    parser.add_argument(
        '--baseline',
        default=DEKR_CONFIG,
        help='the config of the ratios\' denominator (default: MMPose\'s '
        'DEKR-W32 COCO 512)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device (default: cuda if available)')
    parser.add_argument(
        '--batch-size',
        type=int,
        help='batch of the throughput tables (default: 8 on CUDA, 2 on CPU)')
    parser.add_argument(
        '--runs', type=int, help='timed runs (default: 30 on CUDA, 5 on CPU)')
    parser.add_argument(
        '--warmup',
        type=int,
        help='untimed runs first (default: 10 on CUDA, 1 on CPU)')
    parser.add_argument(
        '--image', help='image for the end-to-end table (default: synthetic)')
    parser.add_argument(
        '--sections',
        nargs='+',
        choices=SECTIONS,
        default=list(SECTIONS),
        help='tables to measure (default: all)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='also time the forward under torch.compile')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='overrides applied to every config, as in tools/train.py')
    parser.add_argument(
        '--out-dir', help='also write benchmark.md and benchmark.json here')
    return parser.parse_args()


def main():
    args = parse_args()
    cuda = args.device.startswith('cuda')
    results = measure(
        args.configs,
        args.baseline,
        torch.device(args.device),
        batch_size=args.batch_size or (8 if cuda else 2),
        runs=args.runs or (30 if cuda else 5),
        warmup=args.warmup if args.warmup is not None else (10 if cuda else 1),
        sections=args.sections,
        image=args.image,
        compile_=args.compile,
        cfg_options=args.cfg_options)
    text = report(results)
    print(text)
    if args.out_dir:
        write_report(results, text, args.out_dir)


if __name__ == '__main__':
    main()
