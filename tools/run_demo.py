# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Train SAMKR, evaluate it with MMPose's ``CocoMetric`` and draw its
predictions: the project's main job (``make demo``).

With no ``--data-root`` it first writes a synthetic multi-person dataset
(``data/synthetic_coco`` or ``data/synthetic_crowdpose``), so it runs on a
fresh machine with no download. A real COCO 2017 or CrowdPose root in
MMPose's layout works the same way (``--data-root data/coco``).
"""
import argparse
import json
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from samkr_mmpose.datasets import generate_synthetic_crowd
from samkr_mmpose.datasets.synthetic_crowd import LAYOUTS, dataset_layout

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = {
    # (dataset, full): config
    ('coco', False):
    'configs/synthetic/samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py',
    ('crowdpose', False):
    'configs/synthetic/samkr_hrnet-w16_1xb16-16e_synthcrowdpose-160x160.py',
    ('coco', True):
    'configs/samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
    ('crowdpose', True):
    'configs/samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
}
# 1-3 figures of 45-95 % of the image height: at 160x160 and 10 CPU
# minutes, smaller figures are more than the small model can learn
SYNTHETIC = dict(
    image_size=(160, 160), num_people=(1, 3), person_height=(0.45, 0.95))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        '--dataset', choices=['coco', 'crowdpose'], default='coco')
    parser.add_argument(
        '--data-root',
        help='a COCO or CrowdPose root in MMPose\'s layout; by default a '
        'synthetic one is written to data/synthetic_{dataset}')
    parser.add_argument(
        '--full',
        action='store_true',
        help='train the paper\'s HRNet-W32 512x512 config (needs a GPU and '
        'the real dataset)')
    parser.add_argument('--config', help='any config instead of the default')
    parser.add_argument('--work-dir', help='defaults to work_dirs/demo_*')
    parser.add_argument(
        '--num-train', type=int, default=400, help='synthetic train images')
    parser.add_argument(
        '--num-val', type=int, default=50, help='synthetic val images')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--kpt-thr',
        type=float,
        default=0.3,
        help='keypoints scoring below are not drawn')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    args = parser.parse_args()
    if args.full and not args.data_root:
        parser.error('--full trains the paper\'s 512x512 model: give the '
                     'real dataset with --data-root')
    if args.full and args.config:
        parser.error('--config replaces the config --full selects: give one')
    return args


def synthetic_root(dataset: str, num_train: int, num_val: int,
                   seed: int) -> str:
    """Write the synthetic dataset unless the same one is already there.

    Args:
        dataset (str): ``'coco'`` or ``'crowdpose'``.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        seed (int): Random seed of the training split (validation:
            ``seed + 1``).

    Returns:
        str: The dataset root, ``data/synthetic_{dataset}``.
    """
    root = osp.join('data', f'synthetic_{dataset}')
    settings = dict(
        dataset=dataset,
        num_train=num_train,
        num_val=num_val,
        seed=seed,
        **SYNTHETIC)
    stamp = osp.join(root, 'settings.json')
    if osp.isfile(stamp):
        with open(stamp) as f:
            # compared as JSON, which has no tuples
            if json.load(f) == json.loads(json.dumps(settings)):
                print(f'Using the synthetic dataset in {root}')
                return root
    train_split, val_split = LAYOUTS[dataset]['splits']
    print(f'Writing a synthetic {dataset} dataset to {root}')
    generate_synthetic_crowd(
        root, num_train, train_split, dataset, seed=seed, **SYNTHETIC)
    generate_synthetic_crowd(
        root,
        num_val,
        val_split,
        dataset,
        seed=seed + 1,
        first_image_id=num_train + 1,
        **SYNTHETIC)
    with open(stamp, 'w') as f:
        json.dump(settings, f)
    return root


def point_to_data(cfg: Config, dataset: str, root: str) -> None:
    """Point the dataloaders and the evaluators at a dataset root in
    MMPose's layout.

    Args:
        cfg (Config): The config to change.
        dataset (str): ``'coco'`` or ``'crowdpose'``.
        root (str): The dataset root.
    """
    train_split, val_split = LAYOUTS[dataset]['splits']
    for split, loaders in ((train_split, ['train_dataloader']),
                           (val_split, ['val_dataloader', 'test_dataloader'])):
        ann_file, img_dir = dataset_layout(dataset, split)
        for path in (ann_file, img_dir):
            if not osp.exists(osp.join(root, path)):
                raise ValueError(
                    f'{osp.join(root, path)} not found: --data-root must be '
                    f'a {dataset} root in MMPose\'s layout ({ann_file} and '
                    f'{img_dir}); is --dataset right?')
        for name in loaders:
            cfg[name].dataset.update(
                data_root=root,
                ann_file=ann_file,
                data_prefix=dict(img=img_dir))
    for name in ('val_evaluator', 'test_evaluator'):
        cfg[name].ann_file = osp.join(root,
                                      dataset_layout(dataset, val_split)[0])


def print_metrics(metrics: dict) -> None:
    """Print the metrics as a Markdown table.

    Args:
        metrics (dict): Metric names and values.
    """
    print('\n| Metric | Value |\n| --- | --- |')
    for name, value in metrics.items():
        print(f'| {name} | {value:.4f} |')
    print()


def draw_predictions(cfg: Config,
                     checkpoint: str,
                     out_file: str,
                     kpt_thr: float = 0.3,
                     num_images: int = 6,
                     min_height: int = 320) -> None:
    """Draw the predicted skeletons on the first validation images, side by
    side.

    Args:
        cfg (Config): The config that was trained.
        checkpoint (str): The checkpoint to load.
        out_file (str): The picture to write.
        kpt_thr (float): Keypoints scoring below are not drawn. Defaults
            to 0.3.
        num_images (int): Number of validation images. Defaults to 6.
        min_height (int): Smaller images are enlarged by an integer factor
            to this height or more. Defaults to 320.
    """
    import mmcv
    import numpy as np
    import torch

    from mmpose.apis import inference_bottomup, init_model
    from mmpose.registry import VISUALIZERS
    model = init_model(
        cfg, checkpoint, device='cuda' if torch.cuda.is_available() else 'cpu')
    # a new name, as the runner's visualizer is a named singleton
    visualizer = VISUALIZERS.build({
        **cfg.visualizer, 'name': 'demo_predictions'
    })
    visualizer.set_dataset_meta(model.dataset_meta)
    dataset = cfg.test_dataloader.dataset
    ann_file = osp.join(dataset.data_root, dataset.ann_file)
    with open(ann_file) as f:
        images = json.load(f)['images'][:num_images]
    if not images:
        raise ValueError(f'{ann_file} lists no images to draw')
    tiles = []
    for info in images:
        path = osp.join(dataset.data_root, dataset.data_prefix['img'],
                        info['file_name'])
        (result, ) = inference_bottomup(model, path)
        image = mmcv.imread(path, channel_order='rgb')
        scale = -(-min_height // image.shape[0])
        image = mmcv.imrescale(image, scale)
        result.pred_instances.keypoints = (
            result.pred_instances.keypoints * scale)
        tiles.append(
            visualizer.add_datasample(
                'prediction', image, result, draw_gt=False, kpt_thr=kpt_thr))
    height = max(t.shape[0] for t in tiles)
    tiles = [
        np.pad(t, ((0, height - t.shape[0]), (0, 0), (0, 0))) for t in tiles
    ]
    mmcv.imwrite(
        mmcv.rgb2bgr(np.concatenate(tiles, axis=1)), out_file, auto_mkdir=True)


def main() -> None:
    args = parse_args()
    config = args.config or osp.join(REPO, CONFIGS[(args.dataset, args.full)])
    cfg = Config.fromfile(config)
    root = args.data_root or synthetic_root(args.dataset, args.num_train,
                                            args.num_val, args.seed)
    point_to_data(cfg, args.dataset, root)
    cfg.work_dir = args.work_dir or osp.join(
        'work_dirs', f'demo_{osp.splitext(osp.basename(config))[0]}')
    cfg.randomness = dict(seed=args.seed)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    print_metrics(metrics)
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    out_file = osp.join(cfg.work_dir, 'predictions.jpg')
    draw_predictions(cfg, checkpoint, out_file, args.kpt_thr)
    print(f'Predicted skeletons on validation images: {out_file}')


if __name__ == '__main__':
    main()
