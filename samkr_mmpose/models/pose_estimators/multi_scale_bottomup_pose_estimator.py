# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List, Union

from torch import Tensor

from mmpose.registry import MODELS
from mmpose.utils.typing import ForwardResults, OptSampleList
from .batched_bottomup_pose_estimator import BatchedBottomupPoseEstimator


@MODELS.register_module()
class MultiScaleBottomupPoseEstimator(BatchedBottomupPoseEstimator):
    """:class:`BatchedBottomupPoseEstimator` whose ``predict`` mode takes
    an image pyramid.

    :meth:`BottomupPoseEstimator.predict` runs ``multiscale_test`` on a
    list of (B, C, H, W) batches, one per scale, but MMPose 1.3's
    :meth:`BasePoseEstimator.forward` stacks every list input, which fails
    for batches of different sizes. Here a list reaches ``predict``
    unchanged. With :class:`PackMultiScalePoseInputs` and
    :class:`MultiScalePoseDataPreprocessor` this runs
    ``BottomupResize(aug_scales=[...])`` pipelines end to end; with
    ``multiscale_test`` a single input batch raises a ``ValueError``. The
    arguments are those of :class:`BottomupPoseEstimator`.
    """

    def forward(self,
                inputs: Union[Tensor, List[Tensor]],
                data_samples: OptSampleList,
                mode: str = 'tensor') -> ForwardResults:
        """Forward in ``mode``, see :meth:`BasePoseEstimator.forward`.

        Args:
            inputs (Tensor | List[Tensor]): The input batch, or in
                ``predict`` mode a list of batches per scale.
            data_samples (List[:obj:`PoseDataSample`], optional): The
                data samples.
            mode (str): ``'tensor'``, ``'predict'`` or ``'loss'``.
                Defaults to ``'tensor'``.

        Returns:
            The return type depends on ``mode``, see
            :meth:`BasePoseEstimator.forward`.
        """
        if mode != 'predict' or not isinstance(inputs, list):
            if mode == 'predict' and self.test_cfg.get('multiscale_test'):
                raise ValueError(
                    'multiscale_test needs a list of input batches per '
                    'scale (BottomupResize(aug_scales=[...]), '
                    'PackMultiScalePoseInputs and '
                    'MultiScalePoseDataPreprocessor), got a '
                    f'{type(inputs).__name__}')
            return super().forward(inputs, data_samples, mode)
        if self.metainfo is not None:
            for data_sample in data_samples:
                data_sample.set_metainfo(self.metainfo)
        return self.predict(inputs, data_samples)
