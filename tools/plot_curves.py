"""Write a PNG of the training loss curves of each work dir.

Usage:
    python tools/plot_curves.py WORK_DIR [WORK_DIR ...] [--out-dir DIR]

One file per run, DIR/<run>_losses.png (default DIR: each work dir itself), with every logged
``loss*`` scalar against the iteration, one panel each; for runs that logged metrics, a second file
DIR/<run>_knn.png with the ``knn/*`` scalars of ``KNNMonitorHook`` and any ``accuracy/*``
validation metrics against their step (the epoch in epoch-based runs).
"""
import argparse
import os
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

from mejigclu_mm.cli.run_logs import loss_series, scalar_series  # noqa: E402

METRIC_PREFIXES = ('knn/', 'accuracy/')


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
    fig.savefig(out_path, dpi=100)
    plt.close(fig)
    return keys


def plot_losses(work_dir, out_path):
    """Plot the loss curves of one run into ``out_path``; returns the plotted keys."""
    series = loss_series(work_dir)
    if not series:
        raise SystemExit(f'plot_curves: no loss scalars in {work_dir}')
    return save_plot(series, osp.basename(osp.normpath(work_dir)), 'iteration', 'loss',
                     out_path)


def plot_metrics(work_dir, out_path):
    """Plot the ``knn/*`` and ``accuracy/*`` scalars of one run into ``out_path``.

    Returns:
        list[str]: The plotted keys; empty (and no file written) when the run logged none.
    """
    series = {}
    for prefix in METRIC_PREFIXES:
        series.update(scalar_series(work_dir, prefix))
    if not series:
        return []
    return save_plot(series, osp.basename(osp.normpath(work_dir)),
                     'step (epoch in epoch-based runs)', 'accuracy (%)', out_path, marker='o')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+')
    parser.add_argument('--out-dir', help='folder for the PNGs (default: each work dir)')
    args = parser.parse_args(argv)
    paths = []
    for work_dir in args.work_dirs:
        out_dir = args.out_dir or work_dir
        os.makedirs(out_dir, exist_ok=True)
        path = osp.join(out_dir, f'{osp.basename(osp.normpath(work_dir))}_losses.png')
        keys = plot_losses(work_dir, path)
        print(f'wrote {path} ({", ".join(keys)})')
        paths.append(path)
        path = osp.join(out_dir, f'{osp.basename(osp.normpath(work_dir))}_knn.png')
        keys = plot_metrics(work_dir, path)
        if keys:
            print(f'wrote {path} ({", ".join(keys)})')
            paths.append(path)
    return paths


if __name__ == '__main__':
    main()
