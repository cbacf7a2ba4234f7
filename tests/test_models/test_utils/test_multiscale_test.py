# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import numpy as np
import pytest
import torch
from helpers import TINY_CONFIG, make_batch, spr_codec
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate

import samkr_mmpose  # noqa: F401  (registers the models)
import samkr_mmpose.datasets.transforms  # noqa: F401  (registers the packer)
from mmpose.registry import KEYPOINT_CODECS, MODELS
from mmpose.utils import register_all_modules

IN_CHANNELS = 32
FLIP_INDICES = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

pytestmark = pytest.mark.usefixtures('one_thread')


def build_head(**kwargs):
    cfg = dict(
        type='SAMKRHead',
        in_channels=IN_CHANNELS,
        num_keypoints=17,
        decoder=spr_codec())
    cfg.update(kwargs)
    return MODELS.build(cfg).eval()


def sample_with(aug_scales):
    (sample, ) = make_batch(17, batch_size=1)
    if aug_scales is not None:
        sample.set_metainfo(dict(aug_scales=aug_scales))
    return [sample]


def head_inputs(feats, flip_test):
    """Features as :class:`BottomupPoseEstimator` passes them to the head,
    for one scale."""
    return [(feats, ), (feats.flip(-1), )] if flip_test else (feats, )


def predict(head, feats, aug_scales, test_cfg):
    """Head predictions for a feature map per scale (input size first)."""
    inputs = [head_inputs(f, test_cfg.get('flip_test', False)) for f in feats]
    if not test_cfg.get('multiscale_test', False):
        (inputs, ) = inputs
    with torch.no_grad():
        return head.predict(inputs, sample_with(aug_scales), test_cfg)


@pytest.mark.parametrize('flip_test', [False, True])
@pytest.mark.parametrize('match_heatmap', [False, True])
@pytest.mark.parametrize('aug_scales', [[], [1.0]])
def test_scale_one_only_equals_single_scale(flip_test, match_heatmap,
                                            aug_scales):
    head = build_head()
    feats = torch.randn(1, IN_CHANNELS, 16, 16)
    cfg = dict(
        flip_test=flip_test,
        match_heatmap=match_heatmap,
        nms_dist_thr=0.05,
        output_heatmaps=True)
    (single, ), fields = predict(head, [feats], None, cfg)
    # aug_scales=[1.0] repeats the input: NMS removes the copies
    (multi, ), multi_fields = predict(head, [feats] * (len(aug_scales) + 1),
                                      aug_scales,
                                      dict(cfg, multiscale_test=True))
    assert len(single.keypoints) > 0
    np.testing.assert_array_equal(multi.keypoints, single.keypoints)
    np.testing.assert_array_equal(multi.keypoint_scores,
                                  single.keypoint_scores)
    assert torch.equal(multi_fields[0].heatmaps, fields[0].heatmaps)


@pytest.mark.parametrize('flip_test', [False, True])
def test_multiscale_shapes(flip_test):
    head = build_head()
    feats = [torch.randn(1, IN_CHANNELS, size, size) for size in (16, 8, 32)]
    cfg = dict(
        flip_test=flip_test,
        multiscale_test=True,
        match_heatmap=True,
        output_heatmaps=True)
    (pred, ), (fields, ) = predict(head, feats, [0.5, 2.0], cfg)

    num = len(pred.keypoints)
    assert num > 0
    if not flip_test:
        # without NMS every instance of every scale is kept
        with torch.no_grad():
            decoded = [
                head.decoder.decode(*(out[0] for out in head.forward((f, ))))
                for f in feats
            ]
        assert num == sum(len(root_scores) for _, (root_scores, _) in decoded)
    assert pred.keypoints.shape == (num, 17, 2)
    assert pred.keypoint_scores.shape == (num, 17)
    assert np.isfinite(pred.keypoints).all()
    assert fields.heatmaps.shape == (18, 16, 16)
    assert fields.displacements.shape == (34, 16, 16)


