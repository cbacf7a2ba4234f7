# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""SAMKR through MMPose's ``MMPoseInferencer``: a config path and a
checkpoint, on an image, a folder and a video, with the skeletons drawn by
:class:`Numpy2PoseLocalVisualizer` (MMPose's OpenCV visualizer fails on
numpy 2).

The model is the project's CPU config (HRNet-W16, 160 px) with random
weights; its predictions are compared with MMPose's plain
``inference_bottomup``. The real images and video in ``../shared/data``
are used where they exist, generated synthetic ones everywhere.
"""
import json
import os
import os.path as osp
import warnings
from typing import List, Sequence, Tuple

import cv2
import mmcv
import numpy as np
import pytest
import torch
from helpers import ROOT, SHARED_DATA, dataset_meta
from mmengine.config import Config
from mmengine.structures import InstanceData

from mmpose.apis import MMPoseInferencer, inference_bottomup, init_model
from mmpose.registry import MODELS
from mmpose.structures import PoseDataSample
from mmpose.visualization import PoseLocalVisualizer
from samkr_mmpose.datasets import render_synthetic_image
from samkr_mmpose.visualization import Numpy2PoseLocalVisualizer

BASE_CONFIG = osp.join(ROOT, 'configs', 'synthetic',
                       'samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py')
# the visualizer the SAMKR configs should select, and its module
CONFIG = f"""_base_ = [{BASE_CONFIG!r}]
custom_imports = dict(
    imports=['samkr_mmpose', 'samkr_mmpose.visualization'],
    allow_failed_imports=False)
visualizer = dict(type='Numpy2PoseLocalVisualizer')
"""


def numpy_refuses_1d_scalars() -> bool:
    """Whether ``int()`` of a 1-element array is an error (deprecated in
    numpy 1.25, an error in 2.4)."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            int(np.array([3]))
        except TypeError:
            return True
    return False


pytestmark = pytest.mark.usefixtures('one_thread')


