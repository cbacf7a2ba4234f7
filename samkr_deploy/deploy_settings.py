# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""The settings contract between the exporter and the estimator.

``samkr_mmpose.apis.export_onnx`` writes the test-time settings of a model
into the ONNX metadata (key :data:`METADATA_KEY`) with
:func:`dump_settings`; :class:`OnnxBottomupPoseEstimator` reads them with
:func:`load_settings`. Both check them against the one schema below, so a
key added, renamed or dropped on one side fails at once on the other.
Change :data:`SCHEMA_VERSION` with every change of the schema.
"""
import json
from typing import Dict

# the metadata key of the JSON settings in an exported model
METADATA_KEY = 'samkr_mmpose'
# version 1: the first versioned schema (models exported before it carry no
# 'schema_version')
SCHEMA_VERSION = 1
# the test settings, which OnnxBottomupPoseEstimator lets users override
TEST_CFG_KEYS = ('flip_test', 'shift_heatmap', 'nms_dist_thr',
                 'nms_joints_thr', 'max_num_people', 'match_heatmap',
                 'max_absorb_distance', 'adjust_threshold')
# the keys of each section: None for a value that is not a dict
SCHEMA = dict(
    schema_version=None,
    resize=('input_size', 'size_factor', 'resize_mode', 'pad_val'),
    preprocessor=('reverse_channels', 'mean', 'std'),
    decoder=('scale_factor', 'nms_kernel', 'max_instances', 'decode_thr'),
    test_cfg=TEST_CFG_KEYS,
    flip_indices=None,
    rescore_net=None)


def check_settings(settings: Dict, source: str = 'the model') -> None:
    """Check settings against the schema of :data:`SCHEMA_VERSION`.

    Args:
        settings (dict): Deploy settings.
        source (str): What they come from, for the error message. Defaults
            to ``'the model'``.

    Raises:
        ValueError: With the version, or the missing and unexpected keys of
            the first section that differs from the schema.
    """
    version = settings.get('schema_version')
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ValueError(
            f'settings of {source}: schema_version {version!r}, but this '
            f'samkr_deploy reads version {SCHEMA_VERSION}; export the model '
            'again with the samkr_mmpose of this samkr_deploy')
    _check_keys(settings, SCHEMA, source)
    for section, keys in SCHEMA.items():
        if keys is not None:
            _check_keys(settings[section], dict.fromkeys(keys),
                        f'{source}, section {section!r}')


def dump_settings(settings: Dict) -> str:
    """Check settings and write them as the JSON of the metadata.

    Args:
        settings (dict): Deploy settings, ``schema_version`` included.

    Returns:
        str: The JSON text.
    """
    check_settings(settings)
    return json.dumps(settings)


def load_settings(text: str, source: str = 'the model') -> Dict:
    """Read and check the JSON settings of the metadata.

    Args:
        text (str): The JSON text.
        source (str): What it comes from, for error messages. Defaults to
            ``'the model'``.

    Returns:
        dict: The settings.
    """
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f'{source} has unreadable {METADATA_KEY!r} '
                         f'metadata: {error}') from error
    if not isinstance(settings, dict):
        raise ValueError(f'{source} has {METADATA_KEY!r} metadata that is '
                         f'not a JSON object: {type(settings).__name__}')
    check_settings(settings, source)
    return settings


def _check_keys(values: Dict, schema: Dict, source: str) -> None:
    """Raise a ValueError naming the keys missing from or unexpected in
    ``values``."""
    if not isinstance(values, dict):
        raise ValueError(f'settings of {source}: expected a dict, got '
                         f'{type(values).__name__}')
    missing = sorted(set(schema) - set(values))
    unexpected = sorted(set(values) - set(schema))
    if missing or unexpected:
        raise ValueError(f'settings of {source} do not match schema '
                         f'version {SCHEMA_VERSION}: missing keys {missing}, '
                         f'unexpected keys {unexpected}')
