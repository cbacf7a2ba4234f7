# Copyright (c) SAMKR-MMPose Authors. All rights reserved.
# The paper's COCO W32 config (SWAHR loss, heatmap matching, DEKR's
# augmentation) sized for a 2-core CPU and the project's synthetic crowds:
# a width-16 HRNet with one block per branch, 160x160 inputs, 16 epochs at
# twice the paper's learning rate.
# `make demo` (tools/run_demo.py) writes the dataset and runs it.
_base_ = ['../samkr/samkr_hrnet-w32_8xb10-140e_coco-512x512.py']

input_size = (160, 160)
train_cfg = dict(max_epochs=16, val_interval=8)
optim_wrapper = dict(optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(type='LinearLR', begin=0, end=50, start_factor=0.01, by_epoch=False),
    dict(type='MultiStepLR', begin=0, end=16, milestones=[14], gamma=0.1)
]
auto_scale_lr = dict(base_batch_size=16)
default_hooks = dict(
    logger=dict(interval=10), checkpoint=dict(interval=8, max_keep_ckpts=1))
# losses averaged over the logging interval, with digits for the small
# scale loss
log_processor = dict(window_size=10, num_digits=8)

codec = dict(
    type='SPR',
    input_size=input_size,
    heatmap_size=(40, 40),
    sigma=(2, 1),
    minimal_diagonal_length=8**0.5,
    generate_keypoint_heatmaps=True,
    decode_max_instances=10)

model = dict(
    backbone=dict(
        extra=dict(
            stage1=dict(num_blocks=(1, ), num_channels=(32, )),
            stage2=dict(num_blocks=(1, 1), num_channels=(16, 32)),
            stage3=dict(
                num_modules=1, num_blocks=(1, 1, 1),
                num_channels=(16, 32, 64)),
            stage4=dict(
                num_modules=1,
                num_blocks=(1, 1, 1, 1),
                num_channels=(16, 32, 64, 128))),
        init_cfg=None),
    head=dict(
        in_channels=240,
        decoder=codec,
        # DEKR's rescore net is trained on COCO's poses
        rescore_cfg=None),
    # the paper's 75 px at 512x512, scaled to the input
    test_cfg=dict(max_absorb_distance=24))

data_root = 'data/synthetic_coco/'
# the parent's pipelines at the input size
train_pipeline = [
    *_base_.train_pipeline[:1],
    dict(_base_.train_pipeline[1], input_size=input_size),
    *_base_.train_pipeline[2:3],
    dict(type='GenerateTarget', encoder=codec),
    *_base_.train_pipeline[4:],
]
val_pipeline = [
    *_base_.val_pipeline[:1],
    dict(_base_.val_pipeline[1], input_size=input_size),
    *_base_.val_pipeline[2:],
]
train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=val_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root +
                     'annotations/person_keypoints_val2017.json')
test_evaluator = val_evaluator
