# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Export the network of a SAMKR model to ONNX and check it.

The ONNX model maps a normalised input batch (B, 3, H, W), H and W
multiples of 32 (what ``BottomupResize`` gives), to the heatmaps
(B, K+1, H/4, W/4) and displacements (B, 2K, H/4, W/4) of the head's
forward, with the batch and input size dynamic. It is written by PyTorch's
``torch.export``-based exporter; the adaptive convolutions export through
``--backend torchvision`` as ONNX ``DeformConv`` (opset 19 and later) or
``--backend torch`` as ``GridSample`` and ``MatMul`` (opset 16 and later).
The test-time settings (resize, normalisation, decoding, flip test, pose
NMS, matching to heatmap peaks, the rescore net's weights) go into the
model's metadata, for :class:`samkr_deploy.OnnxBottomupPoseEstimator`,
which predicts poses with onnxruntime, NumPy and OpenCV only, as MMPose's
single-scale test does.

The model is checked with ``onnx.checker`` and run in onnxruntime (CPU);
the largest absolute differences from PyTorch are printed, for random
inputs of two sizes and batches and for the given images. For the images,
the poses of ``OnnxBottomupPoseEstimator`` are also compared with those of
MMPose's ``inference_bottomup`` (at a single scale: the NumPy path has no
multi-scale test).

MMPose's DEKR head is refused: mmcv's deformable convolution does not
export to anything that onnxruntime runs.
"""
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import mmcv
import numpy as np
import onnx
import onnxruntime as ort
import torch
import torch.nn.functional as F
from mmcv.ops import DeformConv2d, ModulatedDeformConv2d
from torch import Tensor, nn

from mmpose.apis import inference_bottomup, init_model
from mmpose.datasets.transforms import PackPoseInputs
from mmpose.models.necks import fmap_proc_neck
from samkr_deploy import (METADATA_KEY, SCHEMA_VERSION,
                          OnnxBottomupPoseEstimator, RescoreNet, dump_settings)
from samkr_mmpose.models import MultiBackendDeformConv2d
from samkr_mmpose.models.utils import get_test_protocol

# the earliest opset with the ONNX operators of each backend
BACKEND_OPSETS = dict(torchvision=19, torch=16)
# PyTorch 2.14's default
DEFAULT_OPSET = 20
# ONNX custom operators that mmcv's TorchScript symbolics emit
MMCV_ONNX_OPS = {
    DeformConv2d: 'mmcv::MMCVDeformConv2d',
    ModulatedDeformConv2d: 'mmcv::MMCVModulatedDeformConv2d',
}
# batch, height and width (relative to the codec's input size) of the random
# inputs compared
RANDOM_INPUTS = ((1, 1.0, 1.0), (2, 0.75, 1.25))


class PoseNetwork(nn.Module):
    """The network of a bottom-up pose estimator: backbone, neck and head
    forward (``BasePoseEstimator._forward``).

    Args:
        model (nn.Module): The pose estimator.
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        """Forward function.

        Args:
            inputs (Tensor): Normalised images (B, 3, H, W).

        Returns:
            tuple: Heatmaps (B, K+1, H/4, W/4) and displacements
            (B, 2K, H/4, W/4).
        """
        return self.model._forward(inputs)


def check_exportable(model: nn.Module) -> None:
    """Raise a ``ValueError`` naming the first mmcv deformable convolution
    that is not a :class:`MultiBackendDeformConv2d` (e.g. in MMPose's
    ``DEKRHead``).

    ``torch.export`` cannot trace mmcv's compiled kernel, and the custom
    operators of mmcv's TorchScript symbolics need MMDeploy's operator
    library, which onnxruntime does not have.

    Args:
        model (nn.Module): The pose estimator.
    """
    for name, module in model.named_modules():
        if isinstance(module, MultiBackendDeformConv2d):
            continue
        for op_type, onnx_op in MMCV_ONNX_OPS.items():
            if isinstance(module, op_type):
                raise ValueError(
                    f'{name} is an mmcv.ops.{op_type.__name__}, which does '
                    'not export to ONNX: torch.export cannot trace its '
                    'mmcv._ext kernel, and the TorchScript exporter writes '
                    f'the custom operator {onnx_op}, which onnxruntime '
                    'does not have. Heads with MultiBackendDeformConv2d '
                    '(SAMKRHead) export.')


