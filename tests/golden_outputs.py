# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Golden outputs of the main configs, recorded before a refactor and
compared after it (``tests/test_golden_outputs.py``).

For the four paper configs (shrunk to a width-8 HRNet at 128x128) and the
synthetic one, with fixed seeds and one thread:

- ``<config>/keys``: the state-dict keys and shapes;
- ``<config>/loss/...`` and ``<config>/grad/<parameter>``: the losses of
  one training step and the gradient norm of every parameter;
- ``<config>/<path>/<image>/{keypoints,scores}``: the poses (image pixels)
  of the real photos of ``../shared/data`` in single-scale, flip,
  matching, multi-scale (:data:`AUG_SCALES`) and batched inference;
- ``onnx/<image>/{keypoints,scores}``: the poses of the ONNX estimator of
  the shrunk W32 COCO model, matching off and on.

Record with ``python tests/golden_outputs.py OUT.npz`` from the repository
root.
"""
import argparse
import glob
import os.path as osp
import tempfile
from typing import Callable, Dict, List

import numpy as np
import torch
from helpers import ROOT, SHARED_DATA, dataset_meta, make_batch, shrink_options
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

from mmpose.registry import MODELS
from mmpose.utils import register_all_modules

CONFIGS = {
    'w32_coco': 'samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py',
    'w32_crowdpose': 'samkr/samkr_hrnet-w32_8xb10-140e_crowdpose-512x512.py',
    'w48_coco': 'samkr/samkr_hrnet-w48_8xb10-140e_coco-640x640.py',
    'w48_crowdpose': 'samkr/samkr_hrnet-w48_8xb5-140e_crowdpose-640x640.py',
    'synthetic': 'synthetic/samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py',
}
PATHS = {
    'single': dict(flip_test=False, match_heatmap=False),
    'flip': dict(flip_test=True, match_heatmap=False),
    'matching': dict(flip_test=True, match_heatmap=True),
    'multiscale':
    dict(flip_test=True, match_heatmap=True, multiscale_test=True),
}
# per input size: each product is a multiple of the size factor, 32
AUG_SCALES = {128: [0.5, 2.], 160: [0.8, 2.]}
META_KEYS = ('id', 'img_id', 'img_path', 'ori_shape', 'img_shape',
             'input_size', 'input_center', 'input_scale', 'flip',
             'flip_direction', 'flip_indices', 'skeleton_links')
# float rounding allowed after a refactor, per value
# (rtol, atol) per value: float32 rounding, which differs between CPUs
# (ONNX Runtime's kernels on Intel vs AMD); scores of random weights reach
# 1e4, so they are compared relative to their size too
TOLERANCES = dict(
    loss=(1e-5, 0), grad=(1e-4, 0), keypoints=(0, 1e-3), scores=(1e-5, 1e-5))


def photos(num_keypoints: int) -> List[str]:
    """The real photos with annotations of ``num_keypoints`` keypoints."""
    folders = ['crowdpose'] if num_keypoints == 14 else ['coco', 'ochuman']
    return sorted(
        path for folder in folders
        for path in glob.glob(osp.join(SHARED_DATA, folder, '*.jpg')))


def load_config(name: str) -> Config:
    """The config ``name``, the paper ones shrunk to a width-8 HRNet."""
    cfg = Config.fromfile(osp.join(ROOT, 'configs', CONFIGS[name]))
    if name != 'synthetic':
        cfg.merge_from_dict(shrink_options(128))
    return cfg


def build_model(cfg: Config, multiscale: bool = False) -> torch.nn.Module:
    """The batched (or multi-scale) estimator of ``cfg`` with seeded
    Kaiming weights, so that outputs are far from ties."""
    model_cfg = cfg.model.copy()
    model_cfg.type = 'BatchedBottomupPoseEstimator'
    if multiscale:
        model_cfg.type = 'MultiScaleBottomupPoseEstimator'
        model_cfg.data_preprocessor = dict(
            model_cfg.data_preprocessor, type='MultiScalePoseDataPreprocessor')
    model = MODELS.build(model_cfg)
    torch.manual_seed(0)
    for name, param in model.named_parameters():
        if param.dim() > 1:
            torch.nn.init.kaiming_normal_(param)
        elif name.endswith('bias'):
            torch.nn.init.normal_(param, std=0.1)
    return model


def training_step(cfg: Config, model: torch.nn.Module) -> Dict:
    """Losses and gradient norms of one step on seeded SPR targets."""
    codec = cfg.model.head.decoder
    size, heatmap = codec.input_size[0], codec.heatmap_size[0]
    samples = make_batch(cfg.model.head.num_keypoints, 2, size, heatmap)
    torch.manual_seed(1)
    inputs = torch.randn(2, 3, size, size)
    model.train()
    model.zero_grad()
    losses = model.loss(inputs, samples)
    sum(losses.values()).backward()
    out = {f'loss/{k}': v.detach().numpy() for k, v in losses.items()}
    for name, param in model.named_parameters():
        if param.grad is not None:
            out[f'grad/{name}'] = param.grad.norm().numpy()
    return out


def pipeline(cfg: Config, multiscale: bool) -> Compose:
    """Loading, ``BottomupResize`` and packing at the config's input size."""
    resize = dict(
        type='BottomupResize',
        input_size=cfg.model.head.decoder.input_size,
        size_factor=32,
        resize_mode='expand')
    pack = dict(type='PackPoseInputs', meta_keys=META_KEYS)
    if multiscale:
        size = cfg.model.head.decoder.input_size[0]
        resize.update(aug_scales=AUG_SCALES[size])
        pack.update(type='PackMultiScalePoseInputs')
    return Compose([dict(type='LoadImage'), resize, pack])


