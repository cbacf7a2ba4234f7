# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
"""Synthetic multi-person keypoint datasets in COCO and CrowdPose format.

Every image holds several articulated figures (limbs, torso and head drawn
as filled, textured shapes) at very different scales on a cluttered
background, drawn far to near so that near figures occlude far ones. The
annotations follow the real datasets: COCO's 17 or CrowdPose's 14
keypoints with visibility flags (2 visible, 1 occluded, 0 outside the
image), boxes, areas, polygon segmentations and, for CrowdPose, each
image's ``crowdIndex``. The figures face the camera, so a person's left
side is on the image's right, as for most people in COCO; this keeps the
left/right labels learnable under flip augmentation.
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

# Joints of the figure model, in the order of COCO's 17 keypoints followed
# by the two extra joints CrowdPose annotates.
JOINTS = ('nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear',
          'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow',
          'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
          'right_knee', 'left_ankle', 'right_ankle', 'head', 'neck')
LAYOUTS = {
    'coco':
    dict(
        keypoints=JOINTS[:17],
        # 1-based links, as in COCO's category
        skeleton=[[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12],
                  [7, 13], [6, 7], [6, 8], [7, 9], [8, 10], [9, 11], [2, 3],
                  [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7]],
        ann_file='annotations/person_keypoints_{split}2017.json',
        img_dir='{split}2017',
        splits=('train', 'val')),
    'crowdpose':
    dict(
        keypoints=JOINTS[5:],
        skeleton=[[13, 14], [14, 1], [14, 2], [1, 3], [3, 5], [2, 4], [4, 6],
                  [1, 7], [2, 8], [7, 8], [7, 9], [9, 11], [8, 10], [10, 12]],
        ann_file='annotations/mmpose_crowdpose_{split}.json',
        img_dir='images',
        splits=('trainval', 'test')),
}
# Limb segments drawn as thick lines: (joint, joint, width / torso length).
LIMBS = (
    ('left_hip', 'left_knee', 0.22),
    ('left_knee', 'left_ankle', 0.18),
    ('right_hip', 'right_knee', 0.22),
    ('right_knee', 'right_ankle', 0.18),
    ('left_shoulder', 'left_elbow', 0.17),
    ('left_elbow', 'left_wrist', 0.14),
    ('right_shoulder', 'right_elbow', 0.17),
    ('right_elbow', 'right_wrist', 0.14),
    ('neck', 'head', 0.14),
)


def dataset_layout(dataset: str, split: str) -> Tuple[str, str]:
    """The annotation file and image folder of a split in MMPose's layout
    of a dataset root, as the generator writes them.

    Args:
        dataset (str): ``'coco'`` or ``'crowdpose'``.
        split (str): The split name, e.g. ``'train'``.

    Returns:
        tuple: The annotation file and the image folder, relative to the
        dataset root.
    """
    if dataset not in LAYOUTS:
        raise ValueError(f'dataset must be one of {sorted(LAYOUTS)}, got '
                         f'{dataset!r}')
    layout = LAYOUTS[dataset]
    return (layout['ann_file'].format(split=split),
            layout['img_dir'].format(split=split) + '/')


def _pose(rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Sample joint positions of one figure in torso units.

    The neck is at the origin and the hips' centre at ``(0, 1)``; ``+x`` is
    the figure's left (image right), ``+y`` points down.
    """

    def limb(origin, angle, length):
        return origin + length * np.array([np.sin(angle), np.cos(angle)])

    j = dict(neck=np.zeros(2))
    for side, sign in (('left', 1.), ('right', -1.)):
        shoulder = np.array([sign * rng.uniform(0.3, 0.4), 0.05])
        hip = np.array([sign * rng.uniform(0.18, 0.24), 1.])
        # angles from straight down, positive away from the body
        arm = sign * np.deg2rad(rng.uniform(-25, 160))
        elbow = limb(shoulder, arm, rng.uniform(0.5, 0.6))
        wrist = limb(elbow, arm + sign * np.deg2rad(rng.uniform(-20, 130)),
                     rng.uniform(0.45, 0.55))
        leg = sign * np.deg2rad(rng.uniform(-10, 45))
        knee = limb(hip, leg, rng.uniform(0.6, 0.7))
        ankle = limb(knee, leg - sign * np.deg2rad(rng.uniform(-10, 60)),
                     rng.uniform(0.55, 0.65))
        j.update({
            f'{side}_shoulder': shoulder,
            f'{side}_elbow': elbow,
            f'{side}_wrist': wrist,
            f'{side}_hip': hip,
            f'{side}_knee': knee,
            f'{side}_ankle': ankle,
            f'{side}_eye': np.array([sign * 0.09, -0.47]),
            f'{side}_ear': np.array([sign * 0.2, -0.42]),
        })
    j['nose'] = np.array([0., -0.38])
    j['head'] = np.array([0., -0.66])
    # a small head turn moves the face inside the head outline
    turn = rng.uniform(-0.05, 0.05)
    for name in ('nose', 'left_eye', 'right_eye'):
        j[name] = j[name] + [turn, 0.]
    return j


