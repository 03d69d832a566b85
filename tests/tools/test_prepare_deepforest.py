"""tools/data/prepare_deepforest.py: the tree-crown tiles are made whole, kept when made alike,
and a folder made otherwise is refused by name instead of being mixed with new tiles."""
import json

import pytest


def test_made_once_kept_and_a_folder_made_otherwise_is_refused(tmp_path, capsys):
    import prepare_deepforest
    out = tmp_path / 'deepforest'
    prepare_deepforest.main(['--out', str(out)])
    assert 'made' in capsys.readouterr().out
    meta = json.loads((out / 'meta.json').read_text())
    assert meta['settings']['tile'] == 400
    train = json.loads((out / 'annotations' / 'train.json').read_text())
    assert len(train['images']) == meta['counts']['train'][0] > 1
    assert len(list((out / 'images').iterdir())) == sum(c[0] for c in meta['counts'].values())
    assert [p.name for p in tmp_path.iterdir()] == ['deepforest']  # no temporary folder left
    before = (out / 'annotations' / 'train.json').stat().st_mtime_ns
    prepare_deepforest.main(['--out', str(out)])
    assert 'already there, kept' in capsys.readouterr().out
    assert (out / 'annotations' / 'train.json').stat().st_mtime_ns == before
    with pytest.raises(SystemExit, match=r'holds tiles made otherwise: tile 400 there, 200 asked'):
        prepare_deepforest.main(['--out', str(out), '--tile', '200'])
    assert json.loads((out / 'meta.json').read_text()) == meta


def test_a_folder_of_something_else_is_refused_and_kept(tmp_path):
    import prepare_deepforest
    out = tmp_path / 'mine'
    out.mkdir()
    (out / 'notes.txt').write_text('my notes')
    with pytest.raises(SystemExit, match=r'mine exists and holds something else \(no meta.json\)'):
        prepare_deepforest.main(['--out', str(out)])
    assert [p.name for p in out.iterdir()] == ['notes.txt']
    assert sorted(p.name for p in tmp_path.iterdir()) == ['mine']