def predict(model: torch.nn.Module, cfg: Config, images: List[str],
            test_cfg: Dict) -> List[Dict]:
    """Poses of ``images`` in one batch under ``test_cfg`` overrides."""
    num_keypoints = cfg.model.head.num_keypoints
    meta = dataset_meta(num_keypoints)
    transform = pipeline(cfg, test_cfg.get('multiscale_test', False))
    data = [transform(dict(img_path=path, **meta)) for path in images]
    model.eval()
    saved = dict(model.test_cfg)
    model.test_cfg.update(test_cfg)
    try:
        with torch.no_grad():
            results = model.test_step(pseudo_collate(data))
    finally:
        model.test_cfg.clear()
        model.test_cfg.update(saved)
    return [
        dict(
            keypoints=r.pred_instances.keypoints,
            scores=r.pred_instances.keypoint_scores) for r in results
    ]


def config_outputs(name: str) -> Dict[str, np.ndarray]:
    """Every golden output of the config ``name``."""
    cfg = load_config(name)
    model = build_model(cfg)
    out = {
        'keys':
        np.array(
            [f'{k}:{tuple(v.shape)}' for k, v in model.state_dict().items()])
    }
    out.update(training_step(cfg, model))
    images = photos(cfg.model.head.num_keypoints)
    multiscale = build_model(cfg, multiscale=True)
    multiscale.load_state_dict(model.state_dict())
    for path, test_cfg in PATHS.items():
        estimator = multiscale if path == 'multiscale' else model
        for image in images:
            (poses, ) = predict(estimator, cfg, [image], test_cfg)
            for key, value in poses.items():
                out[f'{path}/{osp.basename(image)}/{key}'] = value
    for image, poses in zip(images, predict(model, cfg, images, {})):
        for key, value in poses.items():
            out[f'batched/{osp.basename(image)}/{key}'] = value
    return out


def onnx_outputs(export_onnx: Callable,
                 estimator_cls: type) -> Dict[str, np.ndarray]:
    """Poses of the ONNX estimator of the shrunk W32 COCO model.

    Args:
        export_onnx (Callable): ``export_onnx(model, out_file)``.
        estimator_cls (type): The ONNX estimator class.
    """
    import mmcv
    cfg = load_config('w32_coco')
    model = build_model(cfg).eval()
    model.cfg = cfg
    model.dataset_meta = dataset_meta(17)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        onnx_file = osp.join(tmp, 'model.onnx')
        export_onnx(model, onnx_file)
        for match in (False, True):
            estimator = estimator_cls(
                onnx_file, test_cfg=dict(match_heatmap=match))
            for image in photos(17):
                keypoints, scores = estimator(mmcv.imread(image))
                key = f'onnx/match{int(match)}/{osp.basename(image)}'
                out[f'{key}/keypoints'] = keypoints
                out[f'{key}/scores'] = scores
    return out


def golden_outputs(export_onnx: Callable,
                   estimator_cls: type) -> Dict[str, np.ndarray]:
    """All golden outputs, on one thread."""
    register_all_modules()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        out = {}
        for name in CONFIGS:
            out.update({
                f'{name}/{k}': v
                for k, v in config_outputs(name).items()
            })
        out.update(onnx_outputs(export_onnx, estimator_cls))
    finally:
        torch.set_num_threads(threads)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out', help='the .npz file to write')
    args = parser.parse_args()
    from samkr_deploy import OnnxBottomupPoseEstimator
    from samkr_mmpose.apis import export_onnx
    np.savez_compressed(
        args.out, **golden_outputs(export_onnx, OnnxBottomupPoseEstimator))


if __name__ == '__main__':
    main()