def _background(rng: np.random.Generator, height: int,
                width: int) -> np.ndarray:
    """A smooth colour gradient with random shapes and pixel noise."""
    corners = rng.uniform(0, 255, (2, 2, 3)).astype(np.float32)
    img = cv2.resize(corners, (width, height), interpolation=cv2.INTER_LINEAR)
    for _ in range(rng.integers(4, 12)):
        color = rng.uniform(0, 255, 3).tolist()
        x, y = rng.integers(0, width), rng.integers(0, height)
        size = int(rng.integers(4, max(5, min(height, width) // 4)))
        kind = rng.integers(3)
        if kind == 0:
            cv2.rectangle(img, (x, y), (x + size, y + size // 2), color, -1)
        elif kind == 1:
            cv2.circle(img, (x, y), size // 2, color, -1)
        else:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(img, (x, y), end, color, int(rng.integers(1, 4)))
    return img + rng.normal(0, 6, img.shape).astype(np.float32)


def _draw_figure(img: np.ndarray, labels: np.ndarray, index: int,
                 joints: Dict[str, np.ndarray], torso: float,
                 rng: np.random.Generator) -> None:
    """Draw one figure into ``img`` and mark its pixels in ``labels``."""
    mask = np.zeros(labels.shape, np.uint8)

    def px(name):
        return tuple(np.round(joints[name] * 16).astype(int))

    def width(ratio):
        return max(1, int(round(ratio * torso)))

    def radius(ratio):
        return max(8, int(round(ratio * torso * 16)))

    # drawn with 4 fractional bits (16 sub-pixel steps) for smooth shapes
    shift = dict(shift=4)
    for a, b, ratio in LIMBS:
        cv2.line(mask, px(a), px(b), 1, width(ratio), **shift)
    body = ['left_shoulder', 'right_shoulder', 'right_hip', 'left_hip']
    cv2.fillPoly(mask, [np.array([px(n) for n in body])], 1, **shift)
    head_centre = (joints['left_ear'] + joints['right_ear']) / 2
    cv2.circle(mask, tuple(np.round(head_centre * 16).astype(int)),
               radius(0.24), 1, -1, **shift)
    region = mask.astype(bool)

    base = rng.uniform(30, 225, 3)
    texture = rng.normal(0, rng.uniform(5, 25), (*labels.shape, 3))
    img[region] = np.clip(base + texture[region], 0, 255)
    labels[region] = index
    # a face keeps the figure's front and its left/right readable
    for name, ratio in (('left_eye', 0.05), ('right_eye', 0.05), ('nose',
                                                                  0.04)):
        cv2.circle(img, px(name), radius(ratio), (20, 20, 20), -1, cv2.LINE_AA,
                   **shift)
    for name in ('left_ear', 'right_ear'):
        cv2.circle(img, px(name), radius(0.05), (base * 0.6).tolist(), -1,
                   cv2.LINE_AA, **shift)


def _crowd_index(boxes: np.ndarray, keypoints: np.ndarray) -> float:
    """CrowdPose's crowd index: for each person, the joints of others
    inside its box over its own joints, averaged over the image."""
    if len(boxes) == 0:
        return 0.
    ratios = []
    for i, (x, y, w, h) in enumerate(boxes):
        own = (keypoints[i, :, 2] > 0).sum()
        others = np.delete(keypoints, i, axis=0).reshape(-1, 3)
        inside = ((others[:, 2] > 0) & (others[:, 0] >= x) &
                  (others[:, 0] <= x + w) & (others[:, 1] >= y) &
                  (others[:, 1] <= y + h)).sum()
        ratios.append(inside / max(own, 1))
    return float(np.mean(ratios))


def render_synthetic_image(
    rng: np.random.Generator,
    image_size: Tuple[int, int] = (256, 256),
    num_people: Tuple[int, int] = (1, 4),
    person_height: Tuple[float, float] = (0.25, 0.9)
) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Render one image of several figures.

    Args:
        rng (np.random.Generator): The random generator.
        image_size (Tuple[int, int]): Image ``(width, height)``.
        num_people (Tuple[int, int]): Inclusive range of figures per image.
        person_height (Tuple[float, float]): Range of a figure's height
            (head top to hips plus legs) as a fraction of the image height.

    Returns:
        tuple:
        - img (np.ndarray): The BGR image, uint8, ``(H, W, 3)``.
        - keypoints (np.ndarray): All 19 joints of :data:`JOINTS` with
          COCO visibility flags, ``(N, 19, 3)``.
        - labels (np.ndarray): Per-pixel figure index + 1 (0 background),
          ``(H, W)``.
    """
    width, height = image_size
    img = _background(rng, height, width)
    labels = np.zeros((height, width), np.int32)
    count = int(rng.integers(num_people[0], num_people[1] + 1))
    # a figure is about 3.1 torso lengths tall; far (small) ones first
    heights = np.sort(rng.uniform(*person_height, count)) * height
    people = []
    for index, person_h in enumerate(heights, start=1):
        torso = person_h / 3.1
        joints = _pose(rng)
        angle = np.deg2rad(rng.uniform(-15, 15))
        rot = np.array([[np.cos(angle), -np.sin(angle)],
                        [np.sin(angle), np.cos(angle)]])
        centre = rng.uniform([0.1 * width, 0.15 * height],
                             [0.9 * width, 0.85 * height])
        joints = {
            k: centre + rot @ (v - [0., 0.5]) * torso
            for k, v in joints.items()
        }
        _draw_figure(img, labels, index, joints, torso, rng)
        people.append(np.stack([joints[k] for k in JOINTS]))
    img = np.clip(img, 0, 255).astype(np.uint8)

    keypoints = np.zeros((count, len(JOINTS), 3), np.float32)
    for i, joints in enumerate(people):
        inside = ((joints[:, 0] >= 0) & (joints[:, 0] <= width - 1) &
                  (joints[:, 1] >= 0) & (joints[:, 1] <= height - 1))
        xi = np.clip(np.round(joints[:, 0]).astype(int), 0, width - 1)
        yi = np.clip(np.round(joints[:, 1]).astype(int), 0, height - 1)
        visible = labels[yi, xi] == i + 1
        keypoints[i, :, :2] = joints * inside[:, None]
        keypoints[i, :, 2] = np.where(inside, np.where(visible, 2, 1), 0)
    return img, keypoints, labels


def _annotation(keypoints: np.ndarray, mask: np.ndarray, image_id: int,
                ann_id: int) -> Optional[dict]:
    """A COCO person annotation, or ``None`` for a figure with no labelled
    keypoint or no visible pixel."""
    num_keypoints = int((keypoints[:, 2] > 0).sum())
    area = int(mask.sum())
    if num_keypoints == 0 or area == 0:
        return None
    ys, xs = np.nonzero(mask)
    contours, _ = cv2.findContours(
        mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = [c.reshape(-1).tolist() for c in contours if len(c) >= 3]
    return dict(
        id=ann_id,
        image_id=image_id,
        category_id=1,
        iscrowd=0,
        num_keypoints=num_keypoints,
        keypoints=np.round(keypoints, 2).reshape(-1).tolist(),
        bbox=[
            int(xs.min()),
            int(ys.min()),
            int(xs.max() - xs.min() + 1),
            int(ys.max() - ys.min() + 1)
        ],
        area=area,
        segmentation=polygons)


def generate_synthetic_crowd(out_dir: str,
                             num_images: int = 100,
                             split: str = 'train',
                             dataset: str = 'coco',
                             seed: int = 0,
                             image_size: Sequence[int] = (256, 256),
                             num_people: Sequence[int] = (1, 4),
                             person_height: Sequence[float] = (0.25, 0.9),
                             first_image_id: int = 1) -> str:
    """Write a synthetic multi-person keypoint dataset.

    The layout is the real dataset's under ``out_dir``: COCO's
    ``annotations/person_keypoints_{split}2017.json`` and
    ``{split}2017/*.jpg``, or CrowdPose's
    ``annotations/mmpose_crowdpose_{split}.json`` and ``images/*.jpg``.
    The same arguments always give the same files.

    Args:
        out_dir (str): The dataset root.
        num_images (int): Number of images. Defaults to 100.
        split (str): Split name in the file names. Defaults to ``'train'``.
        dataset (str): ``'coco'`` (17 keypoints) or ``'crowdpose'`` (14
            keypoints and ``crowdIndex``). Defaults to ``'coco'``.
        seed (int): Random seed. Defaults to 0.
        image_size (Sequence[int]): Image ``(width, height)``. Defaults to
            ``(256, 256)``.
        num_people (Sequence[int]): Inclusive range of figures per image.
            Defaults to ``(1, 4)``.
        person_height (Sequence[float]): Range of figure heights over the
            image height. Defaults to ``(0.25, 0.9)``.
        first_image_id (int): Id of the first image, so that splits written
            into one CrowdPose ``images`` folder do not collide. Defaults
            to 1.

    Returns:
        str: Path of the annotation file.
    """
    ann_file, img_dir = dataset_layout(dataset, split)
    if num_images < 1:
        raise ValueError(f'num_images must be >= 1, got {num_images}')
    if not 1 <= num_people[0] <= num_people[1]:
        raise ValueError('num_people must be a range (low, high) with '
                         f'1 <= low <= high, got {tuple(num_people)}')
    if not 0 < person_height[0] <= person_height[1]:
        raise ValueError('person_height must be a range (low, high) with '
                         f'0 < low <= high, got {tuple(person_height)}')
    if min(image_size) < 32:
        raise ValueError(f'image_size must be at least 32 x 32 pixels, got '
                         f'{tuple(image_size)}')
    layout = LAYOUTS[dataset]
    names = layout['keypoints']
    columns = [JOINTS.index(n) for n in names]
    ann_file = osp.join(out_dir, ann_file)
    os.makedirs(osp.join(out_dir, img_dir), exist_ok=True)
    os.makedirs(osp.dirname(ann_file), exist_ok=True)

    rng = np.random.default_rng(seed)
    images: List[dict] = []
    annotations: List[dict] = []
    for image_id in range(first_image_id, first_image_id + num_images):
        img, keypoints, labels = render_synthetic_image(
            rng, tuple(image_size), tuple(num_people), tuple(person_height))
        keypoints = keypoints[:, columns]
        file_name = f'{image_id:012d}.jpg'
        cv2.imwrite(osp.join(out_dir, img_dir, file_name), img)
        info = dict(
            id=image_id,
            file_name=file_name,
            width=img.shape[1],
            height=img.shape[0])
        anns = [
            _annotation(kpts, labels == i + 1, image_id,
                        image_id * 100 + i + 1)
            for i, kpts in enumerate(keypoints)
        ]
        anns = [a for a in anns if a is not None]
        if dataset == 'crowdpose':
            info['crowdIndex'] = round(
                _crowd_index(
                    np.array([a['bbox'] for a in anns]).reshape(-1, 4),
                    np.array([a['keypoints']
                              for a in anns]).reshape(-1, len(names), 3)), 2)
        images.append(info)
        annotations.extend(anns)

    categories = [
        dict(
            id=1,
            name='person',
            supercategory='person',
            keypoints=list(names),
            skeleton=layout['skeleton'])
    ]
    with open(ann_file, 'w') as f:
        json.dump(
            dict(
                images=images, annotations=annotations, categories=categories),
            f)
    return ann_file