def set_backend(model: nn.Module, backend: str) -> None:
    """Compute every :class:`MultiBackendDeformConv2d` with ``backend``.

    Args:
        model (nn.Module): The pose estimator.
        backend (str): A backend of :data:`BACKEND_OPSETS`.
    """
    if backend not in BACKEND_OPSETS:
        raise ValueError(f'Unknown backend {backend!r} for ONNX export; '
                         f'expected one of {tuple(BACKEND_OPSETS)}')
    for module in model.modules():
        if isinstance(module, MultiBackendDeformConv2d):
            module.backend = backend


@contextmanager
def symbolic_neck_resize() -> Iterator[None]:
    """Let ``FeatureMapProcessor`` resize to the size of its first input
    without turning the size into Python integers, which would fix the
    input size of the exported model (MMPose's ``resize`` does that)."""

    def resize(input: Tensor,
               size: Optional[Sequence[int]] = None,
               scale_factor: Optional[float] = None,
               mode: str = 'nearest',
               align_corners: Optional[bool] = None,
               warning: bool = True) -> Tensor:
        return F.interpolate(input, size, scale_factor, mode, align_corners)

    original = fmap_proc_neck.resize
    fmap_proc_neck.resize = resize
    try:
        yield
    finally:
        fmap_proc_neck.resize = original


def deploy_settings(model: nn.Module) -> Dict:
    """The test-time settings that :class:`OnnxBottomupPoseEstimator`
    reads from the model's metadata.

    Args:
        model (nn.Module): A pose estimator from ``init_model``.

    Returns:
        dict: The settings of schema ``SCHEMA_VERSION`` (see
        :mod:`samkr_deploy.deploy_settings`): ``schema_version``,
        ``resize`` (arguments of :func:`bottomup_resize`),
        ``preprocessor``, ``decoder`` (arguments of :func:`spr_decode`),
        ``test_cfg``, ``flip_indices`` and ``rescore_net`` (``None``
        without one, or without ``skeleton_links`` in the packed metainfo,
        where :meth:`SAMKRHead.decode` skips it).
    """
    pipeline = model.cfg.test_dataloader.dataset.pipeline
    resizes = [t for t in pipeline if t['type'] == 'BottomupResize']
    if len(resizes) != 1 or resizes[0].get('use_udp', False):
        raise ValueError(
            'the test pipeline needs one BottomupResize without UDP, got '
            f'{resizes}')
    resize = resizes[0]
    codec = model.head.decoder
    if codec is None or not codec.generate_keypoint_heatmaps:
        raise ValueError(
            'the head needs an SPR decoder with generate_keypoint_heatmaps='
            f'True for keypoint scores, got {codec}')
    preprocessor = model.cfg.model.data_preprocessor
    test_cfg = model.test_cfg or {}
    if get_test_protocol(test_cfg) != 'mmpose':
        raise ValueError(
            "the ONNX estimator decodes with MMPose's protocol, got "
            f"test_cfg protocol={test_cfg['protocol']!r}")
    packs = [t for t in pipeline if t['type'] == 'PackPoseInputs']
    meta_keys = packs[-1].get('meta_keys', PackPoseInputs().meta_keys)
    rescore_net = None
    if model.head.rescore_net is not None and 'skeleton_links' in meta_keys:
        net = model.head.rescore_net
        rescore_net = RescoreNet([
            (layer.weight.detach().numpy(), layer.bias.detach().numpy())
            for layer in (net.l1, net.l2, net.l3)
        ], model.dataset_meta['skeleton_links'], net.norm_indexes).settings()
    return dict(
        schema_version=SCHEMA_VERSION,
        resize=dict(
            input_size=[int(s) for s in resize['input_size']],
            size_factor=resize.get('size_factor', 32),
            resize_mode=resize.get('resize_mode', 'fit'),
            pad_val=list(resize.get('pad_val', (0, 0, 0)))),
        preprocessor=dict(
            reverse_channels=bool(
                preprocessor.get('bgr_to_rgb', False)
                or preprocessor.get('rgb_to_bgr', False)),
            mean=list(preprocessor.get('mean', None) or (0, 0, 0)),
            std=list(preprocessor.get('std', None) or (1, 1, 1))),
        decoder=dict(
            scale_factor=[float(s) for s in codec.scale_factor],
            nms_kernel=codec.decode_nms_kernel,
            max_instances=codec.decode_max_instances,
            decode_thr=codec.decode_thr),
        test_cfg=dict(
            flip_test=test_cfg.get('flip_test', False),
            shift_heatmap=test_cfg.get('shift_heatmap', False),
            nms_dist_thr=test_cfg.get('nms_dist_thr', 0),
            nms_joints_thr=test_cfg.get('nms_joints_thr', None),
            max_num_people=test_cfg.get('max_num_people', 30),
            match_heatmap=test_cfg.get('match_heatmap', False),
            max_absorb_distance=test_cfg.get('max_absorb_distance', 75.),
            adjust_threshold=test_cfg.get('adjust_threshold', 0.05)),
        flip_indices=list(model.dataset_meta['flip_indices']),
        rescore_net=rescore_net)


