# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The synthetic dataset: deterministic, in the real formats, read by
MMPose's datasets and scored perfectly by ``CocoMetric`` from its own
ground truth."""
import filecmp
import json
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, dataset_meta

from mmpose.datasets import CocoDataset, CrowdPoseDataset
from mmpose.evaluation import CocoMetric
from samkr_mmpose.datasets import (generate_synthetic_crowd,
                                   render_synthetic_image)
from samkr_mmpose.datasets.synthetic_crowd import JOINTS


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic_coco'))
    generate_synthetic_crowd(root, 12, 'val', 'coco', seed=3)
    return root


def load(path):
    with open(path) as f:
        return json.load(f)


def test_same_seed_same_files(coco_root, tmp_path):
    again = str(tmp_path / 'again')
    other = str(tmp_path / 'other')
    generate_synthetic_crowd(again, 12, 'val', 'coco', seed=3)
    generate_synthetic_crowd(other, 12, 'val', 'coco', seed=4)
    ann = 'annotations/person_keypoints_val2017.json'
    assert load(osp.join(again, ann)) == load(osp.join(coco_root, ann))
    assert load(osp.join(other, ann)) != load(osp.join(coco_root, ann))
    name = '000000000001.jpg'
    assert filecmp.cmp(
        osp.join(again, 'val2017', name),
        osp.join(coco_root, 'val2017', name),
        shallow=False)


def test_coco_annotations_are_consistent(coco_root):
    data = load(
        osp.join(coco_root, 'annotations', 'person_keypoints_val2017.json'))
    assert len(data['images']) == 12
    assert data['categories'][0]['keypoints'] == list(JOINTS[:17])
    per_image = np.bincount([a['image_id'] for a in data['annotations']])
    assert per_image.max() > 1, 'no image has several people'
    for ann in data['annotations']:
        kpts = np.array(ann['keypoints']).reshape(17, 3)
        assert set(kpts[:, 2]) <= {0, 1, 2}
        assert ann['num_keypoints'] == (kpts[:, 2] > 0).sum() > 0
        assert (kpts[kpts[:, 2] == 0, :2] == 0).all()
        x, y, w, h = ann['bbox']
        assert 0 < ann['area'] <= w * h
        assert ann['segmentation'] and ann['iscrowd'] == 0
    flags = np.concatenate([
        np.array(a['keypoints']).reshape(17, 3)[:, 2]
        for a in data['annotations']
    ])
    assert {1, 2} <= set(flags), 'no occluded or no visible keypoint'


def test_visibility_follows_the_drawn_pixels():
    img, keypoints, labels = render_synthetic_image(
        np.random.default_rng(0), (200, 150), (4, 4), (0.4, 0.9))
    assert img.shape == (150, 200, 3) and img.dtype == np.uint8
    assert keypoints.shape == (4, len(JOINTS), 3)
    for index, person in enumerate(keypoints, start=1):
        for x, y, v in person:
            if v == 0:
                continue
            owner = labels[int(round(y)), int(round(x))]
            assert (owner == index) == (v == 2)


def test_figures_span_the_requested_scales():
    rng = np.random.default_rng(0)
    heights = []
    for _ in range(20):
        _, keypoints, _ = render_synthetic_image(rng, (256, 256), (3, 3),
                                                 (0.2, 0.9))
        # head top to the lower ankle, labelled or not
        for person in keypoints:
            ys = person[[JOINTS.index('head')] + [15, 16], 1]
            if (person[[17, 15, 16], 2] > 0).all():
                heights.append(max(ys[1:]) - ys[0])
    heights = np.array(heights) / 256
    assert heights.min() < 0.3 and heights.max() > 0.7


def test_mmpose_reads_both_formats(coco_root, tmp_path):
    dataset = CocoDataset(
        data_root=coco_root,
        ann_file='annotations/person_keypoints_val2017.json',
        data_prefix=dict(img='val2017/'),
        data_mode='bottomup',
        test_mode=True)
    assert len(dataset) == 12
    assert dataset[0]['keypoints'].shape[1:] == (17, 2)

    root = str(tmp_path)
    generate_synthetic_crowd(root, 5, 'test', 'crowdpose', seed=1)
    data = load(osp.join(root, 'annotations', 'mmpose_crowdpose_test.json'))
    assert all('crowdIndex' in i for i in data['images'])
    assert data['categories'][0]['keypoints'][-2:] == ['head', 'neck']
    dataset = CrowdPoseDataset(
        data_root=root,
        ann_file='annotations/mmpose_crowdpose_test.json',
        data_prefix=dict(img='images/'),
        data_mode='bottomup',
        test_mode=True)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert all(i['keypoints'].shape[1:] == (14, 2) for i in infos)
    # bottom-up mode repeats the image's index for every person
    crowd = [i['crowd_index'][0] for i in infos]
    assert crowd == [i['crowdIndex'] for i in data['images']]


@pytest.mark.parametrize('name', ['coco', 'crowdpose'])
def test_ground_truth_scores_ap_one(name, tmp_path):
    """``CocoMetric`` gives AP 1 to the ground truth, so areas, boxes and
    flags agree with the COCO evaluation."""
    root = str(tmp_path)
    split = 'val' if name == 'coco' else 'test'
    ann_file = generate_synthetic_crowd(root, 6, split, name, seed=2)
    data = load(ann_file)
    num_keypoints = len(data['categories'][0]['keypoints'])
    metric = CocoMetric(
        ann_file=ann_file,
        iou_type='keypoints' if name == 'coco' else 'keypoints_crowd',
        use_area=name == 'coco',
        score_mode='bbox',
        nms_mode='none',
        prefix=name)
    metric.dataset_meta = dataset_meta(num_keypoints)
    for info in data['images']:
        anns = [a for a in data['annotations'] if a['image_id'] == info['id']]
        kpts = np.array([a['keypoints']
                         for a in anns]).reshape(-1, num_keypoints, 3)
        metric.process(
            [],
            [
                dict(
                    # bottom-up samples carry the list of their people's ids
                    id=[a['id'] for a in anns],
                    img_id=info['id'],
                    ori_shape=(info['height'], info['width']),
                    gt_instances=dict(),
                    pred_instances=dict(
                        keypoints=kpts[..., :2],
                        keypoint_scores=np.ones(kpts.shape[:2]),
                        bbox_scores=np.ones(len(kpts))))
            ])
    results = metric.evaluate(len(data['images']))
    assert results[f'{name}/AP'] == pytest.approx(1.0)


@pytest.mark.parametrize('kwargs, message', [
    (dict(dataset='mpii'), 'dataset must be one of'),
    (dict(num_images=0), 'num_images must be >= 1'),
    (dict(num_people=(3, 1)), 'num_people must be a range'),
    (dict(person_height=(0, 0.5)), 'person_height must be a range'),
    (dict(image_size=(16, 256)), 'image_size must be at least'),
])
def test_bad_settings_are_named(kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        generate_synthetic_crowd(str(tmp_path), **kwargs)


def test_command_line(tmp_path):
    script = osp.join(ROOT, 'tools', 'dataset_converters',
                      'generate_synthetic_crowd.py')
    out = subprocess.run([
        sys.executable, script,
        str(tmp_path), '--num-images', '3', '--dataset', 'crowdpose',
        '--split', 'trainval', '--image-size', '96', '64'
    ],
                         capture_output=True,
                         text=True,
                         check=True).stdout
    assert 'Wrote 3 images' in out
    data = load(tmp_path / 'annotations' / 'mmpose_crowdpose_trainval.json')
    assert [(i['width'], i['height'])
            for i in data['images']] == [(96, 64)] * 3
