# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The ONNX exporter (:mod:`samkr_mmpose.apis.export_onnx`) and the NumPy
inference of :mod:`samkr_deploy`.

A tiny SAMKR model with random weights (its centre heatmap lifted so that
poses come out) and a rescore net is exported through the tool's command
line with the default backend (ONNX ``DeformConv``) and through
:func:`export_onnx` with the pure-PyTorch one (``GridSample``).
onnxruntime must agree with PyTorch to 1e-5 of the outputs' magnitude at
input sizes and batches other than the traced ones. The NumPy pipeline
(flip test, matching to heatmap peaks, rescore net) must reproduce the poses
of MMPose's ``inference_bottomup`` to 1e-3 image pixels and 1e-5 in score
on a synthetic image and the 9 real photos of ``../shared/data``, and run
in a process that cannot import PyTorch or MMPose. Each NumPy part is
compared with the code it replaces; MMPose's DEKR head is refused.
"""
import contextlib
import glob
import io
import os.path as osp
import re
import shutil
import subprocess
import sys
from unittest import mock

import mmcv
import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
import torch.nn.functional as F
from helpers import ROOT, SHARED_DATA, TINY_CONFIG, assert_close, dataset_meta
from mmengine.config import Config

from mmpose.apis import init_model
from mmpose.codecs import SPR
from mmpose.datasets.transforms import BottomupResize
from mmpose.models.heads.hybrid_heads.dekr_head import \
    RescoreNet as TorchRescoreNet
from samkr_deploy import (OnnxBottomupPoseEstimator, RescoreNet,
                          bottomup_resize, grid_sample, heatmap_matching,
                          merge_flipped, pose_nms, spr_decode)
from samkr_mmpose.apis.export_onnx import (export_and_check, export_onnx,
                                           reference_poses, set_backend)
from samkr_mmpose.datasets import render_synthetic_image
from samkr_mmpose.models.utils import flip_forward
from samkr_mmpose.models.utils import heatmap_matching as torch_matching
from samkr_mmpose.models.utils import pose_nms as torch_pose_nms

# every real photo: COCO, CrowdPose and OCHuman
PHOTOS = sorted(glob.glob(osp.join(SHARED_DATA, '*', '*.jpg')))
# sizes and batches other than the traced (2, 3, 128, 160)
INPUT_SHAPES = [(1, 3, 64, 192), (3, 3, 160, 96)]
# Random weights give many centre peaks of similar scores and many heatmap
# peaks; where a count limit cuts through them, values 1e-7 apart decide
# which are kept. So the limits exceed the peak counts: decode_max_instances
# (centres decoded) and max_num_people (also the peaks per heatmap channel
# that the matching keeps, where torch.topk orders tied peaks arbitrarily).
CONFIG = TINY_CONFIG + """
model['head']['decoder'].update(decode_thr=0.01, decode_max_instances=200)
model['head']['rescore_cfg'] = dict(in_channels=74, norm_indexes=(5, 6))
model['test_cfg'] = dict(
    multiscale_test=False, flip_test=True, shift_heatmap=True,
    nms_dist_thr=0.05, align_corners=False, match_heatmap=True,
    max_num_people=1000)
"""

pytestmark = pytest.mark.usefixtures('one_thread')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    """A config and a checkpoint of random weights whose centre heatmap is
    lifted by 1, so that its local maxima pass the decoding threshold."""
    folder = tmp_path_factory.mktemp('model')
    config = str(folder / 'tiny_samkr.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    torch.manual_seed(0)
    model = init_model(config, device='cpu')
    with torch.no_grad():
        model.head.heatmap_conv_layers[-1].bias[-1] += 1
    checkpoint = str(folder / 'random.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dataset_meta(17))), checkpoint)
    return config, checkpoint


@pytest.fixture(scope='module')
def model(model_files):
    return init_model(*model_files, device='cpu')


@pytest.fixture(scope='module')
def images():
    """A synthetic crowd and the real photos, BGR."""
    rng = np.random.default_rng(0)
    synthetic, _, _ = render_synthetic_image(rng, (200, 150), (2, 3))
    assert len(PHOTOS) == 9
    return [synthetic] + [mmcv.imread(path) for path in PHOTOS]


@pytest.fixture(scope='module')
def exported(model_files, images, tmp_path_factory):
    """The ONNX file written by the tool's command line, and its output."""
    out = str(tmp_path_factory.mktemp('onnx') / 'tiny_samkr.onnx')
    image = str(tmp_path_factory.mktemp('images') / 'synthetic.jpg')
    mmcv.imwrite(images[0], image)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        export_and_check(*model_files, out=out, images=[image])
    return out, printed.getvalue()