def test_scales_meet_in_the_frame_of_the_input_size():
    """Poses encoded at scale 1 and at scale 2 in a wider padded input
    (``BottomupResize`` centres the image) decode to the same poses; the
    heatmaps are averaged on the first scale's grid."""
    head = build_head()
    rng = np.random.default_rng(0)
    keypoints = np.stack([
        rng.uniform(8, 24, (17, 2)),
        rng.uniform(40, 56, (17, 2)),
    ]).astype(np.float32)
    # scale 2: heatmap 36 x 32 instead of 32 x 32, 2 heatmap px each side
    shift = np.array([2., 0.]) * 4
    maps = {}
    for scale, input_size, heatmap_size, offset in [
        (1, (64, 64), (16, 16), np.zeros(2)), (2, (144, 128), (36, 32), shift)
    ]:
        codec = KEYPOINT_CODECS.build(
            dict(
                spr_codec(), input_size=input_size, heatmap_size=heatmap_size))
        encoded = codec.encode(keypoints * scale + offset.astype(np.float32))
        maps[scale] = [
            torch.from_numpy(encoded[key])[None]
            for key in ('heatmaps', 'displacements')
        ]
    # keypoint channels: a linear ramp in the frame of scale 1, which
    # bilinear resampling reproduces exactly
    y, x = torch.meshgrid(torch.arange(16.), torch.arange(16.), indexing='ij')
    slopes = torch.linspace(0.001, 0.02, 17)[:, None, None]
    ramp = 0.1 + slopes * x + 0.01 * y
    maps[1][0][0, :17] = ramp
    y2, x2 = torch.meshgrid(
        torch.arange(32.), torch.arange(36.), indexing='ij')
    maps[2][0][0, :17] = 0.1 + slopes * (x2 - 2) / 2 + 0.01 * y2 / 2

    cfg = dict(multiscale_test=True, multiscale_score_decrease=0.9)
    with torch.no_grad():
        (pred, ) = head.decode([maps[1][0], maps[2][0]],
                               [maps[1][1], maps[2][1]], cfg,
                               dict(aug_scales=[2.0]))
    assert pred.keypoints.shape == (4, 17, 2)
    for person in keypoints:
        error = np.abs(pred.keypoints - person).max(axis=(1, 2))
        # once from each scale, the first two from scale 1
        assert (error < 1e-3).sum() == 2 and (error[:2] < 1e-3).sum() == 1

    # scores: the ramp read at the keypoints, times the instance-centre
    # scores, those of scale 2 scaled to the highest of scale 1 times 0.9
    ramp_scores = head.decoder.get_keypoint_scores(
        ramp,
        torch.from_numpy(pred.keypoints) / 4).numpy()
    (_, (root_1, _)), (_, (root_2, _)) = [
        head.decoder.decode(heatmaps[0], displacements[0])
        for heatmaps, displacements in maps.values()
    ]
    root_scores = torch.cat(
        [root_1, root_2 / root_2.max() * root_1.max() * .9])
    np.testing.assert_allclose(
        pred.keypoint_scores,
        root_scores[:, None].numpy() * ramp_scores,
        rtol=1e-5)


def test_missing_or_inconsistent_scales_raise():
    head = build_head()
    feats = [torch.randn(1, IN_CHANNELS, 16, 16)] * 3
    cfg = dict(multiscale_test=True)
    with pytest.raises(ValueError, match='aug_scales.*None'):
        predict(head, feats, None, cfg)
    with pytest.raises(ValueError, match='aug_scales.*-1'):
        predict(head, feats, [0.5, -1], cfg)
    with pytest.raises(ValueError, match='got 3 inputs.*expected 2'):
        predict(head, feats, [0.5], cfg)
    heatmaps = [torch.rand(1, 18, 16, 16)]
    displacements = [torch.randn(1, 34, 16, 16)]
    with pytest.raises(ValueError, match='aug_scales'):
        head.decode(heatmaps, displacements, cfg, {})
    with pytest.raises(ValueError, match='1 heatmap channels'):
        head.decode([heatmaps[0][:, -1:]], displacements,
                    dict(match_heatmap=True), {})
    # a 40 px input at scale 0.5 is 20 px, which BottomupResize pads to 32:
    # heatmaps of 8 where 5 would be the nominal scale
    with pytest.raises(ValueError, match=r'scale 0.5 has heatmaps .*\(8, 8\)'):
        head.decode([torch.rand(1, 18, 10, 10),
                     torch.rand(1, 18, 8, 8)],
                    [torch.randn(1, 34, 10, 10),
                     torch.randn(1, 34, 8, 8)], cfg, dict(aug_scales=[0.5]))


