"""tools/plot_curves.py: loss curves, and kNN / accuracy curves when a run logged them."""
import json

from PIL import Image

from mejigclu_mm.cli.run_logs import scalar_series


def write_run(work_dir, records):
    vis = work_dir / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_draws_knn_curves_next_to_the_losses(tmp_path):
    import plot_curves
    run = tmp_path / 'pretrain'
    write_run(run, [
        {'loss': 4.0, 'lr': 0.1, 'iter': 1, 'step': 1},
        {'loss': 3.0, 'lr': 0.1, 'iter': 2, 'step': 2},
        {'knn/top1_k20': 31.5, 'knn/top1_k200': 30.0, 'step': 1},
        {'loss': 2.5, 'lr': 0.1, 'iter': 3, 'step': 3},
        {'knn/top1_k20': 42.0, 'knn/top1_k200': 40.5, 'step': 2},
    ])
    assert scalar_series(str(run), 'knn/') == {'knn/top1_k20': ([1, 2], [31.5, 42.0]),
                                               'knn/top1_k200': ([1, 2], [30.0, 40.5])}
    out = tmp_path / 'curves'
    paths = plot_curves.main([str(run), '--out-dir', str(out)])
    assert paths == [str(out / 'pretrain_losses.png'), str(out / 'pretrain_knn.png')]
    sizes = [Image.open(path).size for path in paths]
    # one panel per curve: 1 loss, 2 kNN curves
    assert sizes[0][0] == sizes[1][0] == 600 and sizes[1][1] > sizes[0][1]


def test_no_metric_png_without_metrics(tmp_path):
    import plot_curves
    run = tmp_path / 'plain'
    write_run(run, [{'loss': 1.0, 'iter': 1, 'step': 1}])
    assert plot_curves.main([str(run)]) == [str(run / 'plain_losses.png')]
    assert not (run / 'plain_knn.png').exists()


def test_a_picture_not_written_by_the_tool_is_kept_and_nothing_is_drawn(tmp_path):
    import plot_curves
    import pytest
    first, second = tmp_path / 'first', tmp_path / 'second'
    write_run(first, [{'loss': 1.0, 'iter': 1, 'step': 1}])
    write_run(second, [{'loss': 2.0, 'iter': 1, 'step': 1}])
    out = tmp_path / 'curves'
    out.mkdir()
    mine = out / 'second_losses.png'  # the user's own picture under the tool's file name
    Image.new('RGB', (4, 4)).save(mine)
    before = mine.read_bytes()
    with pytest.raises(SystemExit, match='second_losses.png exists and was not written by '
                                         'tools/plot_curves.py'):
        plot_curves.main([str(first), str(second), '--out-dir', str(out)])
    assert mine.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ['second_losses.png']  # not even the first
    mine.unlink()
    paths = plot_curves.main([str(first), str(second), '--out-dir', str(out)])
    inode = (out / 'first_losses.png').stat().st_ino
    assert plot_curves.main([str(first), str(second), '--out-dir', str(out)]) == paths
    assert (out / 'first_losses.png').stat().st_ino != inode  # its own pictures: replaced
