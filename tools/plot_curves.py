"""Write a PNG of the training loss curves of each work dir.

Usage:
    python tools/plot_curves.py WORK_DIR [WORK_DIR ...] [--out-dir DIR]

One file per run, DIR/<run>_losses.png (default DIR: each work dir itself), with every logged
``loss*`` scalar against the iteration, one panel each; for runs that logged metrics, a second file
DIR/<run>_knn.png with the ``knn/*`` scalars of ``KNNMonitorHook`` and any ``accuracy/*``
validation metrics against their step (the epoch in epoch-based runs). Every PNG is checked
before any is drawn and written atomically with this tool's mark: an existing file is replaced
only when this tool wrote it (``mejigclu_mm.runtime.output_guard``).
"""
import argparse
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mejigclu_mm.cli.run_logs import loss_series, scalar_series  # noqa: E402
from mejigclu_mm.runtime.output_guard import check_output, save_figure  # noqa: E402

METRIC_PREFIXES = ('knn/', 'accuracy/')
TOOL = 'tools/plot_curves.py'


def save_plot(series, title, xlabel, ylabel, out_path, **style):
    """One panel per ``key -> (steps, values)`` of ``series``, stacked, x shared: each curve on
    its own scale, so a loss of 4 beside one of 20 still shows its trend."""
    keys = sorted(series)
    fig, axes = plt.subplots(len(keys), 1, figsize=(6, 1.6 + 1.4 * len(keys)), sharex=True,
                             squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        steps, values = series[key]
        ax.plot(steps, values, **style)
        ax.set_ylabel(key, fontsize=8)
        ax.grid(alpha=0.3)
    axes[0, 0].set_title(f'{title} ({ylabel})')
    axes[-1, 0].set_xlabel(xlabel)
    fig.tight_layout()
    save_figure(fig, out_path, TOOL, dpi=100)
    plt.close(fig)
    return keys


def losses_of(work_dir):
    """The loss series of one run; refused when it logged none."""
    series = loss_series(work_dir)
    if not series:
        raise SystemExit(f'plot_curves: no loss scalars in {work_dir}')
    return series


def metrics_of(work_dir):
    """The ``knn/*`` and ``accuracy/*`` series of one run (empty when it logged none)."""
    series = {}
    for prefix in METRIC_PREFIXES:
        series.update(scalar_series(work_dir, prefix))
    return series


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out-dir', help='folder for the PNGs (default: each work dir)')
    args = parser.parse_args(argv)
    plots = []  # (path, series, title, xlabel, ylabel, style), all checked before any is drawn
    for work_dir in args.work_dirs:
        name = osp.basename(osp.normpath(work_dir))
        out_dir = args.out_dir or work_dir
        plots.append((osp.join(out_dir, f'{name}_losses.png'), losses_of(work_dir), name,
                      'iteration', 'loss', {}))
        metrics = metrics_of(work_dir)
        if metrics:
            plots.append((osp.join(out_dir, f'{name}_knn.png'), metrics, name,
                          'step (epoch in epoch-based runs)', 'accuracy (%)', dict(marker='o')))
    for path, *_ in plots:
        check_output(path, TOOL, ('.png', ), option='--out-dir')
    paths = []
    for path, series, title, xlabel, ylabel, style in plots:
        os.makedirs(osp.dirname(path) or '.', exist_ok=True)
        keys = save_plot(series, title, xlabel, ylabel, path, **style)
        print(f'wrote {path} ({", ".join(keys)})')
        paths.append(path)
    return paths


if __name__ == '__main__':
    main()