def network_differences(model, session_file, shapes):
    """Assert that onnxruntime gives PyTorch's outputs at ``shapes``."""
    session = ort.InferenceSession(session_file)
    for shape in shapes:
        inputs = torch.randn(shape)
        outputs = session.run(None, {'inputs': inputs.numpy()})
        with torch.no_grad():
            expected = model._forward(inputs)
        assert len(outputs) == 2
        for out, ref in zip(outputs, expected):
            assert out.shape == tuple(ref.shape)
            assert_close(torch.from_numpy(out), ref, 1e-5)


def test_tool_command_line(exported):
    out, printed = exported
    assert 'onnx.checker: passed' in printed
    assert "backend 'torchvision'" in printed
    # two random inputs and the image
    differences = re.findall(
        r'heatmaps ([-+.e\d]+), displacements ([-+.e\d]+)', printed)
    assert len(differences) == 3
    assert all(0 <= float(d) < 1e-5 for pair in differences for d in pair)
    lines = [line for line in printed.splitlines() if 'synthetic.jpg' in line]
    assert len(lines) == 1
    poses = lines[0].split('NumPy pipeline: ')[1]
    count, expected = map(
        int,
        re.match(r'(\d+) poses \(PyTorch (\d+)\)', poses).groups())
    # near-ties may tip a pose (see test_numpy_pipeline_matches_mmpose)
    assert count > 0 and abs(count - expected) <= 1


def test_deformconv_export(model, exported):
    out, _ = exported
    onnx.checker.check_model(out, full_check=True)
    proto = onnx.load(out)
    ops = {node.op_type for node in proto.graph.node}
    assert 'DeformConv' in ops and 'GridSample' not in ops
    assert {node.domain for node in proto.graph.node} <= {'', 'ai.onnx'}
    assert proto.opset_import[0].version >= 19
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [bool(d.dim_param) for d in dims] == [True, False, True, True]
    set_backend(model, 'torchvision')
    network_differences(model, out, INPUT_SHAPES)


def test_grid_sample_export(model, tmp_path):
    out = str(tmp_path / 'grid_sample.onnx')
    export_onnx(model, out, backend='torch', opset=16)
    onnx.checker.check_model(out, full_check=True)
    proto = onnx.load(out)
    ops = {node.op_type for node in proto.graph.node}
    assert 'GridSample' in ops and 'DeformConv' not in ops
    assert proto.opset_import[0].version == 16
    network_differences(model, out, INPUT_SHAPES)


def reproduced(keypoints, scores, other_keypoints, other_scores):
    """Whether each pose has a counterpart among the other poses: keypoints
    within 1e-3 pixels and keypoint scores within 1e-5."""
    if len(keypoints) == 0 or len(other_keypoints) == 0:
        return np.zeros(len(keypoints), dtype=bool)
    distance = np.abs(keypoints[:, None] - other_keypoints).max((-2, -1))
    score = np.abs(scores[:, None] - other_scores).max(-1)
    return ((distance <= 1e-3) & (score <= 1e-5)).any(1)


@pytest.mark.parametrize('flip_test,match_heatmap', [(True, True),
                                                     (False, False)])
def test_numpy_pipeline_matches_mmpose(model, exported, images, flip_test,
                                       match_heatmap):
    """The poses of the NumPy pipeline and of ``inference_bottomup``
    reproduce each other.

    onnxruntime's outputs differ from PyTorch's by 1e-7, so where random
    heatmaps hold near-ties (neighbouring peaks, poses at the NMS distance)
    a few poses may differ: 5% of them are allowed to.
    """
    out, _ = exported
    set_backend(model, 'torchvision')
    test_cfg = dict(flip_test=flip_test, match_heatmap=match_heatmap)
    estimator = OnnxBottomupPoseEstimator(out, test_cfg=test_cfg)
    assert estimator.rescore_net is not None
    saved = {key: model.test_cfg[key] for key in test_cfg}
    model.test_cfg.update(test_cfg)
    found, expected_found = [], []
    try:
        for img in images:
            poses = estimator(img)
            expected = reference_poses(model, img)
            assert len(expected[0]) > 0
            found.append(reproduced(*poses, *expected))
            expected_found.append(reproduced(*expected, *poses))
    finally:
        model.test_cfg.update(saved)
    found, expected_found = np.concatenate(found), np.concatenate(
        expected_found)
    assert len(expected_found) >= 50
    assert found.mean() >= 0.95 and expected_found.mean() >= 0.95


