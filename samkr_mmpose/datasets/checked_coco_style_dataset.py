# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import json
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from mmpose.datasets import CocoDataset, CrowdPoseDataset
from mmpose.registry import DATASETS
from samkr_mmpose.utils.check_keypoint_annotation import \
    check_keypoint_annotation


class CheckedCocoStyleDataset:
    """Checks of an annotation file for MMPose's COCO-style datasets, mixed
    in before the dataset class.

    - A file that is not JSON raises a ``ValueError`` naming it (the JSON
      parser's message names no file).
    - Every annotation must have ``keypoints`` and ``bbox`` and exactly the
      dataset's number of keypoints (:func:`check_keypoint_annotation`);
      MMPose skips the others silently or fails to reshape them.
    - Bottom-up training uses only the images with people (as DEKR does);
      how many images that leaves out is logged.
    """

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Load the annotations as the dataset class does, with the checks.

        Returns:
            tuple: The instances and the images.
        """
        try:
            instances, images = super()._load_annotations()
        except json.JSONDecodeError as error:
            raise ValueError(f'the annotation file {self.ann_file} is not '
                             f'JSON: {error}') from error
        with_people = {instance['img_id'] for instance in instances}
        left_out = len(images) - len(with_people)
        if self.data_mode == 'bottomup' and not self.test_mode and left_out:
            print_log(
                f'{left_out} of {len(images)} images in {self.ann_file} have '
                'no person annotation and are not used for training',
                logger='current')
        return instances, images

    def parse_data_info(self, raw_data_info: dict) -> Optional[dict]:
        """Check and parse the annotation of one instance.

        Args:
            raw_data_info (dict): The annotation (``raw_ann_info``) and its
                image (``raw_img_info``).

        Returns:
            dict | None: The instance, as the dataset class parses it.
        """
        check_keypoint_annotation(raw_data_info['raw_ann_info'],
                                  self.metainfo['num_keypoints'],
                                  self.ann_file)
        return super().parse_data_info(raw_data_info)


@DATASETS.register_module()
class CheckedCocoDataset(CheckedCocoStyleDataset, CocoDataset):
    """MMPose's :class:`CocoDataset` with the checks of
    :class:`CheckedCocoStyleDataset`; it takes the same arguments."""


@DATASETS.register_module()
class CheckedCrowdPoseDataset(CheckedCocoStyleDataset, CrowdPoseDataset):
    """MMPose's :class:`CrowdPoseDataset` with the checks of
    :class:`CheckedCocoStyleDataset`; it takes the same arguments."""
