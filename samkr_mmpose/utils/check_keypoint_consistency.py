# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Optional

import numpy as np
from torch import nn

from mmpose.codecs.base import BaseKeypointCodec


def check_keypoint_consistency(head: nn.Module,
                               dataset_meta: dict,
                               encoder: Optional[BaseKeypointCodec] = None
                               ) -> None:
    """Check that a dataset and a DEKR-style bottom-up head (DEKR's, SAMKR's)
    agree on the keypoints, and raise a ``ValueError`` naming the numbers
    where they do not.

    Nothing else reports these mismatches clearly: a head of more keypoints
    than the dataset trains on targets of the wrong number of channels until
    a batch fails to stack, and wrong flip indices or codecs give wrong
    poses silently. Checked are:

    - ``dataset_meta['num_keypoints']`` against ``head.num_keypoints``;
    - ``dataset_meta['flip_indices']``: a permutation of the keypoints;
    - DEKR's rescore net: its features (``RescoreNet.make_feature``) are
      the offset (x, y) and the normalised length of each of the ``L``
      skeleton links and the ``K`` keypoint scores, so its ``in_channels``
      must be ``3 L + K``, and its ``norm_indexes`` must be links;
    - the head's decoder and the training ``encoder``: the head predicts
      ``K`` keypoint heatmaps and the instance-centre heatmap, so an SPR
      codec needs ``generate_keypoint_heatmaps=True``, and both codecs must
      map the input to the heatmaps at the same scale.

    Args:
        head (nn.Module): The head, with ``num_keypoints``, ``decoder``
            and ``rescore_net`` as :class:`DEKRHead`'s.
        dataset_meta (dict): The dataset's metainfo, with
            ``num_keypoints``, ``flip_indices`` and ``skeleton_links``.
        encoder (BaseKeypointCodec, optional): The codec generating the
            training targets. Defaults to ``None``.
    """
    name = dataset_meta.get('dataset_name', 'the dataset')
    num_keypoints = dataset_meta['num_keypoints']
    if num_keypoints != head.num_keypoints:
        raise ValueError(
            f'{name} has {num_keypoints} keypoints, but the head predicts '
            f'num_keypoints={head.num_keypoints}: set the head\'s '
            'num_keypoints (and rescore_cfg) for this dataset')

    flip_indices = list(dataset_meta['flip_indices'])
    if sorted(flip_indices) != list(range(num_keypoints)):
        raise ValueError(
            f'the flip_indices of {name} must be a permutation of its '
            f'{num_keypoints} keypoints, got {flip_indices}')

    rescore_net = getattr(head, 'rescore_net', None)
    if rescore_net is not None:
        num_links = len(dataset_meta['skeleton_links'])
        expected = 3 * num_links + num_keypoints
        if rescore_net.l1.in_features != expected:
            raise ValueError(
                f'the rescore net has in_channels='
                f'{rescore_net.l1.in_features}, but its features for '
                f'{name} (the offset and length of {num_links} skeleton '
                f'links and {num_keypoints} keypoint scores) have 3 x '
                f'{num_links} + {num_keypoints} = {expected}')
        norm_indexes = list(rescore_net.norm_indexes)
        if not all(0 <= i < num_links for i in norm_indexes):
            raise ValueError(
                f'the rescore net normalises by the skeleton links '
                f'norm_indexes={norm_indexes}, but {name} has {num_links} '
                'links')

    codecs = {
        'the head\'s decoder': getattr(head, 'decoder', None),
        'the training encoder': encoder
    }
    for role, codec in codecs.items():
        if not getattr(codec, 'generate_keypoint_heatmaps', True):
            raise ValueError(
                f'{role} ({type(codec).__name__}) has '
                'generate_keypoint_heatmaps=False, so its heatmaps hold '
                f'only the instance centres, but the head predicts '
                f'{num_keypoints} keypoint heatmaps and the centre heatmap: '
                'set generate_keypoint_heatmaps=True')
    scales = [getattr(c, 'scale_factor', None) for c in codecs.values()]
    if all(s is not None for s in scales) and not np.allclose(*scales):
        raise ValueError(
            'the head\'s decoder maps heatmaps to the input at a scale of '
            f'{np.asarray(scales[0]).tolist()} (input_size / heatmap_size), '
            f'the training encoder at {np.asarray(scales[1]).tolist()}: '
            'decoded poses would be scaled wrongly; give both the same codec')