def test_numpy_pipeline_without_torch(exported, images, tmp_path):
    """The deploy package, copied on its own, runs where PyTorch, MMPose,
    mmcv, mmengine and samkr_mmpose cannot be imported."""
    out, _ = exported
    shutil.copytree(osp.join(ROOT, 'samkr_deploy'), tmp_path / 'samkr_deploy')
    image = str(tmp_path / 'image.png')
    mmcv.imwrite(images[0], image)
    expected = OnnxBottomupPoseEstimator(out)(mmcv.imread(image))
    script = f"""
import sys
for name in ('torch', 'mmpose', 'mmcv', 'mmengine', 'samkr_mmpose'):
    sys.modules[name] = None
import cv2, numpy as np
from samkr_deploy import OnnxBottomupPoseEstimator
keypoints, scores = OnnxBottomupPoseEstimator({out!r})(cv2.imread({image!r}))
np.savez({str(tmp_path / 'poses.npz')!r}, keypoints=keypoints, scores=scores)
"""
    subprocess.run([sys.executable, '-c', script], cwd=tmp_path, check=True)
    poses = np.load(tmp_path / 'poses.npz')
    assert len(expected[0]) > 0
    np.testing.assert_array_equal(poses['keypoints'], expected[0])
    np.testing.assert_array_equal(poses['scores'], expected[1])


@pytest.mark.parametrize('resize_mode', ['expand', 'fit'])
@pytest.mark.parametrize('shape', [(480, 640), (333, 500), (640, 427)])
def test_bottomup_resize_matches_mmpose(resize_mode, shape):
    img = np.random.default_rng(0).integers(0, 256, (*shape, 3), np.uint8)
    expected = BottomupResize(
        input_size=(256, 256), size_factor=32,
        resize_mode=resize_mode).transform(dict(img=img, ori_shape=shape))
    resized, meta = bottomup_resize(img, (256, 256), 32, resize_mode)
    np.testing.assert_array_equal(resized, expected['img'])
    assert meta['input_size'] == expected['input_size']
    np.testing.assert_array_equal(meta['input_center'],
                                  expected['input_center'])
    np.testing.assert_array_equal(meta['input_scale'], expected['input_scale'])


def test_bottomup_resize_errors():
    img = np.zeros((10, 20, 3), np.uint8)
    with pytest.raises(ValueError, match="Unknown resize_mode 'stretch'"):
        bottomup_resize(img, (64, 64), resize_mode='stretch')
    with pytest.raises(
            ValueError,
            match=r'multiple of size_factor \(32\), '
            r'got \(64, 48\)'):
        bottomup_resize(img, (64, 48), resize_mode='fit')


def test_spr_decode_matches_codec():
    codec = SPR(
        input_size=(96, 64),
        heatmap_size=(24, 16),
        sigma=(4, 2),
        generate_keypoint_heatmaps=True,
        decode_thr=0.1,
        decode_max_instances=12)
    rng = np.random.default_rng(0)
    heatmaps = rng.uniform(0, 1, (18, 16, 24)).astype(np.float32)
    # displacements reaching past the map: border sampling
    displacements = rng.normal(0, 8, (34, 16, 24)).astype(np.float32)
    expected, (root_scores, keypoint_scores) = codec.decode(
        torch.from_numpy(heatmaps), torch.from_numpy(displacements))
    keypoints, roots, scores = spr_decode(
        heatmaps,
        displacements,
        codec.scale_factor,
        max_instances=12,
        decode_thr=0.1)
    assert len(keypoints) == 12
    assert (keypoints < 0).any() and (keypoints[..., 0] > 96).any()
    np.testing.assert_allclose(keypoints, expected.numpy(), atol=1e-5)
    np.testing.assert_allclose(roots, root_scores.numpy(), atol=1e-7)
    np.testing.assert_allclose(scores, keypoint_scores.numpy(), atol=1e-6)


