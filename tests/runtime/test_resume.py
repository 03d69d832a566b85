"""What --resume continues from (moved, copied and empty work dirs) and which checkpoints it
refuses before anything loads."""
import shutil

import pytest
import torch
from log_capture import captured_log
from torch import nn

from mejigclu_mm.runtime.resume import (ResumeError, check_resume_fits, find_resume_checkpoint,
                                        read_training_checkpoint, resume_mismatches,
                                        training_checkpoints)


def fake_checkpoints(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b'checkpoint')


def test_training_checkpoints_are_ordered_by_number(tmp_path):
    fake_checkpoints(tmp_path, ['epoch_10.pth', 'epoch_9.pth', 'epoch_2.pth', 'best_acc.pth',
                                'epoch_3.pth.tmp', 'notes.txt'])
    assert [p.rsplit('/', 1)[1] for p in training_checkpoints(str(tmp_path))] == [
        'epoch_2.pth', 'epoch_9.pth', 'epoch_10.pth']
    assert training_checkpoints(str(tmp_path / 'missing')) == []


def test_last_checkpoint_names_the_checkpoint(tmp_path):
    fake_checkpoints(tmp_path, ['epoch_1.pth', 'epoch_2.pth'])
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')


def test_a_moved_work_dir_resumes_from_its_own_files(tmp_path):
    old, new = tmp_path / 'old', tmp_path / 'new'
    fake_checkpoints(old, ['epoch_1.pth', 'epoch_2.pth'])
    (old / 'last_checkpoint').write_text(str(old / 'epoch_1.pth'))
    shutil.move(old, new)
    with captured_log() as messages:
        assert find_resume_checkpoint(str(new)) == str(new / 'epoch_1.pth')
    assert f'names {old / "epoch_1.pth"}, which does not exist; resuming from the file of ' \
           f'that name in the work dir, {new / "epoch_1.pth"}' in '\n'.join(messages)


def test_a_copied_work_dir_resumes_from_its_copy(tmp_path):
    old, new = tmp_path / 'old', tmp_path / 'new'
    fake_checkpoints(old, ['epoch_1.pth'])
    (old / 'last_checkpoint').write_text(str(old / 'epoch_1.pth'))
    shutil.copytree(old, new)
    assert find_resume_checkpoint(str(new)) == str(new / 'epoch_1.pth')


@pytest.mark.parametrize('record', ['', '   \n', None, '/gone/epoch_7.pth'])
def test_without_a_usable_record_the_newest_checkpoint_is_taken(tmp_path, record):
    fake_checkpoints(tmp_path, ['epoch_2.pth', 'epoch_10.pth'])
    if record is not None:
        (tmp_path / 'last_checkpoint').write_text(record)
    with captured_log() as messages:
        assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_10.pth')
    assert f'resuming from the newest checkpoint in the work dir, {tmp_path / "epoch_10.pth"}' \
        in '\n'.join(messages)


@pytest.mark.parametrize('record', [None, '', '/gone/epoch_7.pth'])
def test_nothing_to_resume_is_refused_naming_the_work_dir(tmp_path, record):
    if record is not None:
        (tmp_path / 'last_checkpoint').write_text(record)
    with pytest.raises(ResumeError, match=f'nothing to resume in work dir {tmp_path}'):
        find_resume_checkpoint(str(tmp_path))


def small_model(width=4, classes=3):
    return nn.Sequential(nn.Linear(2, width), nn.BatchNorm1d(width), nn.Linear(width, classes))


def save(path, model, **meta):
    torch.save(dict(meta=dict(dict(epoch=1, iter=7, seed=123), **meta),
                    state_dict=model.state_dict()), path)
    return str(path)


def test_a_checkpoint_of_the_same_model_and_batch_fits(tmp_path):
    path = save(tmp_path / 'epoch_1.pth', small_model(), global_batch=8, world_size=1)
    summary = read_training_checkpoint(path)
    assert (summary['epoch'], summary['iter'], summary['seed']) == (1, 7, 123)
    assert summary['global_batch'] == 8
    assert resume_mismatches(summary, small_model(), 8, 2) == []  # 2 x 4 images: same batch
    check_resume_fits(summary, small_model(), 8, 2)


def test_another_model_size_or_batch_is_refused_with_every_difference(tmp_path):
    path = save(tmp_path / 'epoch_1.pth', small_model(classes=8), global_batch=8, world_size=1)
    summary = read_training_checkpoint(path)
    with pytest.raises(ResumeError) as error:
        check_resume_fits(summary, small_model(classes=16), 16, 1)
    message = str(error.value)
    assert f'checkpoint {path} (epoch 1, iteration 7) does not fit this run' in message
    assert 'global batch: 8 images per step when it was saved (1 process(es)), 16 now' in message
    assert '2 tensor(s) of another shape: 2.weight (checkpoint (8, 4), model (16, 4)), ' \
           '2.bias (checkpoint (8,), model (16,))' in message
    assert f'model.backbone.init_cfg.checkpoint={path}' in message


def test_missing_and_unexpected_tensors_are_listed(tmp_path):
    other = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4))
    summary = read_training_checkpoint(save(tmp_path / 'epoch_1.pth', other))
    problems = resume_mismatches(summary, small_model(), None, 1)
    assert problems == ["2 of the model's tensors missing from the checkpoint: 2.weight, 2.bias"]
    summary = read_training_checkpoint(save(tmp_path / 'epoch_2.pth', small_model()))
    assert resume_mismatches(summary, other, None, 1) == [
        '2 tensor(s) the model does not have: 2.weight, 2.bias']


def test_ddp_prefixes_are_ignored_as_mmengine_ignores_them(tmp_path):
    model = small_model()
    state = {f'module.{k}': v for k, v in model.state_dict().items()}
    torch.save(dict(meta=dict(epoch=1, iter=1), state_dict=state), tmp_path / 'ddp.pth')
    summary = read_training_checkpoint(str(tmp_path / 'ddp.pth'))
    assert resume_mismatches(summary, model, 8, 1) == []


@pytest.mark.parametrize('content', [
    dict(state_dict=dict(weight=torch.zeros(2))),  # a converted backbone: no meta
    dict(meta=dict(epoch=3), state_dict=dict(weight=torch.zeros(2))),  # no iteration
    dict(weight=torch.zeros(2)),  # a bare state dict
])
def test_weights_that_are_no_training_checkpoint_point_at_init_cfg(tmp_path, content):
    torch.save(content, tmp_path / 'r18_mmdet.pth')
    path = str(tmp_path / 'r18_mmdet.pth')
    with pytest.raises(ResumeError, match=f'{path} is not a checkpoint of a training run.*'
                       f'model.backbone.init_cfg.checkpoint={path}'):
        read_training_checkpoint(path)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(ResumeError, match='missing.pth does not exist'):
        read_training_checkpoint(str(tmp_path / 'missing.pth'))
