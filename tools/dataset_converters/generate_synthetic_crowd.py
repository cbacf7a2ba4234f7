# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Write a synthetic multi-person dataset in COCO or CrowdPose format.

Example::

    python tools/dataset_converters/generate_synthetic_crowd.py \
        data/synthetic_coco --num-images 200 --split val --seed 1
"""
import argparse
import time

from samkr_mmpose.datasets import generate_synthetic_crowd


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('out_dir', help='dataset root to write')
    parser.add_argument('--num-images', type=int, default=100)
    parser.add_argument(
        '--split',
        default='train',
        help='split name: COCO uses train/val, CrowdPose trainval/test')
    parser.add_argument(
        '--dataset', choices=['coco', 'crowdpose'], default='coco')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--image-size',
        type=int,
        nargs=2,
        default=(256, 256),
        metavar=('WIDTH', 'HEIGHT'))
    parser.add_argument(
        '--num-people',
        type=int,
        nargs=2,
        default=(1, 4),
        metavar=('MIN', 'MAX'),
        help='figures per image')
    parser.add_argument(
        '--person-height',
        type=float,
        nargs=2,
        default=(0.25, 0.9),
        metavar=('MIN', 'MAX'),
        help='figure height over image height')
    parser.add_argument(
        '--first-image-id',
        type=int,
        default=1,
        help='id of the first image (keep CrowdPose splits apart)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    ann_file = generate_synthetic_crowd(
        args.out_dir,
        num_images=args.num_images,
        split=args.split,
        dataset=args.dataset,
        seed=args.seed,
        image_size=args.image_size,
        num_people=args.num_people,
        person_height=args.person_height,
        first_image_id=args.first_image_id)
    print(f'Wrote {args.num_images} images and {ann_file} in '
          f'{time.perf_counter() - start:.1f} s')


if __name__ == '__main__':
    main()
