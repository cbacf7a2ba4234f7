# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Callable, List, Tuple

from torch import Tensor

from mmpose.utils.typing import ConfigType, Features, SampleList
from .check_num_keypoints import check_num_keypoints
from .flip_forward import flip_forward
from .input_scales import input_scales


def forward_test(forward: Callable[[Features], Tuple[Tensor, Tensor]],
                 feats: Features,
                 batch_data_samples: SampleList,
                 num_keypoints: int,
                 test_cfg: ConfigType = {}
                 ) -> Tuple[List[Tensor], List[Tensor]]:
    """The test-time outputs of a bottom-up head for a batch of images of
    one input size (:meth:`DEKRHead.predict` takes one image): its heatmaps
    and displacements at every input scale, flip-averaged by
    :func:`flip_forward` with ``flip_test``.

    Args:
        forward (Callable): The head's forward, e.g. ``head.forward`` of a
            :class:`SAMKRHead` or of MMPose's :class:`DEKRHead`.
        feats (Tuple[Tensor] | List[Tuple[Tensor]]): The multi-stage
            features, a pair of the plain and the flipped ones with
            ``flip_test``, and a list of those per input scale with
            ``multiscale_test``.
        batch_data_samples (List[:obj:`PoseDataSample`]): The batch data
            samples.
        num_keypoints (int): The head's number of keypoints K.
        test_cfg (dict): The runtime config for testing: ``flip_test``,
            ``shift_heatmap`` and ``multiscale_test``. Defaults to {}.

    Returns:
        tuple: The heatmaps (B, K+1, H, W) and the displacements
        (B, 2K, H, W) of every input scale, the input size first.
    """
    input_sizes = {
        tuple(sample.metainfo['input_size'])
        for sample in batch_data_samples
    }
    if len(input_sizes) > 1:
        raise ValueError(
            'the test-time forward takes a batch of one input size, got '
            f'{sorted(input_sizes)}; BatchedBottomupPoseEstimator groups '
            'images by size')
    metainfo = batch_data_samples[0].metainfo
    scales = [1.]
    if test_cfg.get('multiscale_test', False):
        scales = input_scales(metainfo, len(feats))
    else:
        feats = [feats]
    flip_test = test_cfg.get('flip_test', False)
    if flip_test:
        check_num_keypoints(num_keypoints, len(metainfo['flip_indices']),
                            'flip_test got flip_indices of')

    heatmaps, displacements = [], []
    for feat, scale in zip(feats, scales):
        heatmap, displacement = (
            flip_forward(forward, feat, metainfo['flip_indices'], scale *
                         metainfo['input_size'][0],
                         test_cfg.get('shift_heatmap', False))
            if flip_test else forward(feat))
        heatmaps.append(heatmap)
        displacements.append(displacement)
    return heatmaps, displacements
