# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Bad input: every case either raises an error whose message names the
problem, or has a documented graceful result that the test checks.

The table ``CASES`` holds one row per case: its name, what it runs (with
the shared files and model of :func:`env`) and the outcome, either
``Raises(exception type, message pattern)`` or a function checking the
result.
"""
import contextlib
import copy
import json
import logging
import os
import os.path as osp
import pickle
import re
from typing import Any, Callable, NamedTuple, Type, Union
from unittest import mock

import cv2
import numpy as np
import pytest
import torch
from helpers import TINY_CONFIG, data_options, dataset_meta, spr_codec
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from mmengine.structures import PixelData
from torch import nn
from torch.utils.data import Dataset

from mmpose.apis import MMPoseInferencer, inference_bottomup, init_model
from mmpose.registry import DATASETS, KEYPOINT_CODECS, MODELS
from mmpose.structures import PoseDataSample
from samkr_mmpose.datasets import generate_synthetic_crowd
# registered: CheckedCocoDataset, LoadAnyImage and the hooks
from samkr_mmpose.datasets.checked_coco_style_dataset import \
    CheckedCocoDataset  # noqa: F401
from samkr_mmpose.datasets.transforms.load_any_image import \
    LoadAnyImage  # noqa: F401
from samkr_mmpose.engine.hooks import NonFiniteLossHook  # noqa: F401
from samkr_mmpose.utils.check_keypoint_consistency import \
    check_keypoint_consistency

COCO_ANN = 'annotations/person_keypoints_val2017.json'
CROWDPOSE_ANN = 'annotations/mmpose_crowdpose_test.json'
INPUT = 64


class Raises(NamedTuple):
    """The outcome of a case that must fail with this message."""
    error: Type[BaseException]
    pattern: str


class Case(NamedTuple):
    name: str
    run: Callable[[Any], Any]
    outcome: Union[Raises, Callable[[Any, Any], None]]


class Env:
    """The files and the model the cases share."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.coco_ann = generate_synthetic_crowd(
            root, 2, 'val', 'coco', image_size=(INPUT, INPUT))
        generate_synthetic_crowd(
            root, 2, 'test', 'crowdpose', image_size=(INPUT, INPUT))
        with open(self.coco_ann) as f:
            self.coco = json.load(f)
        self.img = cv2.imread(
            osp.join(root, 'val2017', self.coco['images'][0]['file_name']))

        cfg_file = osp.join(root, 'tiny.py')
        with open(cfg_file, 'w') as f:
            f.write(TINY_CONFIG)
        cfg = Config.fromfile(cfg_file)
        cfg.model.head.rescore_cfg = None
        cfg.model.head.decoder.input_size = (INPUT, INPUT)
        cfg.model.head.decoder.heatmap_size = (INPUT // 4, INPUT // 4)
        pipeline = cfg.test_dataloader.dataset.pipeline
        pipeline[0] = dict(type='LoadAnyImage')
        pipeline[1].input_size = (INPUT, INPUT)
        self.cfg = cfg
        self.cfg_file = osp.join(root, 'tiny_64.py')
        cfg.dump(self.cfg_file)
        torch.manual_seed(0)
        self.model = init_model(cfg, None, device='cpu')
        # instance centres well above the codec's decode_thr (0.01), so
        # that the random model predicts poses
        with torch.no_grad():
            self.model.head.heatmap_conv_layers[-1].bias[-1] = 1

    def path(self, name: str) -> str:
        return osp.join(self.root, name)

    def write(self, name: str, data: Union[bytes, str, dict]) -> str:
        """Write bytes, text or JSON to a file under the root."""
        path = self.path(name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        if isinstance(data, dict):
            data = json.dumps(data)
        with open(path, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
        return path

    def coco_with(self, edit: Callable[[dict], None]) -> str:
        """A copy of the COCO annotations, edited, as a file name."""
        data = copy.deepcopy(self.coco)
        edit(data)
        count = len(os.listdir(self.path('annotations')))
        name = f'annotations/edited_{count}.json'
        self.write(name, data)
        return name

    def dataset(self, ann_file: str, type: str = 'CheckedCocoDataset'):
        return DATASETS.build(
            dict(
                type=type,
                data_root=self.root,
                ann_file=ann_file,
                data_mode='bottomup',
                data_prefix=dict(img='val2017/'),
                pipeline=[]))

    def infer(self, img, model=None):
        """The predicted instances of one image (array or file)."""
        result, = inference_bottomup(model or self.model, img)
        return result


@pytest.fixture(scope='module')
def env(tmp_path_factory, one_thread):
    return Env(str(tmp_path_factory.mktemp('bad_input')))


@contextlib.contextmanager
def logged_messages():
    """Collect what mmengine's current logger logs."""
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


# --- images -----------------------------------------------------------


def same_poses_as_bgr(convert: Callable[[np.ndarray], np.ndarray]):
    """The check that an image predicts the poses of the 8-bit BGR image
    ``convert`` gives from the shared image."""

    def check(env, result):
        expected = env.infer(convert(env.img)).pred_instances
        assert len(expected.keypoints) > 0
        np.testing.assert_array_equal(result.pred_instances.keypoints,
                                      expected.keypoints)
        np.testing.assert_array_equal(result.pred_instances.keypoint_scores,
                                      expected.keypoint_scores)

    return check


def gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)


def gray_as_bgr(img: np.ndarray) -> np.ndarray:
    return np.repeat(gray(img)[..., None], 3, axis=2)


def write_image(env, name: str, img: np.ndarray) -> str:
    path = env.path(name)
    assert cv2.imwrite(path, img)
    return path


def no_people_model(env) -> nn.Module:
    """The model with its heatmaps, instance centres included, all 0."""
    model = copy.deepcopy(env.model)
    last = model.head.heatmap_conv_layers[-1]
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    return model


def check_no_instances(env, result):
    instances = result.pred_instances
    assert instances.keypoints.shape == (0, 17, 2)
    assert instances.keypoint_scores.shape == (0, 17)


def with_nan(img: np.ndarray) -> np.ndarray:
    img = img.astype(np.float32)
    img[0, 0, 0] = np.nan
    return img


def batched_model(env) -> nn.Module:
    """The model as a :class:`BatchedBottomupPoseEstimator`."""
    cfg = copy.deepcopy(env.cfg)
    cfg.model.type = 'BatchedBottomupPoseEstimator'
    model = init_model(cfg, None, device='cpu')
    model.load_state_dict(env.model.state_dict())
    return model


def infer_thin_image(env):
    """A 1x150 image: expanded to cover 64x64, its input is 9600 px wide.
    The backbone must not run."""
    model = batched_model(env)
    with mock.patch.object(
            model, 'extract_feat', side_effect=AssertionError('ran')):
        return env.infer(np.zeros((1, 150, 3), np.uint8), model)


def check_tiny_image(env, result):
    assert result.metainfo['ori_shape'] == (2, 2)
    assert result.pred_instances.keypoints.shape[1:] == (17, 2)
    assert np.isfinite(result.pred_instances.keypoints).all()


# --- annotations and keypoint counts -------------------------------------


def drop_keypoints_of_first(data: dict) -> None:
    del data['annotations'][0]['keypoints']


def shorten_first(data: dict) -> None:
    data['annotations'][0]['keypoints'] = data['annotations'][0][
        'keypoints'][:-1]


def drop_people_of_first_image(data: dict) -> None:
    first = data['images'][0]['id']
    data['annotations'] = [
        a for a in data['annotations'] if a['image_id'] != first
    ]


def training_without_people(env):
    ann_file = env.coco_with(drop_people_of_first_image)
    with logged_messages() as messages:
        dataset = env.dataset(ann_file)
    return dataset, messages, ann_file


def check_training_without_people(env, result):
    dataset, messages, ann_file = result
    assert [dataset.get_data_info(i)['img_id']
            for i in range(len(dataset))] == [env.coco['images'][1]['id']]
    assert (f'1 of 2 images in {env.path(ann_file)} have no person '
            'annotation and are not used for training') in messages


def loss_without_visible_people(env):
    """SAMKR's losses (SWAHR's heatmap loss included) on a batch whose
    people are all outside the crop, as augmentation can leave it."""
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=8,
            num_keypoints=17,
            heatmap_loss=dict(type='AdaptiveHeatmapLoss'),
            scale_loss=dict(type='HeatmapScaleLoss')))
    codec = KEYPOINT_CODECS.build(spr_codec(INPUT, INPUT // 4))
    encoded = codec.encode(
        np.full((2, 17, 2), -10, np.float32), np.zeros((2, 17), np.float32))
    sample = PoseDataSample()
    sample.gt_fields = PixelData(**{
        k: torch.from_numpy(v)
        for k, v in encoded.items()
    })
    feats = (torch.randn(2, 8, INPUT // 4, INPUT // 4, requires_grad=True), )
    losses = head.loss(feats, [sample, sample])
    sum(losses.values()).backward()
    return losses, feats[0].grad


def check_finite_losses(env, result):
    losses, grad = result
    assert set(losses) == {
        'loss/heatmap', 'loss/heatmap_scale', 'loss/displacement'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss/displacement'] == 0
    assert losses['loss/heatmap'] > 0
    assert torch.isfinite(grad).all() and grad.abs().sum() > 0


def train_crowdpose_with_coco_head(env, hooks=('KeypointConsistencyHook', )):
    """A runner training the COCO (17 keypoint) model on CrowdPose."""
    cfg = copy.deepcopy(env.cfg)
    cfg.merge_from_dict({
        **data_options(env.root, CROWDPOSE_ANN, 'images/'),
        'train_dataloader.dataset.type':
        'CrowdPoseDataset',
        'train_dataloader.num_workers':
        0,
        'train_dataloader.persistent_workers':
        False,
        'custom_hooks': [dict(type=hook) for hook in hooks],
        'work_dir':
        env.path('crowdpose_run'),
    })
    Runner.from_cfg(cfg).train()


def head_meta(env, **changes):
    """Check the shared head against COCO's metainfo, changed."""
    check_keypoint_consistency(env.model.head, {
        **dataset_meta(17), 'dataset_name': 'coco',
        **changes
    })


def rescore_for_crowdpose(env):
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=8,
            num_keypoints=17,
            rescore_cfg=dict(in_channels=59, norm_indexes=(0, 1))))
    check_keypoint_consistency(head, {
        **dataset_meta(17), 'dataset_name': 'coco'
    })


def codecs(env, decoder: dict, encoder: dict):
    head = MODELS.build(
        dict(
            type='SAMKRHead',
            in_channels=8,
            num_keypoints=17,
            decoder={
                **spr_codec(),
                **decoder
            }))
    check_keypoint_consistency(
        head, dataset_meta(17),
        KEYPOINT_CODECS.build({
            **spr_codec(),
            **encoder
        }))


def samkr_head(**kwargs):
    return MODELS.build(
        dict(type='SAMKRHead', in_channels=8, num_keypoints=17, **kwargs))


# --- training ------------------------------------------------------------


class ToyModel(BaseModel):
    """A linear regressor trained with a squared error."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        outputs = self.linear(torch.stack(inputs)).squeeze(1)
        return dict(loss=((outputs - torch.stack(data_samples))**2).mean())


class NaNAtThird(Dataset):
    """Four samples; the target of the third is NaN."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> dict:
        target = float('nan') if index == 2 else float(index)
        return dict(inputs=torch.ones(2), data_samples=torch.tensor(target))


def train_into_nan(env):
    work_dir = env.path('nan_run')
    try:
        Runner(
            model=ToyModel(),
            work_dir=work_dir,
            experiment_name='nan_run',
            train_dataloader=dict(
                dataset=NaNAtThird(),
                sampler=dict(type='DefaultSampler', shuffle=False),
                batch_size=1,
                num_workers=0),
            train_cfg=dict(by_epoch=True, max_epochs=1),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
            custom_hooks=[dict(type='NonFiniteLossHook')],
            default_scope='mmpose').train()
    finally:
        # the checkpoint hook never saved the broken weights
        assert not osp.exists(osp.join(work_dir, 'epoch_1.pth'))


# --- checkpoints ---------------------------------------------------------


def save_head_checkpoint(env, name: str, head_cfg: dict) -> str:
    head = MODELS.build(dict(in_channels=120, num_keypoints=17, **head_cfg))
    for param in head.parameters():
        nn.init.normal_(param)
    path = env.path(name)
    torch.save(
        dict(state_dict={
            f'head.{k}': v
            for k, v in head.state_dict().items()
        }), path)
    return path


def load_other_samkr_head(env):
    path = save_head_checkpoint(env, 'g4.pth',
                                dict(type='SAMKRHead', num_subspaces=4))
    init_model(env.cfg, path, device='cpu')


def load_dekr_head(env):
    path = save_head_checkpoint(env, 'dekr.pth', dict(type='DEKRHead'))
    model = copy.deepcopy(env.model)
    before = model.state_dict()
    load_checkpoint(model, path, map_location='cpu')
    return before, model.state_dict(), torch.load(path)['state_dict']


def check_dekr_initialises(env, result):
    before, after, dekr = result
    heatmap = [k for k in dekr if k.startswith('head.heatmap_conv_layers.')]
    assert heatmap
    for key in heatmap:
        assert torch.equal(after[key], dekr[key])
    # DEKR's 15 channels per keypoint do not fit SAMKR's 16: not loaded
    key = 'head.displacement_conv_layers.0.conv.weight'
    assert dekr[key].shape[0] == 17 * 15
    assert torch.equal(after[key], before[key])


class Call:
    """Pickles as the call ``func(*args)``, as malicious files do."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def load_malicious_checkpoint(env):
    marker = env.path('marker')
    path = env.path('evil.pth')
    torch.save(
        dict(state_dict={}, meta=Call(os.system, f'touch {marker}')), path)
    try:
        init_model(env.cfg, path, device='cpu')
    finally:
        assert not osp.exists(marker)


# --- folders and videos --------------------------------------------------


def infer_folder_or_video(env, name: str, make: Callable[[str], None]):
    path = env.path(name)
    make(path)
    inferencer = MMPoseInferencer(
        pose2d=env.cfg_file, device='cpu', show_progress=False)
    return list(inferencer(path))


def write_video_without_frames(path: str) -> None:
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 5,
                             (INPUT, INPUT))
    writer.release()


def check_empty(env, result):
    assert result == []


CASES = [
    # images
    Case(
        'missing image file', lambda e: e.infer(e.path('none.jpg')),
        Raises(FileNotFoundError,
               r"No such file or directory: '.*none\.jpg'")),
    Case('corrupt image file',
         lambda e: e.infer(e.write('corrupt.jpg', b'\xff\xd8not a jpeg')),
         Raises(AssertionError, r'failed to load image: .*corrupt\.jpg')),
    Case(
        'empty image file', lambda e: e.infer(e.write('empty.jpg', b'')),
        Raises(cv2.error, r'(?s)!buf.empty\(\).* occurs when loading `.*empty'
               r'\.jpg`')),
    Case('grayscale image file',
         lambda e: e.infer(write_image(e, 'gray.png', gray(e.img))),
         same_poses_as_bgr(gray_as_bgr)),
    Case(
        'RGBA image file', lambda e: e.infer(
            write_image(e, 'bgra.png', cv2.cvtColor(e.img, cv2.COLOR_BGR2BGRA))
        ), same_poses_as_bgr(lambda img: img)),
    Case(
        '16-bit image file', lambda e: e.infer(
            write_image(e, 'deep.png',
                        e.img.astype(np.uint16) * 257)),
        same_poses_as_bgr(lambda img: img)),
    Case('grayscale array', lambda e: e.infer(gray(e.img)),
         same_poses_as_bgr(gray_as_bgr)),
    Case('BGRA array',
         lambda e: e.infer(cv2.cvtColor(e.img, cv2.COLOR_BGR2BGRA)),
         same_poses_as_bgr(lambda img: img)),
    Case('16-bit array', lambda e: e.infer(e.img.astype(np.uint16) * 257),
         same_poses_as_bgr(lambda img: img)),
    Case('tiny image', lambda e: e.infer(e.img[:2, :2]), check_tiny_image),
    Case('image without pixels', lambda e: e.infer(e.img[:0]),
         Raises(ValueError, r'the image has no pixels: shape \(0, 64, 3\)')),
    Case(
        'float image in [0, 1]',
        lambda e: e.infer(e.img.astype(np.float32) / 255),
        Raises(
            ValueError, r'the floating-point image has values in '
            r'\[0\.0, 0\.\d+\]: scaled to \[0, 1\]\? The model takes 0-255')),
    Case(
        'float image out of range',
        lambda e: e.infer(e.img.astype(np.float32) - 1),
        Raises(
            ValueError, r'a floating-point image must have values in '
            r'\[0, 255\], got \[-1\.0, ')),
    Case('float image with NaN', lambda e: e.infer(with_nan(e.img)),
         Raises(ValueError, r'must have values in \[0, 255\], got \[nan, ')),
    Case(
        'thin image expanded past MAX_INPUT_SIDE', infer_thin_image,
        Raises(
            ValueError, r'the image of \(h, w\) \(1, 150\) gives a network '
            r'input of \(w, h\) \(9600, 64\), longer than 4096 px')),
    Case('image without people, inference',
         lambda e: e.infer(np.full_like(e.img, 128), no_people_model(e)),
         check_no_instances),
    Case('empty folder',
         lambda e: infer_folder_or_video(e, 'empty_folder', os.makedirs),
         check_empty),
    Case(
        'video without frames', lambda e: infer_folder_or_video(
            e, 'empty.mp4', write_video_without_frames), check_empty),
    # annotations
    Case(
        'missing annotation file', lambda e: e.dataset('none.json'),
        Raises(AssertionError, r'Annotation file `.*none\.json`does not '
               'exist')),
    Case(
        'annotation file not JSON', lambda e: e.dataset(
            osp.relpath(e.write('bad.json', 'not json {'), e.root)),
        Raises(
            ValueError, r'the annotation file .*bad\.json is not JSON: '
            r'Expecting value: line 1 column 1')),
    Case(
        'annotation without keypoints',
        lambda e: e.dataset(e.coco_with(drop_keypoints_of_first)),
        Raises(ValueError, r"annotation 101 of image 1 in .*\.json has no "
               r"'keypoints'")),
    Case(
        'annotation with 50 keypoint values',
        lambda e: e.dataset(e.coco_with(shorten_first)),
        Raises(
            ValueError, r'annotation 101 of image 1 in .*\.json has 50 '
            r'keypoint values, expected .* 3 x 17 = 51')),
    Case(
        'CrowdPose annotations read as COCO',
        lambda e: e.dataset(CROWDPOSE_ANN),
        Raises(
            ValueError, r'annotation 101 of image 1 in .*crowdpose_test'
            r'\.json has 42 keypoint values, expected .* 3 x 17 = 51')),
    Case('image without people, training', training_without_people,
         check_training_without_people),
    Case('batch without visible people, training', loss_without_visible_people,
         check_finite_losses),
    # keypoint counts of the config
    Case(
        'dataset of 14 keypoints, head of 17', train_crowdpose_with_coco_head,
        Raises(
            ValueError, r'crowdpose has 14 keypoints, but the head '
            r'predicts num_keypoints=17')),
    Case(
        'dataset of 14 keypoints, head of 17, stock hooks only',
        lambda e: train_crowdpose_with_coco_head(e, hooks=()),
        Raises(
            ValueError, r'the training targets have 14 keypoints, but '
            r'the head predicts num_keypoints=17')),
    Case(
        'flip indices of 16 keypoints',
        lambda e: head_meta(e, flip_indices=list(range(16))),
        Raises(
            ValueError, r'the flip_indices of coco must be a '
            r'permutation of its 17 keypoints, got \[0, 1,')),
    Case(
        'rescore net of CrowdPose on COCO', rescore_for_crowdpose,
        Raises(
            ValueError, r'the rescore net has in_channels=59, but its '
            r'features .* have 3 x 19 \+ 17 = 74')),
    Case(
        'codec without keypoint heatmaps',
        lambda e: codecs(e, dict(generate_keypoint_heatmaps=False), {}),
        Raises(
            ValueError, r"the head's decoder \(SPR\) has "
            'generate_keypoint_heatmaps=False')),
    Case(
        'encoder and decoder of other scales',
        lambda e: codecs(e, {}, dict(heatmap_size=(32, 32))),
        Raises(
            ValueError, r'decoder maps heatmaps to the input at a scale '
            r'of \[4.0, 4.0\] .* the training encoder at \[2.0, 2.0\]')),
    # head arithmetic
    Case(
        'c not divisible by g',
        lambda e: samkr_head(num_channels_per_keypoint=12, num_subspaces=8),
        Raises(
            ValueError, r'num_channels_per_keypoint \(c=12\) is not '
            r'divisible by num_subspaces \(g=8\)')),
    Case('zero subspaces', lambda e: samkr_head(num_subspaces=0),
         Raises(ValueError, 'num_subspaces must be an integer >= 1, got 0')),
    Case(
        'single branch not divisible', lambda e: samkr_head(
            num_channels_per_keypoint=1,
            num_subspaces=2,
            per_keypoint_branches=False),
        Raises(
            ValueError, r'the single branch of m = num_keypoints x '
            r'num_channels_per_keypoint = 17 x 1 channels is not '
            r'divisible by num_subspaces \(g=2\)')),
    # training
    Case(
        'NaN loss', train_into_nan,
        Raises(
            FloatingPointError, r'non-finite loss at iteration 3 '
            r'\(epoch 1, batch 3\): loss=nan')),
    # checkpoints
    Case(
        'checkpoint of a SAMKR head with g=4', load_other_samkr_head,
        Raises(
            ValueError, r'(?s)the checkpoint holds a SAMKR head of '
            r'another configuration .*num_subspaces=8.*\n'
            r'head\.displacement_conv_layers\.2\.pointwise\.conv\.weight:'
            r' \(68, 4, 1, 1\) in the checkpoint, \(136, 2, 1, 1\) here')),
    Case('checkpoint of a DEKR head', load_dekr_head, check_dekr_initialises),
    Case(
        'malicious checkpoint', load_malicious_checkpoint,
        Raises(
            pickle.UnpicklingError, r'(?s)Weights only load failed.*'
            f'unsupported GLOBAL {os.system.__module__}.system')),
]


@pytest.mark.parametrize('case', CASES, ids=[case.name for case in CASES])
def test_bad_input(case, env):
    if isinstance(case.outcome, Raises):
        with pytest.raises(case.outcome.error) as error:
            case.run(env)
        assert re.search(case.outcome.pattern,
                         str(error.value)), str(error.value)
    else:
        case.outcome(env, case.run(env))
