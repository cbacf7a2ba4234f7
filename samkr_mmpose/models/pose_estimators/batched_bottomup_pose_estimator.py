# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import List, Union

import torch
from torch import Tensor

from mmpose.models.pose_estimators import BottomupPoseEstimator
from mmpose.registry import MODELS
from mmpose.utils.typing import SampleList
from samkr_deploy.check_input_size import check_input_size


@MODELS.register_module()
class BatchedBottomupPoseEstimator(BottomupPoseEstimator):
    """:class:`BottomupPoseEstimator` that predicts batches of images of
    any sizes, each as if it were alone.

    ``BottomupResize`` gives every image its own input size and the data
    preprocessor pads a batch to the largest one, at the bottom and right.
    The padding would change the features near the border and move the
    mirror axis of the flip test, so :meth:`predict` crops every image back
    to its ``metainfo['input_size']`` and runs the images of each size as
    one batch; the plain and the flipped images go through the backbone
    together. The head must predict batches (e.g. :class:`SAMKRHead`;
    MMPose's ``DEKRHead`` takes one image). An input longer than
    ``MAX_INPUT_SIDE`` (a very thin image, expanded) is refused before the
    backbone runs (:func:`check_input_size`). The arguments are those of
    :class:`BottomupPoseEstimator`.
    """

    def predict(self, inputs: Union[Tensor, List[Tensor]],
                data_samples: SampleList) -> SampleList:
        """Predict the poses of a batch, grouped by input size.

        Args:
            inputs (Tensor | List[Tensor]): The input batch (B, C, H, W),
                or with ``multiscale_test`` a list of batches per scale.
            data_samples (List[:obj:`PoseDataSample`]): The data samples.

        Returns:
            List[:obj:`PoseDataSample`]: ``data_samples`` with
            ``pred_instances`` (and ``pred_fields``) in input order.
        """
        sizes = [tuple(s.metainfo['input_size']) for s in data_samples]
        for size, sample in zip(sizes, data_samples):
            check_input_size(size, sample.metainfo.get('ori_shape', ()))
        if isinstance(inputs, list):
            if len(set(sizes)) > 1:
                raise ValueError(
                    'a multi-scale batch must share one input size, got '
                    f'{sorted(set(sizes))}; test with batch_size=1')
            return self._predict_same_size(inputs, data_samples)
        for size in dict.fromkeys(sizes):
            index = [i for i, s in enumerate(sizes) if s == size]
            width, height = size
            if height > inputs.shape[-2] or width > inputs.shape[-1]:
                raise ValueError(
                    f'input_size {size} of a data sample exceeds the input '
                    f'batch of shape {tuple(inputs.shape)}')
            self._predict_same_size(inputs[index, :, :height, :width],
                                    [data_samples[i] for i in index])
        return data_samples

    def _predict_same_size(self, inputs: Union[Tensor, List[Tensor]],
                           data_samples: SampleList) -> SampleList:
        """:meth:`BottomupPoseEstimator.predict` on inputs of one size,
        with one backbone pass for the plain and the flipped images.

        Args:
            inputs (Tensor | List[Tensor]): The input batch, or a list of
                batches per scale.
            data_samples (List[:obj:`PoseDataSample`]): The data samples.

        Returns:
            List[:obj:`PoseDataSample`]: ``data_samples`` with predictions.
        """
        multiscale_test = self.test_cfg.get('multiscale_test', False)
        if not multiscale_test:
            inputs = [inputs]
        feats = []
        for batch in inputs:
            if self.test_cfg.get('flip_test', False):
                both = self.extract_feat(torch.cat((batch, batch.flip(-1))))
                feats.append(
                    [tuple(f.chunk(2)[i] for f in both) for i in range(2)])
            else:
                feats.append(self.extract_feat(batch))
        if not multiscale_test:
            feats = feats[0]

        preds = self.head.predict(feats, data_samples, test_cfg=self.test_cfg)
        pred_fields = None
        if isinstance(preds, tuple):
            preds, pred_fields = preds
        return self.add_pred_to_datasample(preds, pred_fields, data_samples)
