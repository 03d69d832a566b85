"""One output guard for the tools (issue 27.4): only over the tool's own marked output."""
import pickle
from collections import OrderedDict

import numpy as np
import pytest

from mejigclu_mm.runtime.output_guard import check_output, write_output, written_by

SUFFIXES = ('.json', '.yaml', '.pkl', '.md')


@pytest.mark.parametrize('name, value', [('m.json', {'a': 1.5}), ('m.yaml', {'a': 1.5}),
                                         ('m.pkl', {'a': np.float64(1.5)}), ('t.md', '| a |\n')])
def test_a_tool_replaces_its_own_output_and_nothing_else(tmp_path, name, value):
    path = str(tmp_path / name)
    check_output(path, 'tools/a.py', SUFFIXES)  # nothing there yet
    write_output(path, value, 'tools/a.py')
    assert written_by(path) == 'tools/a.py'
    check_output(path, 'tools/a.py', SUFFIXES)  # its own: may be replaced
    with pytest.raises(SystemExit, match=f'{path} exists and was written by tools/a.py'):
        check_output(path, 'tools/b.py', SUFFIXES)
    assert not list(tmp_path.glob('.*.tmp'))


def test_a_pickle_of_classes_is_not_taken_for_an_output_and_runs_nothing(tmp_path):
    path = tmp_path / 'model_final.pkl'
    path.write_bytes(pickle.dumps(OrderedDict(written_by='tools/a.py')))  # needs a class
    assert written_by(str(path)) is None
    with pytest.raises(SystemExit, match='was not written by tools/a.py'):
        check_output(str(path), 'tools/a.py', SUFFIXES)


def test_suffix_folder_and_input_are_refused(tmp_path):
    with pytest.raises(SystemExit, match=r'x.pth: writes .json / .yaml / .pkl / .md files'):
        check_output(str(tmp_path / 'x.pth'), 'tools/a.py', SUFFIXES)
    (tmp_path / 'd.json').mkdir()
    with pytest.raises(SystemExit, match='is a folder'):
        check_output(str(tmp_path / 'd.json'), 'tools/a.py', SUFFIXES)
    source = tmp_path / 'in.json'
    source.write_text('{}')
    with pytest.raises(SystemExit, match='is an input of this tool'):
        check_output(str(source), 'tools/a.py', SUFFIXES, inputs=[None, str(source)])
    (tmp_path / 'empty.md').write_text('')
    check_output(str(tmp_path / 'empty.md'), 'tools/a.py', SUFFIXES)  # an empty file is free


def test_a_figure_carries_the_mark_of_its_tool(tmp_path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from PIL import Image

    from mejigclu_mm.runtime.output_guard import save_figure
    path = str(tmp_path / 'plot.png')
    fig = plt.figure(figsize=(1, 1))
    save_figure(fig, path, 'tools/a.py', dpi=20)
    plt.close(fig)
    with Image.open(path) as image:
        assert image.format == 'PNG' and image.text['written_by'] == 'tools/a.py'
    assert written_by(path) == 'tools/a.py'
    check_output(path, 'tools/a.py', ('.png', ))
    with pytest.raises(SystemExit, match='exists and was written by tools/a.py'):
        check_output(path, 'tools/b.py', ('.png', ))
    photo = tmp_path / 'photo.png'  # a PNG without a mark, and a file that only has the name
    Image.new('RGB', (2, 2)).save(photo)
    (tmp_path / 'text.png').write_text('not a picture')
    for other in (photo, tmp_path / 'text.png'):
        assert written_by(str(other)) is None
        with pytest.raises(SystemExit, match='was not written by tools/a.py'):
            check_output(str(other), 'tools/a.py', ('.png', ))
    assert not list(tmp_path.glob('.*.tmp'))


def test_force_replaces_a_file_without_a_mark_but_never_an_input(tmp_path):
    weights = tmp_path / 'r50.pth'
    weights.write_bytes(b'an older conversion')
    with pytest.raises(SystemExit, match='pass --force to replace it, or give another DST path'):
        check_output(str(weights), 'tools/c.py', ('.pth', ), option='DST', force=False)
    check_output(str(weights), 'tools/c.py', ('.pth', ), option='DST', force=True)
    with pytest.raises(SystemExit, match=r'is an input of this tool .*--force does not change'):
        check_output(str(weights), 'tools/c.py', ('.pth', ), inputs=[str(weights)],
                     option='DST', force=True)
    with pytest.raises(SystemExit, match=r'writes .pkl files, not .pth'):
        check_output(str(weights), 'tools/c.py', ('.pkl', ), option='DST', force=True)
