"""Un-gzip the offline Fashion-MNIST files into a data root that mmpretrain's FashionMNIST reads.

Usage:
    python tools/data/prepare_fashion_mnist.py [--src /usr/share/datasets/fashion-mnist]
        [--out data/fashion_mnist]

The source is the Debian package ``dataset-fashion-mnist`` (MIT; ``apt-get install
dataset-fashion-mnist``). Idempotent: files already present with the right size are kept.
"""
import argparse
import gzip
import os
import os.path as osp
import shutil
import struct

FILES = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte',
         't10k-labels-idx1-ubyte']
COUNTS = {'train': 60000, 't10k': 10000}


def expected_size(name):
    count = COUNTS[name.split('-')[0]]
    return 16 + count * 28 * 28 if 'images' in name else 8 + count


def prepare(src, out):
    """Write the four un-gzipped files into ``out``; returns their paths."""
    os.makedirs(out, exist_ok=True)
    written = []
    for name in FILES:
        gz_path, dst = osp.join(src, name + '.gz'), osp.join(out, name)
        written.append(dst)
        if osp.isfile(dst) and osp.getsize(dst) == expected_size(name):
            continue
        if not osp.isfile(gz_path):
            raise SystemExit(f'prepare_fashion_mnist: {gz_path} not found; install the Debian '
                             'package dataset-fashion-mnist (apt-get install '
                             'dataset-fashion-mnist) or pass --src')
        tmp = dst + '.part'
        with gzip.open(gz_path, 'rb') as fin, open(tmp, 'wb') as fout:
            shutil.copyfileobj(fin, fout)
        with open(tmp, 'rb') as f:
            magic = struct.unpack('>I', f.read(4))[0]
        if magic not in (0x801, 0x803) or osp.getsize(tmp) != expected_size(name):
            os.remove(tmp)
            raise SystemExit(f'prepare_fashion_mnist: {gz_path} is not a valid IDX file '
                             f'(magic {magic:#x})')
        os.replace(tmp, dst)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--src', default='/usr/share/datasets/fashion-mnist',
                        help="the gzipped IDX files (Debian's dataset-fashion-mnist)")
    parser.add_argument('--out', default='data/fashion_mnist',
                        help='the data root for mmpretrain FashionMNIST (default: %(default)s)')
    args = parser.parse_args(argv)
    for path in prepare(args.src, args.out):
        print(f'ready: {path}')


if __name__ == '__main__':
    main()
