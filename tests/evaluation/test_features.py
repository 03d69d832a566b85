"""Feature pooling and the distributed gather in dataset order."""
import pytest
import torch

import mejigclu_mm.evaluation.features as features
from mejigclu_mm.evaluation import gather_in_dataset_order, pool_features


def test_pools_the_last_output_and_normalises():
    maps = torch.randn(3, 5, 4, 2)
    pooled = pool_features((torch.randn(3, 2, 8, 8), maps))
    expected = maps.mean((2, 3))
    torch.testing.assert_close(pooled, expected / expected.norm(dim=1, keepdim=True))
    torch.testing.assert_close(pool_features(torch.tensor([[3., 4.]])), torch.tensor([[.6, .8]]))
    with pytest.raises(ValueError, match=r'got shape \(3, 5, 4\)'):
        pool_features(torch.randn(3, 5, 4))


@pytest.mark.parametrize('num_samples', [10, 9, 2])
def test_gather_restores_the_order_of_mmengines_default_sampler(monkeypatch, num_samples):
    """Three simulated ranks, each holding the dataset indices its real DefaultSampler gives."""
    import mmengine.dataset.sampler as sampler_module
    from mmengine.dataset import DefaultSampler
    world = 3
    shards = []
    for rank in range(world):
        monkeypatch.setattr(sampler_module, 'get_dist_info', lambda r=rank: (r, world))
        indices = list(DefaultSampler(list(range(num_samples)), shuffle=False))
        shards.append(torch.tensor(indices)[:, None].repeat(1, 2))  # rows: (index, index)
    assert len({len(s) for s in shards}) == 1  # padded to equal length
    monkeypatch.setattr(features, 'get_world_size', lambda: world)
    monkeypatch.setattr(features, 'all_gather', lambda local: shards)
    gathered = gather_in_dataset_order(shards[0], num_samples)
    torch.testing.assert_close(gathered, torch.arange(num_samples)[:, None].repeat(1, 2))


def test_gather_without_distribution_is_the_identity():
    local = torch.randn(7, 4)
    torch.testing.assert_close(gather_in_dataset_order(local, 7), local)


def labelled_loader(count=12, batch_size=5):
    """Labelled (C=3, 4 x 4) samples in a DataLoader, as mmpretrain datasets give them."""
    from mmengine.dataset import default_collate
    from torch.utils.data import DataLoader, Dataset

    from mmpretrain.structures import DataSample

    class Samples(Dataset):
        test_mode = True

        def __len__(self):
            return count

        def __getitem__(self, i):
            return dict(inputs=torch.full((3, 4, 4), float(i + 1)),
                        data_samples=DataSample().set_gt_label(i % 2))

    return DataLoader(Samples(), batch_size=batch_size, collate_fn=default_collate)


def preprocess(data, training):
    return dict(inputs=data['inputs'], data_samples=data['data_samples'])


@pytest.mark.parametrize('progress', [True, False, None])
def test_extraction_shows_its_progress_when_asked(progress, capsys):
    """True: a bar on stderr with the images done; False: none; None (default): only on a
    terminal, and pytest's captured stderr is none."""
    feats, labels = features.extract_features(preprocess, lambda x: x, labelled_loader(),
                                              progress=progress)
    assert feats.shape == (12, 3) and labels.tolist() == [i % 2 for i in range(12)]
    err = capsys.readouterr().err
    if progress:
        assert 'features of Samples test' in err and '12/12' in err
    else:
        assert err == ''


def test_unnormalised_pooling_keeps_the_scale():
    maps = torch.randn(2, 5, 3, 3)
    torch.testing.assert_close(pool_features(maps, normalize=False), maps.mean((2, 3)))
