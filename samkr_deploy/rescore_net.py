# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
import base64
from typing import Dict, Sequence, Tuple

import numpy as np


class RescoreNet:
    """DEKR's rescore net (MMPose's ``RescoreNet``) in NumPy: a pose score
    predicted from the limb vectors and lengths (relative to the torso) and
    the keypoint scores of a pose by a three-layer perceptron.

    Args:
        layers (Sequence[Tuple[np.ndarray, np.ndarray]]): Weight
            (out, in) and bias (out, ) of each linear layer; ReLU between
            them.
        skeleton_links (Sequence[Sequence[int]]): The limbs, pairs of
            keypoint indices.
        norm_indexes (Sequence[int]): The two limbs whose mean length
            normalises the others.
    """

    def __init__(self, layers: Sequence[Tuple[np.ndarray, np.ndarray]],
                 skeleton_links: Sequence[Sequence[int]],
                 norm_indexes: Sequence[int]) -> None:
        self.layers = [(np.asarray(w, np.float32), np.asarray(b, np.float32))
                       for w, b in layers]
        self.skeleton_links = np.asarray(skeleton_links, dtype=np.int64)
        self.norm_indexes = tuple(norm_indexes)

    def __call__(self, keypoints: np.ndarray,
                 keypoint_scores: np.ndarray) -> np.ndarray:
        """Score poses.

        Args:
            keypoints (np.ndarray): Poses (N, K, 2).
            keypoint_scores (np.ndarray): Keypoint scores (N, K).

        Returns:
            np.ndarray: The pose scores (N, ), NaN replaced by 0.
        """
        limbs = (
            keypoints[:, self.skeleton_links[:, 0]] -
            keypoints[:, self.skeleton_links[:, 1]])
        lengths = np.linalg.norm(limbs, axis=-1)
        torso = np.maximum((lengths[:, self.norm_indexes[0]] +
                            lengths[:, self.norm_indexes[1]]) / 2, 1)[:, None]
        x = np.concatenate(((limbs / torso[..., None]).reshape(
            len(limbs), -1), lengths / torso, keypoint_scores),
                           axis=1).astype(np.float32)
        if x.shape[1] != self.layers[0][0].shape[1]:
            raise ValueError(
                f'the rescore net takes {self.layers[0][0].shape[1]} '
                f'features, got {x.shape[1]} from '
                f'{len(self.skeleton_links)} limbs and '
                f'{keypoints.shape[1]} keypoints')
        for index, (weight, bias) in enumerate(self.layers):
            x = x @ weight.T + bias
            if index < len(self.layers) - 1:
                x = np.maximum(x, 0)
        scores = x[:, 0]
        return np.where(np.isnan(scores), 0, scores)

    def settings(self) -> Dict:
        """The net as JSON-serialisable settings (weights in base64), the
        argument of :meth:`from_settings`."""
        return dict(
            layers=[[_encode(w), _encode(b)] for w, b in self.layers],
            skeleton_links=self.skeleton_links.tolist(),
            norm_indexes=list(self.norm_indexes))

    @classmethod
    def from_settings(cls, settings: Dict) -> 'RescoreNet':
        """Build the net from :meth:`settings`.

        Args:
            settings (dict): ``layers``, ``skeleton_links`` and
                ``norm_indexes``.

        Returns:
            RescoreNet: The net.
        """
        return cls([(_decode(w), _decode(b)) for w, b in settings['layers']],
                   settings['skeleton_links'], settings['norm_indexes'])


def _encode(array: np.ndarray) -> Dict:
    """A float32 array as its shape and base64 bytes."""
    return dict(
        shape=list(array.shape),
        data=base64.b64encode(array.astype('<f4').tobytes()).decode())


def _decode(encoded: Dict) -> np.ndarray:
    """The array of :func:`_encode`."""
    return np.frombuffer(
        base64.b64decode(encoded['data']),
        dtype='<f4').reshape(encoded['shape']).astype(np.float32)
