"""Count the bytes torch.distributed collectives deliver into this rank's receive buffers."""
import inspect
from collections import Counter
from contextlib import contextmanager
from typing import Callable, Dict, Iterator

import torch
import torch.distributed as dist


def tensor_bytes(tensor: torch.Tensor) -> int:
    return tensor.numel() * tensor.element_size()


class ReceivedBytes:
    """Wraps the collectives of ``torch.distributed`` while counting.

    Callers such as ``mmengine.dist`` and ``mejigclu_mm`` look the functions up on the
    ``torch.distributed`` module at call time, so replacing the module attributes catches them.
    Counted per call: the bytes written into this rank's output buffers (``total``, the rank's
    own slice included, as an all-gather's output holds it) and the part that came from other
    ranks (``from_others``).

    Args:
        rank (int): This process's rank.
    """

    def __init__(self, rank: int):
        self.rank = rank
        self.total = 0
        self.from_others = 0
        self.calls: Counter = Counter()

    def _all_gather(self, tensor_list, tensor, *args, **kwargs):
        received = sum(tensor_bytes(t) for t in tensor_list)
        self._add(received, received - tensor_bytes(tensor_list[self.rank]))

    def _all_gather_into_tensor(self, output_tensor, input_tensor, *args, **kwargs):
        self._add(tensor_bytes(output_tensor),
                  tensor_bytes(output_tensor) - tensor_bytes(input_tensor))

    def _all_to_all_single(self, output, input, output_split_sizes=None, *args, **kwargs):
        received = tensor_bytes(output)
        rows = output.size(0)
        own_rows = (output_split_sizes[self.rank] if output_split_sizes
                    else rows // dist.get_world_size())
        self._add(received, received - (received // max(rows, 1)) * own_rows)

    def _broadcast(self, tensor, src=None, *args, group_src=None, **kwargs):
        if (src if src is not None else group_src) != self.rank:
            self._add(tensor_bytes(tensor), tensor_bytes(tensor))

    def _add(self, total: int, from_others: int) -> None:
        self.total += total
        self.from_others += from_others

    def _counters(self) -> Dict[str, Callable]:
        return {'all_gather': self._all_gather,
                'all_gather_into_tensor': self._all_gather_into_tensor,
                'all_to_all_single': self._all_to_all_single,
                'broadcast': self._broadcast}

    @contextmanager
    def counting(self) -> Iterator['ReceivedBytes']:
        """Count inside the block; the original collectives run unchanged."""
        originals = {name: getattr(dist, name) for name in self._counters()}

        def wrap(name: str, count: Callable) -> Callable:
            original = originals[name]
            signature = inspect.signature(original)

            def counted(*args, **kwargs):
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                count(**bound.arguments)
                self.calls[name] += 1
                return original(*args, **kwargs)
            return counted

        for name, count in self._counters().items():
            setattr(dist, name, wrap(name, count))
        try:
            yield self
        finally:
            for name, original in originals.items():
                setattr(dist, name, original)
