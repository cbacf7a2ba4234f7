# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Draw a model's predicted skeletons on validation images."""
import json
import os.path as osp

from mmengine.config import Config


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