def export_onnx(model: nn.Module,
                out_file: str,
                backend: str = 'torchvision',
                opset: Optional[int] = None) -> onnx.ModelProto:
    """Export the network of a SAMKR model with dynamic batch and input
    size, and the settings of :func:`deploy_settings` in its metadata.

    Args:
        model (nn.Module): A pose estimator from ``init_model``.
        out_file (str): The ``.onnx`` file to write.
        backend (str): Backend of the adaptive convolutions:
            ``'torchvision'`` (ONNX ``DeformConv``) or ``'torch'``
            (``GridSample`` and ``MatMul``). Defaults to ``'torchvision'``.
        opset (int, optional): ONNX opset; defaults to PyTorch's default
            or the backend's earliest, whichever is later.

    Returns:
        onnx.ModelProto: The written model.
    """
    check_exportable(model)
    set_backend(model, backend)
    opset = opset or max(DEFAULT_OPSET, BACKEND_OPSETS[backend])
    if opset < BACKEND_OPSETS[backend]:
        raise ValueError(
            f'backend {backend!r} needs opset {BACKEND_OPSETS[backend]} or '
            f'later, got {opset}')
    settings = deploy_settings(model)
    width, height = settings['resize']['input_size']
    factor = settings['resize']['size_factor']
    # a batch of 2 and unequal sides: torch.export specialises sizes of 1
    # and may tie equal ones
    example = torch.zeros(2, 3, _ceil(height, factor),
                          _ceil(width, factor) + factor)
    dim = torch.export.Dim.DYNAMIC
    with symbolic_neck_resize():
        program = torch.onnx.export(
            PoseNetwork(model).eval(), (example, ),
            dynamo=True,
            opset_version=opset,
            input_names=['inputs'],
            output_names=['heatmaps', 'displacements'],
            dynamic_shapes=dict(inputs={
                0: dim,
                2: dim,
                3: dim
            }),
            verbose=False)
    proto = program.model_proto
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, dump_settings(settings)
    onnx.save(proto, out_file)
    return proto