def test_spr_decode_errors():
    with pytest.raises(
            ValueError,
            match=r'expected heatmaps of shape '
            r'\(18, 4, 4\).*got \(17, 4, 4\)'):
        spr_decode(
            np.zeros((17, 4, 4)), np.zeros((34, 4, 4)), scale_factor=(4, 4))
    with pytest.raises(ValueError, match='positive odd integer, got 4'):
        spr_decode(
            np.zeros((18, 4, 4)),
            np.zeros((34, 4, 4)),
            scale_factor=(4, 4),
            nms_kernel=4)


def test_pose_nms_matches_torch():
    rng = np.random.default_rng(0)
    poses = rng.uniform(0, 200, (6, 1, 2)) + rng.normal(0, 20, (6, 17, 2))
    # near-duplicates of every pose
    keypoints = np.concatenate(
        (poses, poses + rng.normal(0, 1, poses.shape))).astype(np.float32)
    scores = rng.uniform(0, 1, (12, 17)).astype(np.float32)
    expected = torch_pose_nms(
        torch.from_numpy(keypoints),
        torch.from_numpy(scores),
        dist_thr=0.05,
        max_dets=4)
    kept = pose_nms(keypoints, scores, dist_thr=0.05, max_dets=4)
    assert len(kept) == 4
    np.testing.assert_array_equal(kept, expected.numpy())
    empty = pose_nms(np.zeros((0, 17, 2)), np.zeros((0, 17)))
    assert empty.shape == (0, )


def test_heatmap_matching_matches_torch():
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:48, :64]
    heatmaps = np.zeros((3, 48, 64), np.float32)
    peaks = rng.uniform((4, 4), (60, 44), (3, 4, 2))
    for channel, centres in zip(heatmaps, peaks):
        for x, y in centres:
            channel += rng.uniform(0.3, 1) * np.exp(-((cols - x)**2 +
                                                      (rows - y)**2) / 8)
    heatmaps += rng.normal(0, 0.01, heatmaps.shape).astype(np.float32)
    keypoints = (peaks[None, :, :3].transpose(0, 2, 1, 3).reshape(3, 3, 2) +
                 rng.normal(0, 2, (3, 3, 2))).astype(np.float32)
    scores = rng.uniform(0, 0.2, (3, 3)).astype(np.float32)
    # far from every peak and below the refinement threshold: left alone
    keypoints[0, 0] = -40
    scores[0, 0] = 0
    expected = torch_matching(
        torch.from_numpy(keypoints),
        torch.from_numpy(scores),
        torch.from_numpy(heatmaps),
        max_absorb_distance=10)
    matched = heatmap_matching(
        keypoints, scores, heatmaps, max_absorb_distance=10)
    assert matched.dtype == np.float32
    np.testing.assert_array_equal(matched[0, 0], keypoints[0, 0])
    absorbed = matched[scores <= 0.05][1:]
    assert len(absorbed) > 0
    np.testing.assert_array_equal(absorbed, np.round(absorbed))
    refined = matched[scores > 0.05]
    assert len(refined) > 0 and (refined != np.round(refined)).all()
    np.testing.assert_allclose(matched, expected.numpy(), atol=1e-4)


def test_rescore_net_matches_mmpose():
    meta = dataset_meta(17)
    net = TorchRescoreNet(in_channels=74, norm_indexes=(5, 6))
    rng = np.random.default_rng(0)
    keypoints = rng.uniform(0, 100, (5, 17, 2)).astype(np.float32)
    # a pose with a zero-length torso: the normaliser is clamped to 1
    keypoints[0] = 3
    scores = rng.uniform(0, 1, (5, 17)).astype(np.float32)
    with torch.no_grad():
        expected = net(
            torch.from_numpy(keypoints), torch.from_numpy(scores),
            meta['skeleton_links'])
    layers = [(layer.weight.detach().numpy(), layer.bias.detach().numpy())
              for layer in (net.l1, net.l2, net.l3)]
    numpy_net = RescoreNet.from_settings(
        RescoreNet(layers, meta['skeleton_links'], (5, 6)).settings())
    np.testing.assert_allclose(
        numpy_net(keypoints, scores), expected.numpy(), atol=1e-5)
    with pytest.raises(
            ValueError,
            match='the rescore net takes 74 '
            'features, got 75 from 19 limbs and 18 keypoints'):
        numpy_net(
            np.concatenate((keypoints, keypoints[:, :1]), 1),
            np.concatenate((scores, scores[:, :1]), 1))


