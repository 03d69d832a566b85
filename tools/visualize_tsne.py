"""A t-SNE picture of a backbone's features: points coloured by class for labelled data.

Usage:
    python tools/visualize_tsne.py CONFIG CHECKPOINT --out tsne.png [--num-points 2000]
        [--split query|bank] [--perplexity 30] [--features FILE.pth] [--seed 0]
        [--prefix P] [--batch-size N] [--num-workers N] [--device DEV]
        [--cfg-options key=value ...]
    python tools/visualize_tsne.py FEATURES.npz|FEATURES.csv --out tsne.png [--num-points N]

With a labelled classification config (e.g. configs/mejigclu/benchmarks/*.py), CONFIG, CHECKPOINT and
``--features`` mean exactly what they mean for tools/knn_eval.py and tools/linear_probe.py:
the query (validation) set's features by default, and a cache written by either tool for the
same config, options and checkpoint is reused instead of extracting again. With an output of
tools/extract_features.py instead of a config, its features are drawn in one colour (no
labels). ``--num-points`` images are drawn at random (seeded), t-SNE (scikit-learn, PCA
initialisation, seeded) maps them to 2-D, and the PNG is written atomically with this tool's
mark; an existing file at ``--out`` is replaced only when it carries that mark (an earlier
picture of this tool), never another PNG or an input (``mejigclu_mm.runtime.output_guard``).
"""
import argparse
import os.path as osp
import time

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

EXTRACTED = ('.npz', '.csv')
TOOL = 'tools/visualize_tsne.py'


