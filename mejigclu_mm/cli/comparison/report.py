"""The comparison's tables, verdicts and picture, from the probes of its finished runs."""
import json
import math
import os.path as osp
from typing import Dict, List, Optional

from mejigclu_mm.cli.comparison.runs import DONE, PROBES
from mejigclu_mm.cli.comparison.spec import slug
from mejigclu_mm.evaluation.backbone_probes import METRICS
from mejigclu_mm.evaluation.paired_statistics import as_dict, compare, verdict
from mejigclu_mm.runtime.atomic_write import atomic_write


def arm_names(record: dict) -> List[str]:
    return list(record['arms']) + ([record['baseline']] if record.get('baseline') else [])


def collect(record: dict, seeds: List[int], work_dir: str) -> dict:
    """Per arm and seed, the probes and the final losses of the runs that finished.

    Returns:
        dict: ``values`` {metric: {arm: [per seed]}} over the seeds every arm finished,
        ``seeds`` (those), ``missing`` (arm, seed) of the others, ``losses`` {arm: [per seed]}.
    """
    found: Dict[str, Dict[int, dict]] = {arm: {} for arm in arm_names(record)}
    losses: Dict[str, Dict[int, dict]] = {arm: {} for arm in record['arms']}
    for seed in seeds:
        for arm in found:
            run_dir = osp.join(work_dir, f'seed{seed}', slug(arm))
            if osp.isfile(osp.join(run_dir, PROBES)):
                with open(osp.join(run_dir, PROBES)) as file:
                    found[arm][seed] = json.load(file)
            if arm in losses and osp.isfile(osp.join(run_dir, DONE)):
                with open(osp.join(run_dir, DONE)) as file:
                    losses[arm][seed] = json.load(file)['final_losses']
    complete = [s for s in seeds if all(s in found[arm] for arm in found)]
    missing = [(arm, s) for s in seeds for arm in found if s not in found[arm]]
    metrics = [m for m in METRICS if complete and all(m in found[arm][s] for arm in found
                                                      for s in complete)]
    values = {m: {arm: [found[arm][s][m] for s in complete] for arm in found} for m in metrics}
    return dict(values=values, seeds=complete, missing=missing,
                losses={arm: [losses[arm].get(s, {}) for s in complete] for arm in losses})


def analyse(record: dict, collected: dict) -> dict:
    """Arm summaries and Holm-corrected contrasts, per metric (each metric its own family)."""
    contrasts = [tuple(c) for c in record['contrasts']]
    out = {}
    for metric, values in collected['values'].items():
        arms, summaries = compare(values, contrasts)
        out[metric] = dict(arms={a: as_dict(s) for a, s in arms.items()},
                           contrasts=[as_dict(s) for s in summaries],
                           verdicts=[verdict(s, f'{METRICS[metric][0]} points')
                                     for s in summaries])
    return out


def _interval(summary: dict) -> str:
    if summary['low'] == summary['high']:
        return f'{summary["mean"]:.2f}'
    return f'{summary["mean"]:.2f} [{summary["low"]:.2f}, {summary["high"]:.2f}]'


def _detectable(value: Optional[float]) -> str:
    return 'none (one seed)' if value is None or not math.isfinite(value) else f'{value:.2f}'


def markdown(record: dict, collected: dict, analysis: dict) -> str:
    """The comparison as Markdown: arms, contrasts with verdicts, losses, what is missing."""
    seeds = collected['seeds']
    lines = [f'Paired seeds {seeds} (K = {len(seeds)}); per arm the mean over the seeds and '
             'its 95 % t-interval, in %.', '']
    metrics = list(analysis)
    lines.append('| arm | ' + ' | '.join(METRICS[m][0] for m in metrics) + ' |')
    lines.append('|---' * (len(metrics) + 1) + '|')
    for arm in arm_names(record):
        cells = [_interval(analysis[m]['arms'][arm]) for m in metrics]
        lines.append(f'| {arm} | ' + ' | '.join(cells) + ' |')
    lines += ['', 'Contrasts: the mean paired difference with its interval at the contrast\'s '
              'Holm level (Holm over the contrasts of each metric, family-wise 5 %), and the '
              'smallest difference these seeds detect with 80 % power.', '',
              '| metric | contrast | difference [interval] | Holm p | resolved | detects >= |',
              '|---|---|---|---|---|---|']
    for metric in metrics:
        for contrast in analysis[metric]['contrasts']:
            lines.append(f'| {METRICS[metric][0]} | {contrast["first"]} - {contrast["second"]} '
                         f'| {contrast["mean"]:+.2f} [{contrast["low"]:+.2f}, '
                         f'{contrast["high"]:+.2f}] | {contrast["p_holm"]:.2g} | '
                         f'{"yes" if contrast["resolved"] else "no"} | '
                         f'{_detectable(contrast["detectable"])} |')
    primary = record.get('primary')
    if primary in analysis:
        lines += ['', f'Verdicts ({METRICS[primary][0]}):', '']
        lines += [f'- {text}' for text in analysis[primary]['verdicts']]
    loss_names = sorted({name for runs in collected['losses'].values() for run in runs
                         for name in run})
    if loss_names:
        lines += ['', 'Final training losses (last logged value) per seed:', '']
        for arm, runs in collected['losses'].items():
            for name in loss_names:
                if any(name in run for run in runs):
                    values = ', '.join('-' if name not in run else f'{run[name]:.3f}'
                                       for run in runs)
                    lines.append(f'- {arm} {name}: {values}')
    if collected['missing']:
        lines += ['', 'Not in the table (no probes yet): ' + ', '.join(
            f'{arm} seed {seed}' for arm, seed in collected['missing'])]
    return '\n'.join(lines) + '\n'


def picture(collected: dict, record: dict, path: str) -> None:
    """One panel per metric: the arms side by side, one line per seed joining its runs."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    metrics = list(collected['values'])
    arms = arm_names(record)
    columns = min(3, max(1, len(metrics)))
    rows = math.ceil(len(metrics) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows),
                                squeeze=False)
    for axis, metric in zip(axes.flat, metrics):
        for index, seed in enumerate(collected['seeds']):
            axis.plot(range(len(arms)), [collected['values'][metric][a][index] for a in arms],
                      marker='o', alpha=0.7, label=f'seed {seed}')
        axis.set_xticks(range(len(arms)), arms, rotation=15)
        axis.set_title(METRICS[metric][0], fontsize=9)
    for axis in list(axes.flat)[len(metrics):]:
        axis.axis('off')
    if metrics:
        axes.flat[0].legend(fontsize=7)
    figure.tight_layout()
    with atomic_write(path, 'wb') as file:
        figure.savefig(file, format='png', dpi=110)
    plt.close(figure)


def write_report(record: dict, seeds: List[int], work_dir: str) -> dict:
    """Collect, analyse and write ``results.md``, ``results.json`` and ``paired_seeds.png``."""
    collected = collect(record, seeds, work_dir)
    if len(collected['seeds']) == 0:
        raise ValueError(f'no seed of {work_dir} has probes of every arm yet')
    analysis = analyse(record, collected)
    text = markdown(record, collected, analysis)
    with atomic_write(osp.join(work_dir, 'results.md')) as file:
        file.write(text)
    with atomic_write(osp.join(work_dir, 'results.json')) as file:
        json.dump(dict(seeds=collected['seeds'], values=collected['values'],
                       missing=collected['missing'], losses=collected['losses'],
                       analysis=analysis), file, indent=1)
    picture(collected, record, osp.join(work_dir, 'paired_seeds.png'))
    return dict(collected=collected, analysis=analysis, markdown=text)
