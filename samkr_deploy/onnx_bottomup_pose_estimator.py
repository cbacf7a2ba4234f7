# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import onnxruntime as ort

from .bottomup_resize import bottomup_resize
from .check_image import check_image
from .check_input_size import check_input_size
from .deploy_settings import METADATA_KEY, TEST_CFG_KEYS, load_settings
from .heatmap_matching import heatmap_matching
from .merge_flipped import merge_flipped
from .pose_nms import pose_nms
from .resample import resample
from .rescore_net import RescoreNet
from .spr_decode import spr_decode


class OnnxBottomupPoseEstimator:
    """A SAMKR model exported by ``tools/export_onnx.py`` that predicts the
    poses of an image with onnxruntime, NumPy and OpenCV only: no PyTorch
    or MMPose.

    It reproduces MMPose's single-scale test of the exported config
    (``inference_bottomup``): ``BottomupResize`` (:func:`bottomup_resize`),
    the data preprocessor's channel order, mean and std, the network,
    optionally the flip test (:func:`merge_flipped`), and the decoding of
    :meth:`SAMKRHead.decode`: SPR decoding (:func:`spr_decode`), pose NMS
    (:func:`pose_nms`), optionally DEKR's matching of the keypoints to the
    heatmap peaks (:func:`heatmap_matching`) and the rescore net
    (:class:`RescoreNet`), and the keypoint scores (centre score times
    keypoint score); then the keypoints are mapped back to the image.
    Multi-scale testing is not part of it.

    The settings come from the model's metadata (key ``'samkr_mmpose'``),
    checked against the versioned schema of :mod:`.deploy_settings`: a model
    exported with another schema version is refused with a ``ValueError``.
    The test settings can be overridden.

    Args:
        model_file (str): The ``.onnx`` file.
        test_cfg (dict, optional): Overrides of the exported test settings:
            ``flip_test``, ``shift_heatmap``, ``nms_dist_thr``,
            ``nms_joints_thr``, ``max_num_people``, ``match_heatmap``,
            ``max_absorb_distance`` and ``adjust_threshold``. Defaults to
            ``None``.
        providers (Sequence[str]): onnxruntime execution providers.
            Defaults to ``('CPUExecutionProvider', )``.
        session_options (ort.SessionOptions, optional): onnxruntime
            session options. Defaults to ``None``.
    """

    def __init__(self,
                 model_file: str,
                 test_cfg: Optional[dict] = None,
                 providers: Sequence[str] = ('CPUExecutionProvider', ),
                 session_options: Optional[ort.SessionOptions] = None) -> None:
        self.session = ort.InferenceSession(
            model_file, sess_options=session_options, providers=providers)
        metadata = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in metadata:
            raise ValueError(
                f'{model_file} has no {METADATA_KEY!r} metadata; export the '
                'model with tools/export_onnx.py')
        self.settings = load_settings(metadata[METADATA_KEY], model_file)
        unknown = set(test_cfg or {}) - set(TEST_CFG_KEYS)
        if unknown:
            raise ValueError(f'Unknown test_cfg keys {sorted(unknown)}; '
                             f'expected some of {TEST_CFG_KEYS}')
        self.test_cfg = {**self.settings['test_cfg'], **(test_cfg or {})}
        self.rescore_net = None
        if self.settings['rescore_net'] is not None:
            self.rescore_net = RescoreNet.from_settings(
                self.settings['rescore_net'])
        self.input_name = self.session.get_inputs()[0].name

    def __call__(self, img: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Predict the poses of an image.

        Args:
            img (np.ndarray): Image (H, W, 3), uint8, in OpenCV's BGR order,
                as ``cv2.imread`` and MMPose's ``LoadImage`` give it.

        Returns:
            tuple:
            - keypoints (np.ndarray): Poses (N, K, 2) in image pixels; (0,
              K, 2) where no person is found.
            - keypoint_scores (np.ndarray): Keypoint scores (N, K).

        Raises:
            ValueError: For an image that :func:`check_image` refuses, or
                one whose network input would be longer than
                ``MAX_INPUT_SIDE`` (:func:`check_input_size`).
        """
        check_image(img)
        inputs, meta = self.preprocess(img)
        check_input_size(meta['input_size'], img.shape[:2])
        heatmaps, displacements = self.forward(inputs)
        keypoints, keypoint_scores = self.decode(heatmaps[0], displacements[0])
        # BottomupPoseEstimator.add_pred_to_datasample
        input_scale = meta['input_scale']
        keypoints = (
            keypoints / meta['input_size'] * input_scale +
            meta['input_center'] - 0.5 * input_scale)
        return keypoints, keypoint_scores

    def preprocess(self, img: np.ndarray) -> Tuple[np.ndarray, Dict]:
        """Resize and normalise an image into a network input.

        Args:
            img (np.ndarray): Image (H, W, 3), BGR.

        Returns:
            tuple:
            - inputs (np.ndarray): The input (1, 3, h, w), float32.
            - meta (dict): ``input_size``, ``input_center`` and
              ``input_scale`` (see :func:`bottomup_resize`).
        """
        resize = self.settings['resize']
        resized, meta = bottomup_resize(img, **resize)
        inputs = resized.astype(np.float32)
        preprocessor = self.settings['preprocessor']
        mean = np.asarray(preprocessor['mean'], np.float32)
        std = np.asarray(preprocessor['std'], np.float32)
        if preprocessor['reverse_channels']:
            inputs = inputs[..., ::-1]
        inputs = (inputs - mean) / std
        return np.ascontiguousarray(inputs.transpose(2, 0, 1)[None]), meta

    def forward(self, inputs: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Run the network, with the flip test if set.

        Args:
            inputs (np.ndarray): Inputs (B, 3, h, w).

        Returns:
            tuple: Heatmaps (B, K+1, h/4, w/4) and displacements
            (B, 2K, h/4, w/4).
        """
        if not self.test_cfg['flip_test']:
            return tuple(self.session.run(None, {self.input_name: inputs}))
        both = np.concatenate((inputs, inputs[..., ::-1]))
        heatmaps, displacements = self.session.run(None,
                                                   {self.input_name: both})
        heatmaps, flipped_heatmaps = np.split(heatmaps, 2)
        displacements, flipped_displacements = np.split(displacements, 2)
        return merge_flipped(
            heatmaps,
            displacements,
            flipped_heatmaps,
            flipped_displacements,
            flip_indices=self.settings['flip_indices'],
            input_width=inputs.shape[-1],
            shift_heatmap=self.test_cfg['shift_heatmap'])

    def decode(self, heatmaps: np.ndarray,
               displacements: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Decode the poses of one input as :meth:`SAMKRHead.decode` does
        at a single scale.

        Args:
            heatmaps (np.ndarray): Heatmaps (K+1, H, W).
            displacements (np.ndarray): Displacements (2K, H, W).

        Returns:
            tuple:
            - keypoints (np.ndarray): Poses (N, K, 2) in input pixels.
            - keypoint_scores (np.ndarray): Centre times keypoint scores
              (N, K).
        """
        decoder = self.settings['decoder']
        keypoints, root_scores, keypoint_scores = spr_decode(
            heatmaps, displacements, **decoder)
        cfg = self.test_cfg
        if cfg['nms_dist_thr'] > 0:
            keep = pose_nms(
                keypoints,
                keypoint_scores,
                cfg['nms_dist_thr'],
                cfg['nms_joints_thr'],
                max_dets=cfg['max_num_people'])
            keypoints = keypoints[keep]
            root_scores = root_scores[keep]
            keypoint_scores = keypoint_scores[keep]
        if cfg['match_heatmap'] and len(keypoints) > 0:
            # as SAMKRHead._match_heatmap: to the input resolution
            ratio = decoder['scale_factor']
            size = [round(n * r) for n, r in zip(heatmaps.shape[:0:-1], ratio)]
            keypoints = heatmap_matching(
                keypoints,
                root_scores[:, None] * keypoint_scores,
                resample(heatmaps[:-1], size[::-1], [1 / r for r in ratio],
                         (0, 0)),
                max_absorb_distance=cfg['max_absorb_distance'],
                adjust_threshold=cfg['adjust_threshold'],
                max_peaks=cfg['max_num_people'])
        if self.rescore_net is not None and len(keypoints) > 0:
            root_scores = root_scores * self.rescore_net(
                keypoints, keypoint_scores)
        return keypoints, root_scores[:, None] * keypoint_scores
