# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The project's main job (``make demo``): train SAMKR on a dataset
root in MMPose's layout (by default a synthetic one written first),
evaluate it with MMPose's ``CocoMetric`` and draw its predictions."""
import json
import os.path as osp
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

from samkr_mmpose.datasets import generate_synthetic_crowd
from samkr_mmpose.datasets.synthetic_crowd import LAYOUTS, dataset_layout
from .draw_predictions import draw_predictions

DEMO_CONFIGS = {
    # (dataset, full): config, relative to the repository root
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


def synthetic_root(dataset: str,
                   num_train: int,
                   num_val: int,
                   seed: int,
                   root: Optional[str] = None) -> str:
    """Write the synthetic dataset unless the same one is already there.

    Args:
        dataset (str): ``'coco'`` or ``'crowdpose'``.
        num_train (int): Number of training images.
        num_val (int): Number of validation images.
        seed (int): Random seed of the training split (validation:
            ``seed + 1``).
        root (str, optional): Where to write it. Defaults to
            ``data/synthetic_{dataset}``.

    Returns:
        str: The dataset root.
    """
    root = root or osp.join('data', f'synthetic_{dataset}')
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


def run_demo(config: str,
             dataset: str = 'coco',
             data_root: Optional[str] = None,
             work_dir: Optional[str] = None,
             num_train: int = 400,
             num_val: int = 50,
             seed: int = 0,
             kpt_thr: float = 0.3,
             cfg_options: Optional[dict] = None) -> None:
    """Train, test and draw the predictions on the first validation
    images (``WORK_DIR/predictions.jpg``).

    Args:
        config (str): The config to train.
        dataset (str): ``'coco'`` or ``'crowdpose'``. Defaults to
            ``'coco'``.
        data_root (str, optional): A root in MMPose's layout; by default a
            synthetic one is written (see :func:`synthetic_root`).
        work_dir (str, optional): Defaults to ``work_dirs/demo_{config}``.
        num_train (int): Synthetic training images. Defaults to 400.
        num_val (int): Synthetic validation images. Defaults to 50.
        seed (int): Random seed. Defaults to 0.
        kpt_thr (float): Keypoints scoring below are not drawn. Defaults
            to 0.3.
        cfg_options (dict, optional): Overrides of the config.
    """
    cfg = Config.fromfile(config)
    root = data_root or synthetic_root(dataset, num_train, num_val, seed)
    point_to_data(cfg, dataset, root)
    cfg.work_dir = work_dir or osp.join(
        'work_dirs', f'demo_{osp.splitext(osp.basename(config))[0]}')
    cfg.randomness = dict(seed=seed)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)

    runner = Runner.from_cfg(cfg)
    runner.train()
    metrics = runner.test()
    print_metrics(metrics)
    with open(osp.join(cfg.work_dir, 'last_checkpoint')) as f:
        checkpoint = f.read().strip()
    out_file = osp.join(cfg.work_dir, 'predictions.jpg')
    draw_predictions(cfg, checkpoint, out_file, kpt_thr)
    print(f'Predicted skeletons on validation images: {out_file}')