def write_model(out_dir: str) -> Tuple[str, str]:
    """Write the CPU config and a checkpoint of it with random weights.

    Returns:
        tuple: The config and the checkpoint paths.
    """
    config = osp.join(out_dir, 'samkr_synthcoco.py')
    with open(config, 'w') as f:
        f.write(CONFIG)
    model = MODELS.build(Config.fromfile(config).model)
    checkpoint = osp.join(out_dir, 'random.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(dataset_meta=dataset_meta(17))), checkpoint)
    return config, checkpoint


def write_images(folder: str,
                 sizes: Sequence[Tuple[int, int]],
                 seed: int = 0) -> List[str]:
    """Write synthetic crowd images of the given ``(width, height)``."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index, size in enumerate(sizes):
        img, _, _ = render_synthetic_image(rng, size, num_people=(1, 3))
        paths.append(osp.join(folder, f'synthetic_{index}.jpg'))
        mmcv.imwrite(img, paths[-1])
    return paths


def write_video(path: str,
                num_frames: int,
                size: Tuple[int, int],
                seed: int = 0) -> None:
    """Write an mp4 of synthetic crowd frames of ``(width, height)``."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 10, size)
    for _ in range(num_frames):
        writer.write(render_synthetic_image(rng, size)[0])
    writer.release()


@pytest.fixture(scope='module')
def model_files(tmp_path_factory) -> Tuple[str, str]:
    return write_model(str(tmp_path_factory.mktemp('model')))


@pytest.fixture(scope='module')
def inferencer(model_files) -> MMPoseInferencer:
    config, checkpoint = model_files
    return MMPoseInferencer(
        pose2d=config, pose2d_weights=checkpoint, device='cpu')


@pytest.fixture(scope='module')
def reference_model(model_files):
    """The same model through MMPose's plain inference API."""
    return init_model(*model_files, device='cpu')


def reference_keypoints(model, img) -> np.ndarray:
    (sample, ) = inference_bottomup(model, img)
    return sample.pred_instances.keypoints


def assert_same_predictions(instances: List[dict],
                            keypoints: np.ndarray) -> None:
    """The inferencer's instance dicts hold ``keypoints``."""
    assert len(instances) == len(keypoints) > 0
    np.testing.assert_allclose(
        np.array([i['keypoints'] for i in instances]),
        keypoints,
        rtol=0,
        atol=1e-3)


def sample_with_keypoints(keypoints: np.ndarray) -> PoseDataSample:
    instances = InstanceData()
    instances.keypoints = keypoints.astype(np.float32)
    instances.keypoint_scores = np.ones(keypoints.shape[:2], np.float32)
    sample = PoseDataSample()
    sample.pred_instances = instances
    return sample


def test_opencv_visualizer_draws_every_keypoint():
    meta = dataset_meta(17)
    # a 5 x 4 grid, 30 px apart: no circle covers another's centre
    grid = np.stack(np.meshgrid(np.arange(5), np.arange(4)), -1)
    keypoints = (grid.reshape(-1, 2)[:17] * 30 + 20)[None]
    img = np.zeros((140, 160, 3), np.uint8)
    visualizer = Numpy2PoseLocalVisualizer(
        name='test_opencv_keypoints', radius=4)
    visualizer.set_dataset_meta(meta)
    drawn = visualizer.add_datasample(
        'test', img, sample_with_keypoints(keypoints), draw_gt=False)
    assert drawn.shape == img.shape
    for (x, y), colour in zip(keypoints[0], meta['keypoint_colors']):
        assert tuple(drawn[y, x]) == tuple(colour)
    # nothing is drawn on the right edge, far from every keypoint and limb
    assert not drawn[:, 150:].any()

    plain = PoseLocalVisualizer(name='test_opencv_plain', radius=4)
    plain.set_dataset_meta(meta)
    if numpy_refuses_1d_scalars():
        # the failure Numpy2PoseLocalVisualizer exists for
        with pytest.raises(TypeError, match='0-dimensional'):
            plain.add_datasample(
                'test', img, sample_with_keypoints(keypoints), draw_gt=False)
    else:
        np.testing.assert_array_equal(
            plain.add_datasample(
                'test', img, sample_with_keypoints(keypoints), draw_gt=False),
            drawn)


def test_opencv_visualizer_rejects_several_radii():
    visualizer = Numpy2PoseLocalVisualizer(name='test_opencv_radii')
    visualizer.set_image(np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match='got 2 radii'):
        visualizer.draw_circles(np.array([8, 8]), np.array([2, 3]))


def test_inferencer_image(inferencer, reference_model, tmp_path):
    (path, ) = write_images(str(tmp_path / 'images'), [(200, 150)])
    (result, ) = inferencer(
        path, return_vis=True, kpt_thr=0.0, out_dir=str(tmp_path / 'out'))
    assert inferencer.inferencer.visualizer.__class__ is (
        Numpy2PoseLocalVisualizer)
    (instances, ) = result['predictions']
    expected = reference_keypoints(reference_model, path)
    assert_same_predictions(instances, expected)
    with open(tmp_path / 'out' / 'predictions' / 'synthetic_0.json') as f:
        assert_same_predictions(json.load(f), expected)

    # the skeletons drawn are the predicted ones
    (drawn, ) = result['visualization']
    img = mmcv.imread(path, channel_order='rgb')
    visualizer = Numpy2PoseLocalVisualizer(name='test_inferencer_image')
    visualizer.set_dataset_meta(reference_model.dataset_meta)
    (sample, ) = inference_bottomup(reference_model, path)
    np.testing.assert_array_equal(
        drawn,
        visualizer.add_datasample(
            'test', img, sample, draw_gt=False, kpt_thr=0.0))
    assert (drawn != img).any()
    saved = mmcv.imread(
        str(tmp_path / 'out' / 'visualizations' / 'synthetic_0.jpg'))
    assert saved.shape == img.shape


def check_folder(inferencer, reference_model, folder: str,
                 out_dir: str) -> None:
    """Every image of a folder is drawn and predicted as alone."""
    names = sorted(n for n in os.listdir(folder) if n.endswith('.jpg'))
    results = list(inferencer(folder, out_dir=out_dir))
    assert len(results) == len(names)
    for name, result in zip(names, results):
        path = osp.join(folder, name)
        (instances, ) = result['predictions']
        assert_same_predictions(instances,
                                reference_keypoints(reference_model, path))
        stem = osp.splitext(name)[0]
        with open(osp.join(out_dir, 'predictions', f'{stem}.json')) as f:
            assert_same_predictions(
                json.load(f), reference_keypoints(reference_model, path))
        drawn = mmcv.imread(osp.join(out_dir, 'visualizations', name))
        assert drawn.shape == mmcv.imread(path).shape


def check_video(inferencer, reference_model, video: str, out_dir: str) -> None:
    """A video gives a drawn video of its frames and size, and one JSON of
    per-frame predictions, which are those of the frames alone."""
    frames = list(mmcv.VideoReader(video))
    results = list(inferencer(video, out_dir=out_dir))
    assert len(results) == len(frames) > 0
    name = osp.basename(video)
    drawn = mmcv.VideoReader(osp.join(out_dir, 'visualizations', name))
    assert (drawn.frame_cnt, drawn.width,
            drawn.height) == (len(frames), frames[0].shape[1],
                              frames[0].shape[0])
    stem = osp.splitext(name)[0]
    with open(osp.join(out_dir, 'predictions', f'{stem}.json')) as f:
        saved = json.load(f)
    assert [s['frame_id'] for s in saved] == list(range(len(frames)))
    for frame, record in zip(frames, saved):
        assert_same_predictions(record['instances'],
                                reference_keypoints(reference_model, frame))


def test_inferencer_synthetic_folder(inferencer, reference_model, tmp_path):
    folder = str(tmp_path / 'images')
    write_images(folder, [(160, 160), (240, 120), (120, 200)])
    # not images: skipped by MMPose's folder listing
    with open(osp.join(folder, 'notes.json'), 'w') as f:
        f.write('{}')
    check_folder(inferencer, reference_model, folder, str(tmp_path / 'out'))


def test_inferencer_synthetic_video(inferencer, reference_model, tmp_path):
    video = str(tmp_path / 'synthetic.mp4')
    write_video(video, 4, (192, 128))
    check_video(inferencer, reference_model, video, str(tmp_path / 'out'))


def test_inferencer_shared_data(inferencer, reference_model, tmp_path):
    for folder in ('coco', 'crowdpose', 'ochuman'):
        check_folder(inferencer, reference_model,
                     osp.join(SHARED_DATA, folder), str(tmp_path / folder))
    videos = sorted(os.listdir(osp.join(SHARED_DATA, 'video')))
    assert videos
    for name in videos:
        check_video(inferencer, reference_model,
                    osp.join(SHARED_DATA, 'video', name),
                    str(tmp_path / osp.splitext(name)[0]))