@pytest.mark.parametrize('align_corners', [True, False])
def test_grid_sample_matches_torch(align_corners):
    rng = np.random.default_rng(0)
    maps = rng.uniform(-1, 1, (3, 20, 30)).astype(np.float32)
    # beyond the border too
    grid = rng.uniform(-1.2, 1.2, (3, 40, 2)).astype(np.float32)
    expected = F.grid_sample(
        torch.from_numpy(maps)[:, None],
        torch.from_numpy(grid)[:, :, None],
        padding_mode='border',
        align_corners=align_corners)[:, 0, :, 0]
    values = grid_sample(
        maps, grid[..., 0], grid[..., 1], align_corners=align_corners)
    assert values.dtype == np.float32
    np.testing.assert_allclose(values, expected.numpy(), rtol=0, atol=1e-6)


def test_merge_flipped_matches_flip_forward():
    """Against the heads' flip test :func:`flip_forward`, on given outputs
    of a forward pass."""
    flip_indices = dataset_meta(17)['flip_indices']
    heatmaps, displacements = torch.randn(4, 18, 6,
                                          10), torch.randn(4, 34, 6, 10)
    feats = [(torch.zeros(2, 8, 6, 10), ), (torch.zeros(2, 8, 6, 10), )]
    forward = mock.Mock(return_value=(heatmaps, displacements))
    expected = flip_forward(
        forward, feats, flip_indices, input_width=40, shift_heatmap=True)
    (batch, ), _ = forward.call_args
    assert forward.call_count == 1 and batch[0].shape == (4, 8, 6, 10)
    merged = merge_flipped(
        heatmaps[:2].numpy(),
        displacements[:2].numpy(),
        heatmaps[2:].numpy(),
        displacements[2:].numpy(),
        flip_indices,
        input_width=40,
        shift_heatmap=True)
    for actual, reference in zip(merged, expected):
        np.testing.assert_array_equal(actual, reference.numpy())


def test_dekr_head_is_refused(model_files, tmp_path):
    cfg = Config.fromfile(model_files[0])
    cfg.model.head = dict(
        type='DEKRHead',
        in_channels=120,
        num_keypoints=17,
        decoder=cfg.model.head.decoder)
    dekr = init_model(cfg, device='cpu')
    with pytest.raises(
            ValueError,
            match=r'head\.displacement_conv_layers\.1\.adapt_conv is an '
            r'mmcv\.ops\.DeformConv2d.*mmcv::MMCVDeformConv2d'):
        export_onnx(dekr, str(tmp_path / 'dekr.onnx'))
    assert not (tmp_path / 'dekr.onnx').exists()


def test_export_errors(model, tmp_path):
    with pytest.raises(
            ValueError,
            match=r"backend 'torchvision' needs "
            'opset 19 or later, got 18'):
        export_onnx(model, str(tmp_path / 'x.onnx'), opset=18)
    with pytest.raises(ValueError, match="Unknown backend 'mmcv'"):
        export_onnx(model, str(tmp_path / 'x.onnx'), backend='mmcv')
    model.test_cfg['protocol'] = 'dekr'
    try:
        with pytest.raises(
                ValueError,
                match="the ONNX estimator decodes with MMPose's protocol, "
                "got test_cfg protocol='dekr'"):
            export_onnx(model, str(tmp_path / 'x.onnx'))
    finally:
        del model.test_cfg['protocol']


def test_estimator_errors(exported, tmp_path):
    out, _ = exported
    with pytest.raises(
            ValueError, match=r"Unknown test_cfg keys "
            r"\['multiscale_test'\]"):
        OnnxBottomupPoseEstimator(out, test_cfg=dict(multiscale_test=True))
    proto = onnx.load(out)
    del proto.metadata_props[:]
    bare = str(tmp_path / 'bare.onnx')
    onnx.save(proto, bare)
    with pytest.raises(ValueError, match="has no 'samkr_mmpose' metadata"):
        OnnxBottomupPoseEstimator(bare)
