# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The versioned settings schema shared by the exporter and the estimator.

The models here are one ONNX ``Identity`` node with settings in their
metadata, built with ``onnx.helper``: no PyTorch is needed to write them.
"""
import copy
import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from samkr_deploy import (METADATA_KEY, SCHEMA_VERSION,
                          OnnxBottomupPoseEstimator, check_settings,
                          dump_settings, load_settings)
from samkr_deploy.deploy_settings import SCHEMA

SETTINGS = dict(
    schema_version=SCHEMA_VERSION,
    resize=dict(
        input_size=[64, 64],
        size_factor=32,
        resize_mode='expand',
        pad_val=[0, 0, 0]),
    preprocessor=dict(reverse_channels=True, mean=[0, 0, 0], std=[1, 1, 1]),
    decoder=dict(
        scale_factor=[4., 4.], nms_kernel=5, max_instances=30,
        decode_thr=0.01),
    test_cfg=dict(
        flip_test=False,
        shift_heatmap=False,
        nms_dist_thr=0,
        nms_joints_thr=None,
        max_num_people=30,
        match_heatmap=False,
        max_absorb_distance=75.,
        adjust_threshold=0.05),
    flip_indices=[0],
    rescore_net=None)


def write_model(path, settings_json):
    """An ONNX model of one Identity node with ``settings_json`` as its
    settings."""
    graph = helper.make_graph(
        [helper.make_node('Identity', ['inputs'], ['outputs'])], 'identity',
        [helper.make_tensor_value_info('inputs', TensorProto.FLOAT, None)],
        [helper.make_tensor_value_info('outputs', TensorProto.FLOAT, None)])
    model = helper.make_model(graph)
    if settings_json is not None:
        entry = model.metadata_props.add()
        entry.key, entry.value = METADATA_KEY, settings_json
    onnx.save(model, str(path))
    return str(path)


def edited(edit):
    settings = copy.deepcopy(SETTINGS)
    edit(settings)
    return settings


def test_schema_lists_every_section():
    assert set(SETTINGS) == set(SCHEMA)
    for section, keys in SCHEMA.items():
        if keys is not None:
            assert set(SETTINGS[section]) == set(keys)


def test_round_trip_through_the_estimator(tmp_path):
    text = dump_settings(SETTINGS)
    assert load_settings(text) == SETTINGS
    estimator = OnnxBottomupPoseEstimator(
        write_model(tmp_path / 'm.onnx', text))
    assert estimator.settings == SETTINGS
    assert estimator.test_cfg == SETTINGS['test_cfg']


@pytest.mark.parametrize('version',
                         [None, 0, SCHEMA_VERSION + 1, '1', True, 1.0])
def test_other_versions_are_refused(tmp_path, version):

    def set_version(settings):
        if version is None:
            del settings['schema_version']
        else:
            settings['schema_version'] = version

    path = write_model(tmp_path / 'm.onnx', json.dumps(edited(set_version)))
    with pytest.raises(
            ValueError,
            match=rf'settings of .*m\.onnx: schema_version {version!r}, but '
            rf'this samkr_deploy reads version {SCHEMA_VERSION}; export the '
            'model again'):
        OnnxBottomupPoseEstimator(path)


@pytest.mark.parametrize('edit,message', [
    (lambda s: s.pop('flip_indices'),
     r"missing keys \['flip_indices'\], unexpected keys \[\]"),
    (lambda s: s.update(extra=1),
     r"missing keys \[\], unexpected keys \['extra'\]"),
    (lambda s: s['test_cfg'].pop('flip_test'),
     r"section 'test_cfg' do not match schema version 1: missing keys "
     r"\['flip_test'\]"),
    (lambda s: s['resize'].update(use_udp=True),
     r"section 'resize' do not match .* unexpected keys \['use_udp'\]"),
    (lambda s: s.update(decoder=None),
     r"section 'decoder': expected a dict, got NoneType"),
])
def test_keys_other_than_the_schema_are_refused(edit, message):
    settings = edited(edit)
    with pytest.raises(ValueError, match=message):
        check_settings(settings)
    with pytest.raises(ValueError, match=message):
        dump_settings(settings)
    with pytest.raises(ValueError, match=message):
        load_settings(json.dumps(settings))


@pytest.mark.parametrize('text,message', [
    ('not json {', r"unreadable 'samkr_mmpose' metadata: Expecting value"),
    ('[1, 2]', r"metadata that is not a JSON object: list"),
])
def test_unreadable_metadata_is_refused(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        OnnxBottomupPoseEstimator(write_model(tmp_path / 'm.onnx', text))


def test_model_without_settings_is_refused(tmp_path):
    with pytest.raises(ValueError, match="has no 'samkr_mmpose' metadata"):
        OnnxBottomupPoseEstimator(write_model(tmp_path / 'm.onnx', None))


def test_settings_are_plain_json():
    """What the estimator reads is JSON, not Python reprs."""
    text = dump_settings(SETTINGS)
    assert json.loads(text) == SETTINGS
    with pytest.raises(TypeError):
        dump_settings(edited(lambda s: s.update(flip_indices=np.arange(1))))