# The image pyramid of BottomupResize(aug_scales=...) through packing,
# batching and a tiny SAMKR model (random weights, every centre peak kept)

PACK_KEYS = ('img_shape', 'input_size', 'input_center', 'input_scale',
             'flip_indices')


def build_estimator(multiscale):
    register_all_modules()
    model = Config.fromstring(TINY_CONFIG, '.py').model
    model.head.decoder.decode_thr = -1e6
    model.test_cfg.update(multiscale_test=multiscale, match_heatmap=True)
    # the same backbone batching (plain and flipped together) in both
    model.type = 'BatchedBottomupPoseEstimator'
    if multiscale:
        model.type = 'MultiScaleBottomupPoseEstimator'
        model.data_preprocessor.type = 'MultiScalePoseDataPreprocessor'
    torch.manual_seed(0)
    return MODELS.build(model).eval()


def pipeline_data(input_size, aug_scales=None):
    register_all_modules()
    resize = dict(
        type='BottomupResize',
        input_size=input_size,
        size_factor=32,
        resize_mode='expand')
    pack = dict(type='PackPoseInputs', meta_keys=PACK_KEYS)
    if aug_scales is not None:
        resize.update(aug_scales=aug_scales)
        pack.update(type='PackMultiScalePoseInputs')
    image = np.random.default_rng(0).integers(0, 255, (96, 160, 3), np.uint8)
    return Compose([resize, pack])(
        dict(
            img=image,
            ori_shape=image.shape[:2],
            img_shape=image.shape[:2],
            flip_indices=FLIP_INDICES))


def test_pipeline_batches_and_predicts_every_scale():
    model = build_estimator(multiscale=True)
    plain = build_estimator(multiscale=False)
    data = pipeline_data((64, 64), [0.5, 2.])
    with torch.no_grad():
        batch = model.data_preprocessor(pseudo_collate([data]))
        (result, ) = model.test_step(pseudo_collate([data]))
    shapes = [tuple(inputs.shape) for inputs in batch['inputs']]
    # 'expand' pads every scale to multiples of 32: 224 != 2 x 128
    assert shapes == [(1, 3, 64, 128), (1, 3, 32, 64), (1, 3, 128, 224)]
    assert batch['data_samples'][0].batch_input_shape == (64, 128)
    assert batch['data_samples'][0].aug_scales == [0.5, 2.]
    # each scale as the single-scale pipeline at that input size gives it
    for inputs, size in zip(batch['inputs'], [32, 16, 64]):
        single = pipeline_data((2 * size, 2 * size))
        expected = plain.data_preprocessor(pseudo_collate([single]))
        assert torch.equal(inputs, expected['inputs'])

    keypoints = result.pred_instances.keypoints
    assert len(keypoints) > 0 and keypoints.shape[1:] == (17, 2)
    assert result.pred_instances.keypoint_scores.shape == keypoints.shape[:2]
    assert np.isfinite(keypoints).all()
    assert np.isfinite(result.pred_instances.keypoint_scores).all()


def test_pipeline_with_scale_one_only_equals_single_scale():
    results = []
    for multiscale, aug_scales in [(True, [1.]), (False, None)]:
        data = pipeline_data((64, 64), aug_scales)
        with torch.no_grad():
            (result, ) = build_estimator(multiscale).test_step(
                pseudo_collate([data]))
        results.append(result.pred_instances)
    multi, single = results
    assert len(single.keypoints) > 0
    np.testing.assert_array_equal(multi.keypoints, single.keypoints)
    np.testing.assert_array_equal(multi.keypoint_scores,
                                  single.keypoint_scores)


def test_estimator_without_the_pyramid_raises():
    data = pseudo_collate([pipeline_data((64, 64))])
    with pytest.raises(ValueError, match='multiscale_test.*Tensor'):
        build_estimator(multiscale=True).test_step(data)
