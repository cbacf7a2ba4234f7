# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""``tools/train_rescore_net.py``: DEKR's rescore net trained for a model.

End to end, a SAMKR model trained for a few iterations on generated data
feeds the tool, whose checkpoint then loads through ``rescore_cfg`` and
rescores exactly the poses and features it was trained on. Such a model
finds almost no person (mean OKS about 0.005), too little to learn a
ranking from, so the ranking is checked on simulated predictions of the
generated people, whose keypoint errors and scores behave like a bottom-up
model's.
"""
import copy
import json
import os
import os.path as osp
import subprocess
import sys
from collections import defaultdict

import numpy as np
import pytest
import torch
from helpers import ROOT, data_options, dataset_meta, shrink_options
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner, load_checkpoint
from scipy.stats import kendalltau, spearmanr
from xtcocotools.cocoeval import COCOeval

from mmpose.apis import init_model
from mmpose.models.heads.hybrid_heads.dekr_head import RescoreNet
from mmpose.registry import MODELS
from samkr_mmpose.datasets import generate_synthetic_crowd
from samkr_mmpose.models import SAMKRHead
from samkr_mmpose.utils.best_match_oks import best_match_oks
from samkr_mmpose.utils.fit_rescore_net import fit_rescore_net
from samkr_mmpose.utils.rescore_samples import collect_rescore_samples

CONFIG = osp.join(ROOT, 'configs', 'synthetic',
                  'samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py')
COCO = dataset_meta(17)
# COCO's skeleton: 19 links, 17 keypoints
IN_CHANNELS = 3 * 19 + 17
VAL_ANN_FILE = 'annotations/person_keypoints_val2017.json'


def reference_best_oks(keypoints, gts, use_area):
    """``xtcocotools``' OKS matrix, then the best ground truth of every
    prediction as ``COCOeval.evaluateImg`` walks them (not ignored first,
    stopping at the ignored ones once one matched)."""
    coco_eval = COCOeval(None, None, 'keypoints',
                         COCO['sigmas'].astype(np.float64), use_area)
    dts = [
        dict(
            keypoints=np.concatenate([k, np.ones((17, 1))], 1).ravel(),
            score=1. - i / len(keypoints)) for i, k in enumerate(keypoints)
    ]
    coco_eval._gts, coco_eval._dts = {(1, 1): gts}, {(1, 1): dts}
    ious = coco_eval.computeOks(1, 1)
    order = np.argsort([g['ignore'] for g in gts], kind='mergesort')
    best = []
    for row in ious:
        oks, match = 0., -1
        for j in order:
            if match > -1 and not gts[match]['ignore'] and gts[j]['ignore']:
                break
            if row[j] >= oks:
                oks, match = row[j], j
        best.append(oks)
    return np.array(best)


@pytest.mark.parametrize('use_area', [True, False])
def test_best_match_oks_matches_cocoeval(use_area):
    rng = np.random.default_rng(0)
    gts = []
    for i in range(4):
        keypoints = np.zeros((17, 3))
        keypoints[:, :2] = rng.uniform(20, 180, (17, 2))
        keypoints[:, 2] = rng.choice([0, 1, 2], 17)
        bbox = [*rng.uniform(10, 60, 2), *rng.uniform(40, 120, 2)]
        if i == 3:
            # nothing labelled: COCO measures the distance to the box
            # grown by its size on every side, here [140, 170]^2
            keypoints[:], bbox = 0, [150, 150, 10, 10]
        gts.append(
            dict(
                keypoints=keypoints.ravel(),
                bbox=bbox,
                area=rng.uniform(1000, 9000),
                # the crowd and the unlabelled one are ignored
                ignore=i >= 2))
    # two predictions near every person, two anywhere
    keypoints = np.concatenate([
        np.reshape(g['keypoints'], (1, 17, 3))[..., :2] +
        rng.normal(0, 6, (2, 17, 2)) for g in gts
    ] + [rng.uniform(0, 200, (2, 17, 2))])

    areas = np.array([
        g['area'] if use_area else 0.53 * g['bbox'][2] * g['bbox'][3]
        for g in gts
    ])
    arrays = (np.array([g['keypoints'] for g in gts]).reshape(4, 17, 3),
              np.array([g['bbox'] for g in gts]), areas,
              np.array([g['ignore'] for g in gts]))
    oks = best_match_oks(keypoints, *arrays, COCO['sigmas'])
    expected = reference_best_oks(keypoints, gts, use_area)
    # near the two people not ignored: matched; near the others: not
    assert oks[:4].min() > 0.2 > oks[4:].max(), oks
    np.testing.assert_allclose(oks, expected, rtol=1e-9, atol=1e-12)

    # an image with ignored people only: the best of them
    oks = best_match_oks(keypoints, *(a[2:] for a in arrays), COCO['sigmas'])
    expected = reference_best_oks(keypoints, gts[2:], use_area)
    assert oks[4:6].min() > 0.2 > oks[6:8].max(), oks
    np.testing.assert_allclose(oks, expected, rtol=1e-9, atol=1e-12)


def test_bad_inputs_raise():
    keypoints = np.zeros((2, 17, 2))
    with pytest.raises(ValueError, match=r'at least one ground truth'):
        best_match_oks(keypoints, np.zeros((0, 17, 3)), np.zeros((0, 4)),
                       np.zeros(0), np.zeros(0, bool), COCO['sigmas'])
    with pytest.raises(ValueError, match=r'\(2, 17, 2\), gt_keypoints'):
        best_match_oks(keypoints, np.zeros((1, 14, 3)), np.zeros((1, 4)),
                       np.ones(1), np.zeros(1, bool), COCO['sigmas'][:14])
    net = RescoreNet(IN_CHANNELS, (5, 6))
    with pytest.raises(ValueError, match=r'epochs must be >= 1, got 0'):
        fit_rescore_net(
            net,
            keypoints,
            np.ones((2, 17)),
            np.ones(2),
            COCO['skeleton_links'],
            epochs=0)
    with pytest.raises(ValueError, match=r'OKS \(3\)'):
        fit_rescore_net(net, keypoints, np.ones((2, 17)), np.ones(3),
                        COCO['skeleton_links'])


def simulated_poses(ann_file: str, seed: int, per_person: int = 12) -> dict:
    """Predictions of the annotated people as a bottom-up model makes them,
    in the format of :func:`collect_rescore_samples`.

    Every pose has its own accuracy: Gaussian keypoint errors of 2-30 % of
    the person's scale, a share of keypoints lost anywhere in the image
    and a share of left/right pairs swapped. A keypoint scores like a
    heatmap peak, high near its true place (and on the swapped side); the
    instance-centre score says nothing about the keypoints. The rescore
    net sees the keypoints at half the image size, as the input of a
    ``BottomupResize`` from 128 to 64 pixels.
    """
    with open(ann_file) as f:
        data = json.load(f)
    rng = np.random.default_rng(seed)
    people = defaultdict(list)
    for ann in data['annotations']:
        people[ann['image_id']].append(ann)
    flip = np.array(COCO['flip_indices'])
    samples = defaultdict(list)
    for image in data['images']:
        anns = people[image['id']]
        gt = np.array([a['keypoints'] for a in anns]).reshape(-1, 17, 3)
        bboxes = np.array([a['bbox'] for a in anns])
        areas = np.array([a['area'] for a in anns])
        poses, scores = [], []
        for keypoints, bbox, area in zip(gt, bboxes, areas):
            scale = np.sqrt(area)
            target = np.where(keypoints[:, 2:] > 0, keypoints[:, :2],
                              bbox[:2] + bbox[2:] / 2)
            for _ in range(per_person):
                pose = target + rng.normal(0,
                                           rng.uniform(0.02, 0.3) * scale,
                                           (17, 2))
                lost = rng.uniform(size=17) < rng.uniform(0, 0.5)
                pose[lost] = rng.uniform(0, [image['width'], image['height']],
                                         (lost.sum(), 2))
                error = np.linalg.norm(pose - target, axis=1)
                score = np.exp(-error**2 / (2 * (0.1 * scale)**2))
                swap = rng.uniform(size=17) < rng.uniform(0, 0.6)
                swap &= swap[flip]
                pose[swap] = pose[flip][swap]
                poses.append(pose)
                scores.append(score * rng.uniform(0.5, 1, 17))
        poses, scores = np.array(poses), np.array(scores)
        centre_scores = rng.uniform(0.05, 1, len(poses))
        samples['keypoints'].append(poses / 2)
        samples['keypoint_scores'].append(scores)
        samples['scores'].append(centre_scores * scores.mean(1))
        samples['oks'].append(
            best_match_oks(poses, gt, bboxes, areas, np.zeros(len(gt), bool),
                           COCO['sigmas']))
    return {key: np.concatenate(value) for key, value in samples.items()}


def rescore(net: RescoreNet, samples: dict) -> np.ndarray:
    """The pose scores after rescoring, as the head and ``CocoMetric``
    give them."""
    with torch.no_grad():
        factors = net(
            torch.from_numpy(samples['keypoints']).float(),
            torch.from_numpy(samples['keypoint_scores']).float(),
            COCO['skeleton_links']).numpy()
    return samples['scores'] * factors


def test_rescoring_ranks_held_out_poses_by_oks(tmp_path, one_thread):
    root = str(tmp_path)
    train, held_out = (simulated_poses(
        generate_synthetic_crowd(
            root, 40, split, 'coco', seed=seed, image_size=(128, 128)), seed)
                       for split, seed in (('train', 0), ('val', 1)))
    assert len(train['oks']) > 1000 and len(held_out['oks']) > 1000
    net = RescoreNet(IN_CHANNELS, (5, 6))
    untrained = rescore(net, held_out)
    losses = fit_rescore_net(
        net,
        train['keypoints'],
        train['keypoint_scores'],
        train['oks'],
        COCO['skeleton_links'],
        epochs=20,
        batch_size=64)
    rescored = rescore(net, held_out)

    assert losses[-1] < losses[0] / 4, losses
    oks = held_out['oks']
    for correlation in (spearmanr, kendalltau):
        raw = correlation(held_out['scores'], oks)[0]
        # about 0.69 -> 0.82 (Spearman), 0.50 -> 0.63 (Kendall)
        assert correlation(rescored, oks)[0] > raw + 0.05
        assert correlation(untrained, oks)[0] < raw
    # the net predicts the OKS itself far better than a constant
    factors = rescored / held_out['scores']
    assert np.mean((factors - oks)**2) < oks.var() / 2


def run_tool(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, 'tools/train_rescore_net.py', *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONWARNINGS='ignore'))
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope='module')
def trained_model(tmp_path_factory):
    """A width-8 SAMKR trained for 6 iterations of 4 images at 64x64;
    returns the config the runner dumped, the checkpoint and the data root
    (8 training and 4 validation images)."""
    root = str(tmp_path_factory.mktemp('data'))
    for split, seed in (('train', 0), ('val', 1)):
        generate_synthetic_crowd(
            root,
            8 if split == 'train' else 4,
            split,
            'coco',
            seed=seed,
            image_size=(96, 96),
            num_people=(1, 2),
            person_height=(0.5, 0.9))
    work_dir = str(tmp_path_factory.mktemp('work'))
    cfg = Config.fromfile(CONFIG)
    options = shrink_options(input_size=64)
    del options['model.head.rescore_cfg.init_cfg']
    options.update(
        data_options(root, 'annotations/person_keypoints_train2017.json',
                     'train2017/'))
    options.update({
        'work_dir': work_dir,
        'train_dataloader.batch_size': 4,
        'train_cfg.max_epochs': 3,
        'val_dataloader': None,
        'val_cfg': None,
        'val_evaluator': None,
        'default_hooks.checkpoint.interval': 3,
        'randomness': dict(seed=0),
    })
    cfg.merge_from_dict(options)
    Runner.from_cfg(cfg).train()
    config = osp.join(work_dir, osp.basename(CONFIG))
    return config, osp.join(work_dir, 'epoch_3.pth'), root


def val_loader(cfg: Config, root: str, meta_keys=None):
    """The 4 validation images through the test pipeline, one a batch."""
    loader = copy.deepcopy(cfg.test_dataloader)
    loader.update(num_workers=0, persistent_workers=False, batch_size=1)
    loader.dataset.update(
        data_root=root,
        ann_file=VAL_ANN_FILE,
        data_prefix=dict(img='val2017/'))
    if meta_keys is not None:
        loader.dataset.pipeline[-1].meta_keys = meta_keys
    return Runner.build_dataloader(loader)


def test_tool_end_to_end(trained_model, tmp_path, one_thread):
    config, checkpoint, root = trained_model
    out = str(tmp_path / 'rescore.pth')
    model_out = str(tmp_path / 'model.pth')
    # on the validation images, as an example of --cfg-options
    log = run_tool(config, checkpoint, '--out', out, '--model-out', model_out,
                   '--epochs', '30', '--batch-size', '16', '--device', 'cpu',
                   '--num-workers', '0', '--cfg-options',
                   f'train_dataloader.dataset.ann_file={VAL_ANN_FILE}',
                   'train_dataloader.dataset.data_prefix.img=val2017/')
    assert 'Spearman correlation with the OKS' in log, log[-2000:]

    saved = torch.load(out)
    meta, state_dict = saved['meta'], saved['state_dict']
    names = COCO['keypoint_id2name']
    # the config has no rescore_cfg: the shoulder-hip links normalise
    assert [{names[i]
             for i in COCO['skeleton_links'][link]}
            for link in meta['norm_indexes']
            ] == [{'left_shoulder', 'left_hip'},
                  {'right_shoulder', 'right_hip'}]
    assert meta['in_channels'] == IN_CHANNELS
    assert len(meta['losses']) == 30
    assert meta['losses'][-1] < meta['losses'][0] / 2, meta['losses']

    # the checkpoint initialises the head's rescore net via rescore_cfg
    cfg = Config.fromfile(config)
    rescore_cfg = dict(
        in_channels=meta['in_channels'],
        norm_indexes=tuple(meta['norm_indexes']))
    cfg.model.head.rescore_cfg = dict(
        **rescore_cfg, init_cfg=dict(type='Pretrained', checkpoint=out))
    with DefaultScope.overwrite_default_scope('mmpose'):
        model = MODELS.build(cfg.model)
    assert isinstance(model.head, SAMKRHead)
    before = copy.deepcopy(model.head.rescore_net.state_dict())
    model.init_weights()
    load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    net = model.head.rescore_net
    for key, value in state_dict.items():
        assert not torch.equal(before[key], value)
        assert torch.equal(net.state_dict()[key], value), key

    # at test time the net gets what the tool trained it on: the scores of
    # the rescored model are those of the collected poses times the net
    loader = val_loader(cfg, root)
    samples = collect_rescore_samples(model, loader)
    assert model.head.rescore_net is net
    assert len(samples['oks']) == meta['num_poses'] >= 4
    num_rescored = 0
    for batch in loader:
        (sample, ) = model.test_step(batch)
        rows = samples['img_ids'] == sample.metainfo['img_id']
        pred = sample.pred_instances
        assert len(pred) == rows.sum()
        expected = rescore(net, {k: v[rows] for k, v in samples.items()})
        np.testing.assert_allclose(
            pred.keypoint_scores.mean(1), expected, rtol=1e-5, atol=1e-7)
        num_rescored += len(pred)
    assert num_rescored == len(samples['oks']) > 0
    assert not np.allclose(samples['scores'], rescore(net, samples))

    # --model-out: the model checkpoint with this net, for tools/test.py
    cfg.model.head.rescore_cfg = rescore_cfg
    model = init_model(cfg, model_out, device='cpu')
    for key, value in state_dict.items():
        assert torch.equal(model.head.rescore_net.state_dict()[key], value)

    # the test pipeline must pass the skeleton to the head
    meta_keys = [
        key for key in cfg.test_dataloader.dataset.pipeline[-1].meta_keys
        if key != 'skeleton_links'
    ]
    with pytest.raises(ValueError, match=r'"skeleton_links"'):
        collect_rescore_samples(model, val_loader(cfg, root, meta_keys))
