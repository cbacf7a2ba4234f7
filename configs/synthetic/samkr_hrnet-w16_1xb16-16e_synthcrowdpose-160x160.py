# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# The synthetic COCO config on synthetic CrowdPose-format crowds: 14
# keypoints, CrowdPose metadata and the `keypoints_crowd` metric with
# AP(E)/AP(M)/AP(H).
_base_ = ['./samkr_hrnet-w16_1xb16-16e_synthcoco-160x160.py']

dataset_type = 'CrowdPoseDataset'
data_root = 'data/synthetic_crowdpose/'
# MMPose's DEKR CrowdPose configs weight the displacements twice as much
model = dict(
    head=dict(num_keypoints=14, displacement_loss=dict(loss_weight=0.004)))
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mmpose_crowdpose_trainval.json',
        data_prefix=dict(img='images/')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/mmpose_crowdpose_test.json',
        data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(
    iou_type='keypoints_crowd',
    prefix='crowdpose',
    use_area=False,
    ann_file=data_root + 'annotations/mmpose_crowdpose_test.json')
test_evaluator = val_evaluator
default_hooks = dict(checkpoint=dict(save_best='crowdpose/AP'))
