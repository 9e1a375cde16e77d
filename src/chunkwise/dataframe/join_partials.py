"""A groupby after a broadcast join, aggregated before the join (eager aggregation).

``facts.merge(dim, left_on="k", right_on="key").groupby("region").x.sum()``
joins every fact row to its dimension row, then groups the joined rows by a
column of the dimension (a string, often). When the group keys all come from
the small (broadcast) side and the aggregated columns all from the big side,
the same answer comes from far less work, per partition of the big side:

1. group the partition by its *join keys* and take the groupby's partials
   (:func:`~chunkwise.dataframe.groupby.groupby_chunk`: ``sum``, ``count``,
   ``moments`` ...): one row per distinct key, not per fact row, and on an
   integer key by counting (no hashing, no join of 1M rows);
2. join those few rows to the small side with pandas' own ``merge`` (the same
   ``how`` and keys, so null keys and key dtypes match as pandas matches them;
   a key the small side holds twice gives its partial twice, as the join would
   give its rows twice);
3. group the partials by the small side's columns and merge them with the
   groupby's own ``combine`` (:func:`~chunkwise.dataframe.groupby.groupby_combine`).

The groupby's combine and aggregate steps then run unchanged. This holds for
every partial that merges associatively and counts a row as often as the join
repeats it (``sum`` and ``prod`` of numbers, ``min``, ``max``, ``count``, ``size``, and
``moments`` for ``mean``/``var``/``std``); ``first``/``last`` (row order),
``nunique`` and custom aggregations keep the plain plan, as does a small side
of more than :data:`MAX_SMALL_ROWS` rows.

:class:`JoinedPartials` is the plan node (one task per partition of the big
side, reading the small side prepared once by the broadcast join); the rule
that puts it in place is :meth:`chunkwise.dataframe.joins.BroadcastMerge.partials_of`,
offered the reduction by :class:`~chunkwise.dataframe.reductions.TreeReduction`.

>>> import pandas as pd
>>> from chunkwise.dataframe.join_kernels import prepare_small_side
>>> big = pd.DataFrame({"k": [1, 2, 1, 3], "x": [1.0, 2.0, 3.0, 4.0]})
>>> dim = pd.DataFrame({"key": [1, 2, 3], "region": ["a", "b", "a"]})
>>> [(frame, pairs)] = joined_partial(big, prepare_small_side([dim], None), big_keys=("k",),
...                                   small_keys=("key",), how="inner", by=("region",),
...                                   prims=[("x", "sum")], dropna=True, observed=False)
>>> frame[(0, 0)].to_dict()
{'a': 8.0, 'b': 2.0}
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.expr import FrameExpr
from chunkwise.dataframe.groupby import groupby_chunk, groupby_combine
from chunkwise.dataframe.join_kernels import SmallSide

__all__ = ["JOINABLE_PRIMITIVES", "MAX_SMALL_ROWS", "JoinedPartials", "joined_chunk", "joined_partial"]

#: The groupby primitives whose partials may be taken before the join (module docstring).
JOINABLE_PRIMITIVES = frozenset({"sum", "prod", "min", "max", "count", "size", "moments"})

#: The most rows of a small side joined this way: each partition's partials are joined to
#: it with ``pd.merge``, which hashes it again per partition (the lookup kernel hashes it
#: once); up to a dimension table's size that costs less than the join it saves.
MAX_SMALL_ROWS = 100_000


def joined_partial(big: pd.DataFrame, small: SmallSide, *, big_keys: tuple, small_keys: tuple,
                   how: str, by: tuple, prims: list, dropna: bool, observed: bool) -> list:
    """The groupby partial of ``merge(big, small, how)`` grouped by the small side's ``by``
    columns, found from ``big``'s partials per join key: ``[(frame, {})]``, or ``[]`` when
    no joined row is left (the reduction then skips the partition)."""
    if not len(big):
        return []
    pre, _ = groupby_chunk(big, by=[("column", k) for k in big_keys], prims=prims,
                           dropna=False, observed=True, sort=True)
    keys = pd.DataFrame({f"k{i}": pre.index.get_level_values(i) for i in range(len(big_keys))})
    keys["row"] = np.arange(len(pre))
    frame = small.frame if small.parts is None else pd.concat(small.parts)
    side = pd.DataFrame({f"k{i}": frame[k].array for i, k in enumerate(small_keys)})
    for m, column in enumerate(by):
        side[f"b{m}"] = frame[column].array
    matched = pd.merge(keys, side, on=[f"k{i}" for i in range(len(big_keys))], how=how)
    values = [matched[f"b{m}"] for m in range(len(by))]
    if dropna:
        keep = ~pd.concat([v.isna() for v in values], axis=1).any(axis=1).to_numpy()
        if not keep.all():
            matched, values = matched[keep], [v[keep] for v in values]
    if not len(matched):
        return []
    partial = pre.take(matched["row"].to_numpy())
    if len(by) == 1:
        partial.index = pd.Index(values[0].array, name=by[0])
    else:
        partial.index = pd.MultiIndex.from_arrays([v.array for v in values], names=list(by))
    merged, _ = groupby_combine([(partial, {})], prims=prims, observed=observed, sort=False)
    return [(merged, {})]


def joined_chunk(item: Any, **kwargs: Any) -> tuple:
    """The reduction's chunk step over :class:`JoinedPartials`: its partial as computed; the
    groupby's own chunk on the empty joined frame (``item`` is then its ``meta``) when every
    partition came out empty."""
    if isinstance(item, pd.DataFrame):
        return groupby_chunk(item, **kwargs)
    return item[0]


class JoinedPartials(FrameExpr):
    """Partition ``i``: the groupby partial of big partition ``i`` joined to the prepared
    small side (:func:`joined_partial`), a one-item list (empty: no joined rows).

    ``meta`` is the joined frame's (what the groupby would have read), so the reduction's
    answer on no rows at all is pandas' on the empty joined frame (:func:`joined_chunk`).
    """

    _parameters = ("big", "prepared", "big_keys", "small_keys", "how", "by", "prims", "dropna",
                   "observed", "meta")
    _operand_only = ("meta",)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return (None,) * (self.big.npartitions + 1)

    def dependencies(self) -> list:
        return [self.big, self.prepared]

    def _one_to_one_inputs(self) -> tuple:
        return (self.big.name,)

    def _task(self, key: Hashable) -> Task:
        return Task(key, joined_partial, Ref((self.big.name, key[1])), Ref(self.prepared.name),
                    big_keys=self.big_keys, small_keys=self.small_keys, how=self.how, by=self.by,
                    prims=self.prims, dropna=self.dropna, observed=self.observed)

    def _explain_line(self) -> str:
        return (f"JoinedPartials: groupby partials per {list(self.big_keys)} joined ({self.how}) to "
                f"{list(self.by)} of the broadcast side, before the join  [{self.npartitions} partitions]")
