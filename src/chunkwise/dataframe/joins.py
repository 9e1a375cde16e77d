"""``merge`` and ``join``: pandas' joins on row partitions, with the strategy chosen from metadata.

A :class:`Merge` node is what the user's ``merge``/``join`` builds. It knows
its ``meta`` at once (pandas' own ``merge`` run on small samples of both
sides, so a missing key, a key dtype pandas refuses or a suffix collision
fails when the line is written, with pandas' error type), and it is replaced
in the plan's ``lower`` stage by one of three physical plans, chosen from
what is known without reading data (``explain()`` shows which, and why):

================  ====================================  ==============================
strategy          when                                  cost
================  ====================================  ==============================
broadcast         one side is small (rows known, or     the small side is read once,
                  counted from Parquet footers, below   concatenated (and indexed by
                  ``dataframe.broadcast_rows`` and      its key) in one task
                  ``dataframe.broadcast_bytes``; only   (:class:`PreparedSide`) and
                  the bytes under the lookup kernel)    joined to every partition of
                  or has one partition, and ``how``     the other: no shuffle, one
                  allows it: ``inner``/``cross`` either task per big partition
                  side, ``left``/``left_anti`` the
                  right, ``right``/``right_anti`` the
                  left; ``cross`` always broadcasts
aligned           both sides joined on the index, both   no data movement: partitions
                  divisions known (partitions cut at     are cut at the union of the
                  the union of both if they differ)      divisions, joined pairwise
hash              otherwise                              both sides hash-partitioned
                                                         on the keys into the same
                                                         number of partitions
                                                         (:mod:`.shuffle`), then
                                                         joined pairwise
================  ====================================  ==============================

A broadcast ``merge`` (inner or left, the right side broadcast) on one
integer, float or datetime key runs the *lookup kernel*
(:mod:`.join_kernels`): ``Index.get_indexer`` on the small side's unique
keys, built once, then a ``take``; pandas' exact result, without re-hashing
the small side per partition. A small side whose partitions come in key order
(strictly increasing keys within and across them: a table written sorted by
its id) is *chained* rather than concatenated, and a big partition lining up
with a stretch of it is joined by slicing (:mod:`.join_kernels`).

A groupby tree reduction of a broadcast ``merge`` by columns of the small side
alone, of columns of the big side alone, takes its partials per join key
*before* the join and joins only those rows (:meth:`BroadcastMerge.partials_of`,
offered the reduction by ``TreeReduction``; the kernel and why it is pandas'
answer are in :mod:`.join_partials`).

A groupby or ``drop_duplicates`` after a join samples, to choose its path,
the side its keys come from (:meth:`BroadcastMerge.cardinality_source`), so
the join is not run at plan time.

Results equal pandas' up to row order and, for joins on columns, the index
(pandas numbers the result's rows 0..n-1; chunkwise numbers each
partition's). Where pandas' dtype depends on the data (an ``int`` column of
the side that may lack a match becomes ``float64`` in pandas only when a
row is unmatched), chunkwise's ``meta`` takes the dtype that holds nulls,
for every partition alike.

>>> import pandas as pd
>>> import chunkwise.dataframe as dd
>>> orders = dd.from_pandas(pd.DataFrame({"user": [1, 2, 1, 3], "amount": [5, 6, 7, 8]}), npartitions=2)
>>> users = dd.from_pandas(pd.DataFrame({"user": [1, 2], "country": ["de", "fr"]}), npartitions=1)
>>> joined = orders.merge(users, on="user", how="left")
>>> print(joined.explain(show=False).splitlines()[0])
BroadcastMerge: how='left', broadcast the right side, lookup on the key (the right side has one partition)  [2 partitions]
>>> joined.compute().country.tolist()
['de', 'fr', 'de', nan]
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from chunkwise import config
from chunkwise.core.graph import Ref, Task
from chunkwise.dataframe.core import DataFrame, Series, new_collection
from chunkwise.dataframe.expr import (
    FrameExpr,
    MapPartitions,
    Partitionwise,
    Projection,
    apply_and_enforce,
    emulate,
    make_meta,
    map_partitions_expr,
)
from chunkwise.dataframe.groupby import groupby_chunk
from chunkwise.dataframe.join_kernels import (
    KEY_PREFIX,
    LookupPlan,
    add_key_columns,
    broadcast_join,
    join_parts,
    lookup_plan,
    prepare_small_side,
)
from chunkwise.dataframe.join_partials import (
    JOINABLE_PRIMITIVES,
    MAX_SMALL_ROWS,
    JoinedPartials,
    joined_chunk,
)
from chunkwise.dataframe.partition_count import choose_join_npartitions
from chunkwise.dataframe.reductions import TreeReduction

__all__ = [
    "BroadcastMerge",
    "HOWS",
    "Merge",
    "PartitionMerge",
    "PreparedSide",
    "as_frame_expr",
    "columns_needed",
    "estimated_rows",
    "join",
    "merge",
    "merge_meta",
]

#: The joins supported: pandas' ``how`` values (``left_anti``/``right_anti`` as in pandas 2.2+).
HOWS = ("inner", "left", "right", "outer", "cross", "left_anti", "right_anti")


# --- meta -----------------------------------------------------------------------------


def _joined(kind: str, left: Any, right: Any, options: dict) -> pd.DataFrame:
    if kind == "join":
        return left.join(right, **options)
    return pd.merge(left, right, **options)


def merge_meta(left: FrameExpr, right: FrameExpr, kind: str, options: dict, operation: str) -> pd.DataFrame:
    """The result's meta: pandas on samples, with the null-holding dtype for a side that may lack a match.

    pandas' own error (type and message, with ``operation`` named) is raised here.
    """
    plain = emulate(_joined, kind, left, right, options, operation=operation)
    how = options.get("how", "inner")
    dtypes = dict(zip(range(len(plain.columns)), plain.dtypes))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        variants = []
        if how in ("left", "outer", "left_anti"):  # right rows may be missing: an empty right
            variants.append(_joined(kind, left.meta_sample, right.meta, options))
        if how in ("right", "outer", "right_anti"):
            variants.append(_joined(kind, left.meta, right.meta_sample, options))
    for variant in variants:
        if list(variant.columns) != list(plain.columns):
            continue
        for i, dtype in enumerate(variant.dtypes):
            if _holds_nulls_for(plain.dtypes.iloc[i], dtype) and dtypes[i] == plain.dtypes.iloc[i]:
                dtypes[i] = dtype
    meta = make_meta(plain)
    if plain.columns.has_duplicates:
        return meta
    return meta.astype({c: dtypes[i] for i, c in enumerate(plain.columns)})


def _holds_nulls_for(plain: Any, variant: Any) -> bool:
    """Whether ``variant`` is the dtype pandas gives ``plain`` values once nulls are filled in."""
    return (isinstance(plain, np.dtype) and plain.kind in "iub"
            and isinstance(variant, np.dtype) and variant.kind in "fO")


# --- nodes ----------------------------------------------------------------------------


class Merge(FrameExpr):
    """A join as the user wrote it; ``_lower`` replaces it with a physical strategy.

    ``kind``: ``"merge"`` or ``"join"`` (pandas' method run per pair of
    partitions, with ``options``); ``left_keys``/``right_keys``: ``"index"``
    or a tuple of column names; ``broadcast``: ``None`` (choose), ``True``
    or ``False``; ``nparts``: the partitions of a hash join (``None``: the
    larger side's count).
    """

    _parameters = ("left", "right", "kind", "options", "left_keys", "right_keys", "broadcast",
                   "nparts", "meta")
    _operand_only = ("meta",)

    def _meta(self) -> Any:
        return self.operand("meta")

    @property
    def how(self) -> str:
        return self.options.get("how", "inner")

    def strategy(self) -> tuple:
        """``("broadcast", side)``, ``("aligned", divisions)`` or ``("hash", npartitions)``.

        Chosen once per node (the config read then holds for its divisions and its lowering).
        """
        if "_strategy" not in self.__dict__:
            self.__dict__["_strategy"], self.__dict__["_why"] = self._choose()
        return self.__dict__["_strategy"]

    def why(self) -> str:
        """Why :meth:`strategy` was chosen, in words (``explain()`` shows it)."""
        self.strategy()
        return self.__dict__["_why"]

    def _choose(self) -> tuple:
        left, right, how = self.left, self.right, self.how
        if left.npartitions == 1 and right.npartitions == 1:
            return ("broadcast", "right"), "both sides have one partition"
        index_join = self.left_keys == "index" and self.right_keys == "index" and how != "cross"
        if index_join and left.known_divisions and right.known_divisions and self.broadcast is not True:
            return (("aligned", _union_divisions(left.divisions, right.divisions)),
                    "both indexes' divisions are known")
        allowed = [s for s, ok in (("right", how in _BROADCASTS_RIGHT),
                                   ("left", how in _BROADCASTS_LEFT)) if ok]
        sides = {"left": left, "right": right}
        if self.broadcast is not False:
            small = [s for s in allowed if sides[s].npartitions == 1
                     or _is_small(sides[s], lookup=self._lookup_plan(s) is not None)]
            forced = (self.broadcast is True or how == "cross") and not small
            if forced:
                small = allowed  # a cross join has no keys to hash: it always broadcasts
            if small:
                side = min(small, key=lambda s: _size_rank(sides[s]))
                why = ("broadcast=True" if forced and how != "cross" else "a cross join has no keys"
                       if forced else _small_because(sides[side], side))
                return ("broadcast", side), why
        npartitions = choose_join_npartitions(left, right, self.nparts or None).npartitions
        if self.broadcast is False:
            why = "broadcast=False"
        elif not allowed:
            why = f"how={how!r} needs every row of both sides"
        else:
            why = "; ".join(f"the {s} side is {_size_words(sides[s])}" for s in allowed)
        return ("hash", npartitions), why

    def _lookup_plan(self, small: str) -> LookupPlan | None:
        return lookup_plan(self.kind, self.options, small, self.left_keys, self.right_keys,
                           self.left.meta, self.right.meta, self.operand("meta"))

    def _divisions(self) -> tuple:
        strategy = self.strategy()
        if strategy[0] == "aligned":
            return strategy[1]
        if strategy[0] == "broadcast":
            big = self.left if strategy[1] == "right" else self.right
            index_join = self.left_keys == "index" and self.right_keys == "index"
            keeps = index_join or (self.kind == "join" and strategy[1] == "right")
            if keeps and big.known_divisions and self.how != "cross":
                return big.divisions
            return (None,) * (big.npartitions + 1)
        return (None,) * (strategy[1] + 1)

    def _lower(self) -> FrameExpr:
        strategy = self.strategy()
        meta = self.operand("meta")
        keys = (self.left_keys, self.right_keys)
        if strategy[0] == "broadcast":
            return BroadcastMerge(self.left, self.right, strategy[1], self.kind, self.options, meta,
                                  self.divisions, keys, self.why())
        sources = (self.left, self.right)
        if strategy[0] == "aligned":
            left = _repartitioned(self.left, strategy[1])
            right = _repartitioned(self.right, strategy[1])
            return PartitionMerge(left, right, self.kind, self.options, meta, "aligned", strategy[1],
                                  keys, sources, self.why())
        left, right = self._hashed(strategy[1])
        return PartitionMerge(left, right, self.kind, self.options, meta, "hash", self.divisions,
                              keys, sources, self.why())

    def _hashed(self, npartitions: int) -> tuple:
        """Both sides hash-partitioned on their keys, cast alike first where their dtypes differ."""
        try:
            from chunkwise.dataframe.shuffle import hash_partition
        except ImportError as exc:  # the shuffle engine is built on another branch
            raise NotImplementedError(
                f"{self.kind}: a hash join needs chunkwise.dataframe.shuffle, which is missing; "
                "pass broadcast=True (inner/left/right joins) or join on aligned indexes"
            ) from exc
        left, right = self.left, self.right
        lkeys, rkeys = self.left_keys, self.right_keys
        ltypes, rtypes = _key_dtypes(left.meta, lkeys), _key_dtypes(right.meta, rkeys)
        plain = all(k in frame.meta.columns for keys, frame in ((lkeys, left), (rkeys, right))
                    if keys != "index" for k in keys)
        if plain and ltypes == rtypes and (lkeys == "index") == (rkeys == "index"):
            lon = "index" if lkeys == "index" else list(lkeys)
            ron = "index" if rkeys == "index" else list(rkeys)
        else:
            common = [_common_key_dtype(a, b) for a, b in zip(ltypes, rtypes)]
            left, right = _with_keys(left, lkeys, common), _with_keys(right, rkeys, common)
            lon = ron = [f"{KEY_PREFIX}{k}" for k in range(len(common))]
        left = hash_partition(new_collection(left), lon, npartitions).expr
        right = hash_partition(new_collection(right), ron, npartitions).expr
        return left, right

    def _task(self, key: Hashable) -> Any:
        raise RuntimeError("Merge is replaced by its strategy in the lower stage; it has no tasks")

    def _simplify_up(self, parent: Any, dependents: Any) -> FrameExpr | None:
        """``merge(...)[cols]`` -> ``merge(left[kept], right[kept])[cols]``: each side keeps its
        keys, the columns that every consumer of the join (all projections) needs, and the
        columns both sides share (their suffixes depend on them)."""
        if not (isinstance(parent, Projection) and parent.frame.name == self.name):
            return None
        needed = columns_needed(self, dependents)
        if needed is None:
            return None
        left, right = self.left, self.right
        lmeta, rmeta = left.meta, right.meta
        if not (isinstance(lmeta, pd.DataFrame) and isinstance(rmeta, pd.DataFrame)) or (
            lmeta.columns.has_duplicates or rmeta.columns.has_duplicates
        ):
            return None
        shared = set(lmeta.columns) & set(rmeta.columns)
        narrowed = []
        for frame, keys in ((left, self.left_keys), (right, self.right_keys)):
            keep = set(needed) | shared | (set() if keys == "index" else set(keys))
            columns = [c for c in frame.meta.columns if c in keep]
            narrowed.append(frame if len(columns) == len(frame.meta.columns) else Projection(frame, columns))
        if all(a is b for a, b in zip(narrowed, (left, right))):
            return None
        meta = merge_meta(narrowed[0], narrowed[1], self.kind, self.options, f"{self.kind}(...)[columns]")
        merged = Merge(narrowed[0], narrowed[1], self.kind, self.options, self.left_keys, self.right_keys,
                       self.broadcast, self.nparts, meta)
        return Projection(merged, parent.operand("columns"))

    def _explain_line(self) -> str:
        return f"Merge: how={self.how!r}, {self.kind}  [{self.npartitions} partitions]"


class PreparedSide(FrameExpr):
    """A broadcast join's small side as one :class:`~.join_kernels.SmallSide`: its partitions
    concatenated and, under a :class:`~.join_kernels.LookupPlan`, indexed by the key, in one
    task that every partition of the big side shares."""

    _parameters = ("frame", "plan")

    def _meta(self) -> Any:
        return self.frame.meta

    def _divisions(self) -> tuple:
        return (None, None)

    def _output_keys(self) -> list:
        return [self.name]

    def _task(self, key: Hashable) -> Task:
        frame = self.frame
        refs = [Ref((frame.name, i)) for i in range(frame.npartitions)]
        return Task(key, prepare_small_side, refs, self.plan)

    def _explain_line(self) -> str:
        how = ("indexed by its key, or chained if its partitions come in key order" if self.plan is not None
               else "concatenated")
        return f"PreparedSide: {how}  [1 partition]"


class BroadcastMerge(FrameExpr):
    """Every partition of the big side joined with the whole small side (prepared once)."""

    _parameters = ("left", "right", "small", "kind", "options", "meta", "given_divisions", "keys", "why")
    _operand_only = ("meta",)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.given_divisions

    @property
    def big(self) -> FrameExpr:
        return self.left if self.small == "right" else self.right

    @functools.cached_property
    def plan(self) -> LookupPlan | None:
        """The lookup kernel's plan (:func:`~.join_kernels.lookup_plan`), ``None`` for pandas' merge."""
        return lookup_plan(self.kind, self.options, self.small, self.keys[0], self.keys[1],
                           self.left.meta, self.right.meta, self.operand("meta"))

    @property
    def prepared(self) -> PreparedSide:
        return PreparedSide(self.right if self.small == "right" else self.left, self.plan)

    def dependencies(self) -> list:
        return [self.big, self.prepared]

    def _task(self, key: Hashable) -> Task:
        big_side = "left" if self.small == "right" else "right"
        return Task(key, apply_and_enforce, broadcast_join, self.operand("meta"),
                    Ref((self.big.name, key[1])), Ref(self.prepared.name), big_side, self.kind,
                    self.options, self.plan)

    def cardinality_source(self, columns: list | None) -> tuple:
        """The side whose keys stand for ``columns``' (module docstring, "plan-time samples")."""
        return _side_source(self, columns)

    def partials_of(self, reduction: Any) -> FrameExpr | None:
        """``reduction`` (a groupby's tree reduction of this join, its columns selected) with
        its partials taken per join key before the join (:mod:`.join_partials`), or ``None``
        where that does not give pandas' answer or would not be cheaper."""
        if not _pushed_groupby(self, reduction):
            return None
        kwargs = reduction.chunk_kwargs
        by = tuple(value for _, value in kwargs["by"])
        lkeys, rkeys = tuple(self.keys[0]), tuple(self.keys[1])
        values = {column for column, _ in kwargs["prims"] if column is not None}
        big = _narrowed(self.left, set(lkeys) | values)
        small = PreparedSide(_narrowed(self.right, set(rkeys) | set(by)), None)
        node = JoinedPartials(big, small, lkeys, rkeys, self.how, by, kwargs["prims"],
                              kwargs["dropna"], kwargs["observed"], reduction.frame.meta)
        operands = list(reduction.operands)
        operands[:4] = [node, None, joined_chunk, kwargs]
        return type(reduction)(*operands)

    @property
    def how(self) -> str:
        return self.options.get("how", "inner")

    def _explain_line(self) -> str:
        how = self.options.get("how", "inner")
        kernel = ", lookup on the key" if self.plan is not None else ""
        return (f"BroadcastMerge: how={how!r}, broadcast the {self.small} side{kernel} "
                f"({self.why})  [{self.npartitions} partitions]")


class PartitionMerge(Partitionwise):
    """Partition ``i`` of the left joined with partition ``i`` of the right (aligned or hashed alike)."""

    _parameters = ("left", "right", "kind", "options", "meta", "strategy", "given_divisions", "keys",
                   "sources", "why")
    _operand_only = ("meta",)

    def _kernel_args(self) -> list:
        return [self.left, self.right]

    def dependencies(self) -> list:
        return [self.left, self.right]  # not ``sources``: they are only sampled, never run here

    def cardinality_source(self, columns: list | None) -> tuple:
        """The unpartitioned side whose keys stand for ``columns``' (module docstring)."""
        return _side_source(self, columns, self.sources)

    def _meta(self) -> Any:
        return self.operand("meta")

    def _divisions(self) -> tuple:
        return self.given_divisions

    def _task(self, key: Hashable) -> Task:
        i = key[1]
        return Task(key, apply_and_enforce, join_parts, self.operand("meta"),
                    Ref((self.left.name, i)), Ref((self.right.name, i)), self.kind, self.options)

    def _explain_line(self) -> str:
        how = self.options.get("how", "inner")
        return f"PartitionMerge: how={how!r}, {self.strategy} ({self.why})  [{self.npartitions} partitions]"


#: The ``how`` values that may broadcast the right side, and the left side.
_BROADCASTS_RIGHT = ("inner", "left", "left_anti", "cross")
_BROADCASTS_LEFT = ("inner", "right", "right_anti", "cross")


def _side_source(node: Any, columns: list | None, sources: tuple | None = None) -> tuple:
    """Where a groupby's or ``drop_duplicates``' plan-time sample of ``node[columns]`` is taken.

    When every column comes unchanged from one side (not renamed by a suffix), the distinct
    keys of that side's first partition stand for the join's: a many-to-one join keeps the
    big side's rows and keys, and a column of the small side holds no more distinct values
    than the small side (its length is known or it has one partition). Sampling the side
    reads only its key columns and runs no join; otherwise the join itself is sampled.
    """
    left, right = sources if sources is not None else (node.left, node.right)
    lmeta, rmeta = left.meta, right.meta
    how = node.options.get("how", "inner")
    if columns is None or not isinstance(lmeta, pd.DataFrame) or not isinstance(rmeta, pd.DataFrame):
        return node, columns
    lkeys, rkeys = node.keys
    shared_keys = set() if "index" in (lkeys, rkeys) else {a for a, b in zip(lkeys, rkeys) if a == b}
    sides = set()
    for column in columns:
        in_left, in_right = column in lmeta.columns, column in rmeta.columns
        if in_left and in_right and column in shared_keys and how in ("inner", "left", "left_anti"):
            sides.add("left")
        elif in_left and in_right and column in shared_keys and how in ("right", "right_anti"):
            sides.add("right")
        elif in_left and not in_right and how not in ("right_anti", "outer"):
            sides.add("left")
        elif in_right and not in_left and how not in ("left_anti", "outer"):
            sides.add("right")
        else:
            return node, columns
    if len(sides) != 1:
        return node, columns
    side = left if sides.pop() == "left" else right
    return side.cardinality_source(list(columns))


def columns_needed(expr: FrameExpr, dependents: Any) -> set | None:
    """The union of the columns every consumer of ``expr`` selects; ``None`` when one is not
    a column selection (it needs every column)."""
    found = dependents.get(expr.name, []) if hasattr(dependents, "get") else []
    nodes = [node() if callable(node) and not isinstance(node, FrameExpr) else node for node in found]
    needed: set = set()
    for node in nodes:
        if node is None:
            continue
        if not (isinstance(node, Projection) and node.frame.name == expr.name):
            return None
        columns = node.operand("columns")
        needed.update(columns if isinstance(columns, list) else [columns])
    return needed if nodes else None


def _pushed_groupby(node: BroadcastMerge, reduction: Any) -> bool:
    """Whether ``reduction`` may take its partials before ``node``'s join
    (:mod:`.join_partials`): a groupby tree (no aligned by-Series, not a node that lowers
    further) of a ``merge`` broadcasting its right side, ``how`` inner or left, on columns
    of non-categorical dtypes; every group key a column of the right side alone, every
    aggregated column one of the left side alone (neither renamed by a suffix nor a key),
    primitives in :data:`~.join_partials.JOINABLE_PRIMITIVES` (``sum``/``prod`` of numbers
    only); and the right side at most
    :data:`~.join_partials.MAX_SMALL_ROWS` long (known or counted)."""
    if (reduction.chunk is not groupby_chunk or reduction.aligned is not None
            or type(reduction)._lower is not TreeReduction._lower):
        return False
    options, (lkeys, rkeys) = node.options, node.keys
    if (node.kind != "merge" or node.small != "right" or node.how not in ("inner", "left")
            or options.get("indicator") or "index" in (lkeys, rkeys)):
        return False
    lmeta, rmeta = node.left.meta, node.right.meta
    if not all(isinstance(m, pd.DataFrame) and not m.columns.has_duplicates for m in (lmeta, rmeta)):
        return False
    if not all(k in m.columns and not isinstance(m[k].dtype, pd.CategoricalDtype)
               for keys, m in ((lkeys, lmeta), (rkeys, rmeta)) for k in keys):
        return False
    kwargs = reduction.chunk_kwargs
    only_right = set(rmeta.columns) - set(lmeta.columns) - set(rkeys)
    only_left = set(lmeta.columns) - set(rmeta.columns) - set(lkeys)
    if not all(kind == "column" and value in only_right for kind, value in kwargs["by"]):
        return False
    if not all(prim in JOINABLE_PRIMITIVES and (column is None or column in only_left)
               for column, prim in kwargs["prims"]):
        return False
    if any(prim in ("sum", "prod") and not pd.api.types.is_numeric_dtype(lmeta[column].dtype)
           for column, prim in kwargs["prims"]):
        return False  # a sum of strings concatenates them: in row order, not key by key
    rows = estimated_rows(node.right)
    return rows is not None and rows <= MAX_SMALL_ROWS


def _narrowed(frame: FrameExpr, keep: set) -> FrameExpr:
    """``frame`` with only the columns in ``keep`` (in its order)."""
    columns = [c for c in frame.meta.columns if c in keep]
    return frame if len(columns) == len(frame.meta.columns) else Projection(frame, columns)


# --- strategy helpers ---------------------------------------------------------------


def _union_divisions(a: tuple, b: tuple) -> tuple:
    if a == b:
        return tuple(a)
    return tuple(sorted(set(a) | set(b)))


def _repartitioned(frame: FrameExpr, divisions: tuple) -> FrameExpr:
    if frame.divisions == divisions:
        return frame
    from chunkwise.dataframe.indexing import repartition

    return repartition(new_collection(frame), divisions=divisions).expr


def _row_bytes(meta: Any) -> int:
    dtypes = meta.dtypes if isinstance(meta, pd.DataFrame) else [meta.dtype]
    total = 8  # the index
    for dtype in dtypes:
        itemsize = getattr(dtype, "itemsize", None)
        total += itemsize if isinstance(dtype, np.dtype) and dtype.kind != "O" and itemsize else 32
    return total


def _is_small(frame: FrameExpr, lookup: bool = False) -> bool:
    """Whether ``frame``'s length (known, or counted from Parquet footers) and estimated size
    are below the broadcast thresholds. Under the lookup kernel (``lookup``) only the bytes
    count: its small side is hashed once, not once per partition, so rows cost no more
    than in a hash join's own partitions."""
    rows = estimated_rows(frame)
    if rows is None:
        return False
    return ((lookup or rows <= config.get("dataframe.broadcast_rows"))
            and rows * _row_bytes(frame.meta) <= config.get("dataframe.broadcast_bytes"))


def estimated_rows(frame: FrameExpr) -> int | None:
    """``frame``'s rows: from its known lengths, or from the footers of the Parquet read
    under it when only column selections and row-keeping steps (``assign``) lie between
    (the footers are read here, no data); else ``None``."""
    lengths = frame.lengths
    if lengths is not None:
        return sum(lengths)
    node = frame
    while True:
        if isinstance(node, Projection):
            node = node.frame
        elif isinstance(node, MapPartitions) and node.keeps_rows and isinstance(
                node._kernel_args()[0], FrameExpr):
            node = node._kernel_args()[0]
        else:
            break
    from chunkwise.dataframe.io.parquet import ParquetLength, ReadParquet

    if not isinstance(node, ReadParquet) or node.filters is not None or node.pushed is not None:
        return None
    counts = ParquetLength(node.dataset, node.split_row_groups, node.blocksize).counts
    return sum(counts) if len(counts) == node.npartitions else None


def _size_words(frame: FrameExpr) -> str:
    """``frame``'s size as :func:`_is_small` sees it, in words ("12,000 rows, 0.3 MiB")."""
    rows = estimated_rows(frame)
    if rows is None:
        return f"of unknown length ({frame.npartitions} partitions)"
    return f"{rows:,} rows, {rows * _row_bytes(frame.meta) / 2**20:,.1f} MiB"


def _small_because(frame: FrameExpr, side: str) -> str:
    if frame.npartitions == 1:
        return f"the {side} side has one partition"
    source = "known lengths" if frame.lengths is not None else "Parquet footers"
    limit = config.get("dataframe.broadcast_bytes") / 2**20
    return f"the {side} side is small: {_size_words(frame)} from {source}, <= broadcast_bytes {limit:,.0f} MiB"


def _size_rank(frame: FrameExpr) -> tuple:
    lengths = frame.lengths
    return (frame.npartitions, sum(lengths) if lengths is not None else float("inf"))


def _key_dtypes(meta: pd.DataFrame, keys: Any) -> list:
    if keys == "index":
        index = meta.index
        if isinstance(index, pd.MultiIndex):
            return list(index.dtypes)
        return [index.dtype]
    return [meta[k].dtype if k in meta.columns else meta.index.get_level_values(k).dtype for k in keys]


def _common_key_dtype(a: Any, b: Any) -> Any:
    """One dtype both keys are cast to before hashing (equal keys then hash alike)."""
    a = a.categories.dtype if isinstance(a, pd.CategoricalDtype) else a
    b = b.categories.dtype if isinstance(b, pd.CategoricalDtype) else b
    if a == b:
        return a
    kinds = {getattr(d, "kind", "O") for d in (a, b)}
    if kinds <= set("biuf"):
        return np.result_type(a, b) if "f" not in kinds else np.dtype("float64")
    return np.dtype(object)


def _with_keys(frame: FrameExpr, keys: Any, dtypes: list) -> FrameExpr:
    meta = frame.meta.copy()
    for k, dtype in enumerate(dtypes):
        meta[f"{KEY_PREFIX}{k}"] = pd.Series(dtype=dtype)
    return map_partitions_expr(add_key_columns, frame, keys, dtypes, meta=meta,
                               label="merge-hash-keys", keeps_rows=True)


# --- the user's calls --------------------------------------------------------------


def as_frame_expr(obj: Any, operation: str) -> FrameExpr:
    if isinstance(obj, Series):
        if obj.name is None:
            raise ValueError(f"{operation}: cannot join with an unnamed Series; name it first (s.rename('x'))")
        return obj.to_frame().expr
    if isinstance(obj, DataFrame):
        return obj.expr
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        from chunkwise.dataframe.io.pandas import from_pandas

        return as_frame_expr(from_pandas(obj, npartitions=1), operation)
    raise TypeError(f"{operation}: expected a chunkwise or pandas DataFrame (or a named Series), "
                    f"got {type(obj).__name__}")


def _listed(value: Any) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _join_list(left: Any, others: list, on: Any, how: str, operation: str,
               npartitions: int | None, broadcast: bool | None) -> DataFrame:
    """``join([a, b, ...])`` on the index, ``how="left"``/``"inner"``: one join after the
    other (pandas' answer when no two frames share a column name)."""
    if on is not None or how not in ("left", "inner"):
        raise NotImplementedError(f"{operation}: a list of frames joins on the index with how='left' "
                                  "or 'inner' only; join them one by one")
    seen = set(as_frame_expr(left, "join").meta.columns)
    for other in others:
        columns = list(as_frame_expr(other, "join").meta.columns)
        shared = seen & set(columns)
        if shared:
            raise ValueError(f"{operation}: the frames share columns {sorted(map(str, shared))}; "
                             "join them one by one with suffixes=")
        seen |= set(columns)
    out = left
    for other in others:
        out = join(out, other, how=how, npartitions=npartitions, broadcast=broadcast)
    return out


def _check_how(how: Any, operation: str) -> None:
    if how not in HOWS:
        raise ValueError(f"{operation}: how={how!r} is not a valid merge type; use one of {list(HOWS)}")


def _check_broadcast(broadcast: Any, how: str, operation: str) -> None:
    if broadcast is True and how == "outer":
        raise ValueError(f"{operation}: broadcast=True cannot answer an outer join (each side's "
                         "unmatched rows must be seen once); leave broadcast=None")
    if broadcast is False and how == "cross":
        raise ValueError(f"{operation}: a cross join has no keys to hash-partition on, so it "
                         "always broadcasts one side; leave broadcast=None")


def _check_columns(meta: pd.DataFrame, keys: list, side: str, operation: str) -> None:
    missing = [k for k in keys if k not in meta.columns and k not in meta.index.names]
    if missing:
        raise KeyError(f"{operation}: key column(s) {missing} not in the {side} frame; "
                       f"its columns: {list(meta.columns)}")


def _warn_dtypes(lmeta: pd.DataFrame, rmeta: pd.DataFrame, lkeys: Any, rkeys: Any, operation: str) -> None:
    """pandas' warning for integer keys joined to float keys, given once at build time."""
    for a, b, name in zip(_key_dtypes(lmeta, lkeys), _key_dtypes(rmeta, rkeys),
                          lkeys if lkeys != "index" else ["index"]):
        kinds = {getattr(a, "kind", "O"), getattr(b, "kind", "O")}
        if "f" in kinds and kinds & set("iu"):
            warnings.warn(
                f"{operation}: you are merging on int and float columns ({name!r}: {a} and {b}); "
                "pandas warns where the float values are not equal to their int representation, "
                "and such keys never match. Cast the keys alike (astype) to be sure.",
                UserWarning, stacklevel=4,
            )


def merge(left: Any, right: Any, how: str = "inner", on: Any = None, left_on: Any = None,
          right_on: Any = None, left_index: bool = False, right_index: bool = False,
          suffixes: tuple = ("_x", "_y"), indicator: bool = False, npartitions: int | None = None,
          broadcast: bool | None = None) -> DataFrame:
    """pandas' ``merge`` of two frames (as ``dask.dataframe.merge``); see the module docstring.

    ``npartitions``: the partitions of a hash join (default: the larger
    side's count); ``broadcast``: force (``True``) or forbid (``False``) a
    broadcast join. Rows come in another order than pandas' (compare sorted).
    """
    operation = f"merge(how={how!r})"
    _check_how(how, operation)
    _check_broadcast(broadcast, how, operation)
    lexpr, rexpr = as_frame_expr(left, "merge"), as_frame_expr(right, "merge")
    lmeta, rmeta = lexpr.meta, rexpr.meta
    if on is not None and (left_on is not None or right_on is not None):
        raise pd.errors.MergeError(f"{operation}: give on= or left_on=/right_on=, not both")
    if left_index:
        lkeys: Any = "index"
    elif left_on is not None or on is not None:
        lkeys = tuple(_listed(left_on if left_on is not None else on))
        _check_columns(lmeta, list(lkeys), "left", operation)
    else:
        lkeys = None
    if right_index:
        rkeys: Any = "index"
    elif right_on is not None or on is not None:
        rkeys = tuple(_listed(right_on if right_on is not None else on))
        _check_columns(rmeta, list(rkeys), "right", operation)
    else:
        rkeys = None
    if how == "cross":
        lkeys = rkeys = ()  # pandas refuses keys with a cross join (raised by merge_meta)
    elif lkeys is None and rkeys is None:
        common = [c for c in lmeta.columns if c in set(rmeta.columns)]
        if not common:
            raise pd.errors.MergeError(
                f"{operation}: no common columns to merge on; pass on=, left_on=/right_on= or "
                f"left_index=/right_index= (left: {list(lmeta.columns)}, right: {list(rmeta.columns)})")
        lkeys = rkeys = tuple(common)
    options = {"how": how, "left_index": left_index, "right_index": right_index,
               "suffixes": tuple(suffixes) if suffixes is not None else None, "indicator": indicator}
    if on is not None:
        options["on"] = on
    if left_on is not None:
        options["left_on"] = left_on
    if right_on is not None:
        options["right_on"] = right_on
    meta = merge_meta(lexpr, rexpr, "merge", options, operation)
    if lkeys is None or rkeys is None:
        raise pd.errors.MergeError(f"{operation}: give keys for both sides")
    _warn_dtypes(lmeta, rmeta, lkeys, rkeys, operation)
    return new_collection(Merge(lexpr, rexpr, "merge", options, lkeys, rkeys, broadcast, npartitions, meta))


def join(left: Any, other: Any, on: Any = None, how: str = "left", lsuffix: str | None = None,
         rsuffix: str | None = None, suffixes: tuple | None = None, npartitions: int | None = None,
         broadcast: bool | None = None) -> DataFrame:
    """pandas' ``DataFrame.join``: ``other``'s index matched to this frame's index (or ``on`` columns).

    ``suffixes=`` (pandas 3.1) or the older ``lsuffix``/``rsuffix`` (deprecated
    by pandas, passed on as given).
    """
    operation = f"join(how={how!r})"
    _check_how(how, operation)
    _check_broadcast(broadcast, how, operation)
    if isinstance(other, (list, tuple)):
        return _join_list(left, list(other), on, how, operation, npartitions, broadcast)
    lexpr, rexpr = as_frame_expr(left, "join"), as_frame_expr(other, "join")
    if on is None:
        lkeys: Any = "index"
    else:
        lkeys = tuple(_listed(on))
        _check_columns(lexpr.meta, list(lkeys), "calling", operation)
    options: dict = {"how": how}
    if suffixes is not None:
        options["suffixes"] = tuple(suffixes)
    for name, value in (("lsuffix", lsuffix), ("rsuffix", rsuffix)):
        if value is not None:
            options[name] = value
    if on is not None:
        options["on"] = on
    meta = merge_meta(lexpr, rexpr, "join", options, operation)
    _warn_dtypes(lexpr.meta, rexpr.meta, lkeys, "index", operation)
    return new_collection(Merge(lexpr, rexpr, "join", options, lkeys, "index", broadcast, npartitions, meta))