def _ceil(size: int, factor: int) -> int:
    """Round ``size`` up to a multiple of ``factor``."""
    return -(-size // factor) * factor


def max_differences(model: nn.Module, session: ort.InferenceSession,
                    inputs: np.ndarray) -> List[float]:
    """Largest absolute differences of the heatmaps and displacements of
    onnxruntime from PyTorch's.

    Args:
        model (nn.Module): The exported pose estimator.
        session (ort.InferenceSession): A session of the ONNX model.
        inputs (np.ndarray): Inputs (B, 3, H, W).

    Returns:
        List[float]: The heatmap and displacement differences.
    """
    outputs = session.run(None, {'inputs': inputs})
    with torch.no_grad():
        expected = model._forward(torch.from_numpy(inputs))
    return [
        float(np.abs(out - ref.numpy()).max())
        for out, ref in zip(outputs, expected)
    ]


def reference_poses(model: nn.Module,
                    img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """The poses of MMPose's ``inference_bottomup`` at a single scale, as
    :class:`OnnxBottomupPoseEstimator` predicts them.

    Args:
        model (nn.Module): A pose estimator from ``init_model``.
        img (np.ndarray): Image (H, W, 3), BGR.

    Returns:
        tuple: Keypoints (N, K, 2) and keypoint scores (N, K).
    """
    multiscale_test = model.test_cfg.get('multiscale_test', False)
    model.test_cfg['multiscale_test'] = False
    try:
        (sample, ) = inference_bottomup(model, img)
    finally:
        model.test_cfg['multiscale_test'] = multiscale_test
    return (sample.pred_instances.keypoints,
            sample.pred_instances.keypoint_scores)


def export_and_check(config: str,
                     checkpoint: Optional[str] = None,
                     out: str = 'samkr.onnx',
                     backend: str = 'torchvision',
                     opset: Optional[int] = None,
                     images: Sequence[str] = (),
                     cfg_options: Optional[Dict] = None) -> None:
    """What ``tools/export_onnx.py`` runs: export the model of ``config``,
    check the ONNX file and print its differences from PyTorch on random
    inputs and on ``images``.

    Args:
        config (str): The model config.
        checkpoint (str, optional): Its weights; random without one.
        out (str): The ONNX file to write. Defaults to ``'samkr.onnx'``.
        backend (str): See :func:`export_onnx`. Defaults to
            ``'torchvision'``.
        opset (int, optional): See :func:`export_onnx`.
        images (Sequence[str]): Images to compare on. Defaults to ().
        cfg_options (dict, optional): Overrides of the config.
    """
    model = init_model(
        config, checkpoint, device='cpu', cfg_options=cfg_options)
    start = time.perf_counter()
    proto = export_onnx(model, out, backend, opset)
    print(f'wrote {out} (opset {proto.opset_import[0].version}, '
          f'backend {backend!r}) in {time.perf_counter() - start:.0f} s')
    onnx.checker.check_model(out, full_check=True)
    print('onnx.checker: passed')
    if model.test_cfg.get('multiscale_test', False):
        print('note: OnnxBottomupPoseEstimator predicts at a single scale, '
              'without the multi-scale test of the config')

    session = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    estimator = OnnxBottomupPoseEstimator(out)
    settings = estimator.settings['resize']
    rng = np.random.default_rng(0)
    for batch, *scales in RANDOM_INPUTS:
        size = [
            _ceil(round(s * k), settings['size_factor'])
            for s, k in zip(settings['input_size'][::-1], scales)
        ]
        inputs = rng.standard_normal((batch, 3, *size), dtype=np.float32)
        heatmaps, displacements = max_differences(model, session, inputs)
        print(f'random input {inputs.shape}: max abs difference heatmaps '
              f'{heatmaps:.2e}, displacements {displacements:.2e}')
    for path in images:
        img = mmcv.imread(path)
        inputs, _ = estimator.preprocess(img)
        heatmaps, displacements = max_differences(model, session, inputs)
        keypoints, scores = estimator(img)
        expected_keypoints, expected_scores = reference_poses(model, img)
        poses = f'{len(keypoints)} poses (PyTorch {len(expected_keypoints)})'
        if keypoints.shape == expected_keypoints.shape:
            poses += (
                ', max abs difference keypoints '
                f'{np.abs(keypoints - expected_keypoints).max(initial=0):.2e}'
                ' px, scores '
                f'{np.abs(scores - expected_scores).max(initial=0):.2e}')
        print(f'{path} {inputs.shape}: max abs difference heatmaps '
              f'{heatmaps:.2e}, displacements {displacements:.2e}; NumPy '
              f'pipeline: {poses}')