def parse_args(argv=None):
    from mejigclu_mm.cli.frozen_features import add_common_arguments

    # CONFIG may also be a .npz / .csv of tools/extract_features.py (see the usage above);
    # --out is the PNG here, not the JSON of the kNN / probe tools.
    parser = argparse.ArgumentParser(description=__doc__, conflict_handler='resolve',
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(parser)
    parser.add_argument('--out', required=True, help='the PNG to write')
    parser.add_argument('--num-points', type=int, default=2000,
                        help='images drawn at random (seeded) from the set (default: 2000)')
    parser.add_argument('--split', choices=['query', 'bank'],
                        help='labelled configs: the query (validation) set or the bank '
                        '(training) set (default: query)')
    parser.add_argument('--perplexity', type=float, default=30.,
                        help="t-SNE's perplexity, lowered to (points - 1) / 3 for few points")
    args = parser.parse_args(argv)
    if args.num_points < 2:
        parser.error('--num-points must be >= 2')
    if not args.perplexity > 0:
        parser.error(f'--perplexity must be > 0, got {args.perplexity}')
    if osp.splitext(args.config)[1].lower() in EXTRACTED:
        given = [name for name, value in (('CHECKPOINT', args.checkpoint),
                                          ('--random-init', args.random_init),
                                          ('--features', args.features),
                                          ('--split', args.split),
                                          ('--batch-size', args.batch_size),
                                          ('--num-workers', args.num_workers),
                                          ('--prefix', args.prefix != 'auto'),
                                          ('--cfg-options', args.cfg_options)) if value]
        if given:  # nothing the user asks for is ignored
            parser.error(f'{args.config} holds extracted features: {", ".join(given)} would '
                         'not be used; give them with a CONFIG instead')
    args.split = args.split or 'query'
    return args


def check_destination(out: str, inputs) -> None:
    """Refuse an ``--out`` that is not a .png, is an input, or exists without this tool's mark
    (:func:`mejigclu_mm.runtime.output_guard.check_output`)."""
    from mejigclu_mm.runtime.output_guard import check_output
    check_output(out, TOOL, ('.png', ), inputs=inputs)


def class_names(config: str, num_classes: int, split: str):
    """The class names of the config's dataset (its class's METAINFO), or None."""
    from mmengine.config import Config

    from mmpretrain.registry import DATASETS
    cfg = Config.fromfile(config)
    loader = cfg.get('train_dataloader') if split == 'bank' else (
        cfg.get('val_dataloader') or cfg.get('test_dataloader'))
    dataset = (loader or {}).get('dataset') or {}
    while 'type' in dataset and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']
    try:
        names = getattr(DATASETS.get(dataset.get('type')), 'METAINFO', {}).get('classes')
    except (KeyError, TypeError):
        names = None
    return list(names) if names and len(names) == num_classes else None


def labelled_features(args):
    """(features, labels, class names, title) of a classification config's set."""
    import mejigclu_mm  # noqa: F401  (registrations)
    from mejigclu_mm.cli.frozen_features import features_from_args
    feats = features_from_args(args)
    key = 'query' if args.split == 'query' else 'bank'
    features = feats[key].float().cpu().numpy()
    labels = feats[f'{key}_labels'].cpu().numpy()
    names = class_names(args.config, int(feats['num_classes']), args.split)
    checkpoint = str(feats['checkpoint'])
    source = 'random init' if checkpoint.lower() == 'none' else osp.basename(checkpoint)
    title = f'{args.split} images\n{osp.basename(args.config)}, {source}'
    return features, labels, names, title


def extracted_features(path: str):
    """(features, None, None, title) of a tools/extract_features.py output."""
    from mejigclu_mm.evaluation.feature_files import load_features
    if not osp.isfile(path):
        raise SystemExit(f'{path} does not exist or is not a file')
    try:
        _, features, info = load_features(path)
    except ValueError as error:
        raise SystemExit(str(error)) from None
    bad = int((~np.isfinite(features)).any(1).sum()) if features.size else 0
    if bad:
        raise SystemExit(f'{path}: {bad} of {len(features)} features hold NaN or Inf values; '
                         't-SNE cannot place them (a diverged backbone writes such features: '
                         'extract them again from an earlier checkpoint)')
    source = ', '.join(osp.basename(str(info[k])) for k in ('config', 'checkpoint') if k in info)
    return features, None, None, f'images\n{osp.basename(path)} ({source})'


def check_spread(features: np.ndarray, source: str) -> None:
    """SystemExit when all ``features`` are the same vector: t-SNE has nothing to spread, and
    scikit-learn's PCA start divides by their zero spread and ends in a segmentation fault."""
    if len(features) and np.all(features == features[:1]):
        raise SystemExit(f'{source}: all {len(features)} features drawn are the same vector, so '
                         'there is nothing to picture (a collapsed backbone, or copies of one '
                         'image); nothing written')


def embed(features: np.ndarray, perplexity: float, seed: int) -> tuple:
    """2-D t-SNE coordinates (scikit-learn) and the perplexity used."""
    from sklearn.manifold import TSNE
    perplexity = min(perplexity, (len(features) - 1) / 3)
    tsne = TSNE(n_components=2, perplexity=perplexity, init='pca', learning_rate='auto',
                random_state=seed)
    return tsne.fit_transform(np.asarray(features, dtype=np.float32)), perplexity


def draw(coords: np.ndarray, labels, names, title: str):
    """The scatter plot: one colour per class (a legend with the names), or one colour."""
    fig, ax = plt.subplots(figsize=(7.5, 6), dpi=120)
    size = max(3., min(20., 6000. / len(coords)))
    if labels is None:
        ax.scatter(coords[:, 0], coords[:, 1], s=size, color='tab:blue', linewidths=0)
    else:
        classes = np.unique(labels)
        cmap = plt.get_cmap('tab10' if len(classes) <= 10 else 'tab20' if len(classes) <= 20
                            else 'gist_ncar')
        for i, c in enumerate(classes):
            at = labels == c
            name = names[c] if names else str(c)
            ax.scatter(coords[at, 0], coords[at, 1], s=size, linewidths=0, label=name,
                       color=cmap(i / max(len(classes) - 1, 1) if len(classes) > 20 else i))
        if len(classes) <= 20:
            ax.legend(loc='center left', bbox_to_anchor=(1.01, 0.5), markerscale=12 / size ** .5,
                      frameon=False, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def main(argv=None):
    from mejigclu_mm.runtime.known_warnings import quiet_known_warnings
    quiet_known_warnings()
    args = parse_args(argv)
    is_extracted = osp.splitext(args.config)[1].lower() in EXTRACTED
    check_destination(args.out, [args.config, args.checkpoint, args.features])
    if is_extracted:
        features, labels, names, title = extracted_features(args.config)
    else:
        features, labels, names, title = labelled_features(args)
    if len(features) < 2:
        raise SystemExit(f't-SNE needs at least 2 images, got {len(features)}')
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(rng.choice(len(features), min(args.num_points, len(features)),
                                replace=False))
    check_spread(features[chosen], args.config if is_extracted else
                 f'the {args.split} features of {args.checkpoint or "none"} on {args.config}')
    start = time.perf_counter()
    coords, perplexity = embed(features[chosen], args.perplexity, args.seed)
    seconds = time.perf_counter() - start
    of = f' (of {len(features)})' if len(chosen) < len(features) else ''
    fig = draw(coords, None if labels is None else labels[chosen], names,
               f't-SNE of {len(chosen)}{of} {title}')
    from mejigclu_mm.runtime.output_guard import save_figure
    save_figure(fig, args.out, TOOL)
    plt.close(fig)
    print(f't-SNE of {len(chosen)} points (perplexity {perplexity:g}) in {seconds:.1f} s; '
          f'wrote {args.out}')
    return dict(coords=coords, indices=chosen, labels=None if labels is None else labels[chosen],
                perplexity=perplexity)


if __name__ == '__main__':
    main()
