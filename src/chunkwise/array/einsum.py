"""``einsum``: Einstein summation on chunked arrays, as a blockwise contraction.

The subscripts are parsed and checked when the plan is built (errors name
``einsum``, the operand and the letter). The plan has two steps, like
``dask.array.einsum``:

1. a :func:`~chunkwise.array.blockwise.blockwise` over every letter: each
   task runs ``numpy.einsum`` on one block of each operand and keeps a
   length-1 axis for every summed letter, so one task holds one block per
   operand and a partial result;
2. a ``sum`` over those length-1 axes (a tree reduction with bounded memory).

Repeated letters in one operand (``"ii->i"``, traces) select the blocks on the
diagonal of the block grid (the two axes are rechunked alike first).

>>> import numpy as np
>>> import chunkwise.array as da
>>> a = np.arange(12.0).reshape(3, 4)
>>> x = da.from_array(a, chunks=2)
>>> einsum("ij,kj->ik", x, x).compute().tolist() == np.einsum("ij,kj->ik", a, a).tolist()
True
>>> float(einsum("ii", x[:, :3]).compute())
15.0
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np

from chunkwise.array.blockwise import blockwise
from chunkwise.array.chunks import check_known_chunks
from chunkwise.array.core import Array, asarray, implements
from chunkwise.array.reductions import sum as sum_

__all__ = ["einsum"]

_LETTERS = string.ascii_letters


def _parse(subscripts: str, shapes: list) -> tuple:
    """The input terms (ellipses expanded into unused letters) and the output term."""
    op = "einsum"
    if not isinstance(subscripts, str):
        raise TypeError(f"{op}: subscripts must be a string, got {type(subscripts).__name__}")
    spec = subscripts.replace(" ", "")
    arrows = spec.count("->")
    if spec.count("-") != arrows or spec.count(">") != arrows or arrows > 1:
        raise ValueError(f"{op}: subscripts {subscripts!r} must have at most one '->' (and no other '-' or '>')")
    explicit = arrows == 1
    left, _, output = spec.partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"{op}: subscripts {subscripts!r} name {len(terms)} operand(s) but {len(shapes)} were given"
        )
    for term in terms + [output]:
        bad = [c for c in term.replace("...", "") if c not in _LETTERS]
        if bad or term.count("...") > 1:
            what = "'...' more than once" if not bad else f"the character {bad[0]!r}"
            raise ValueError(f"{op}: subscripts {subscripts!r} contain {what}; use letters a-z, A-Z and one '...'")
    used = set(spec)
    spare = [c for c in _LETTERS if c not in used]
    # Ellipses: the same letters, right-aligned, for every operand that has one.
    ell_ndim = 0
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        if "..." in term:
            ell_ndim = max(ell_ndim, len(shape) - named)
            if len(shape) < named:
                raise ValueError(
                    f"{op}: operand of shape {shape} has fewer dimensions than subscript {term!r} names"
                )
        elif named != len(shape):
            raise ValueError(
                f"{op}: subscript {term!r} names {named} dimension(s) but its operand has shape {shape}"
            )
    if ell_ndim > len(spare):
        raise ValueError(f"{op}: too many dimensions under '...'")
    ell = "".join(spare[:ell_ndim])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[ell_ndim - n:] if n else "")
        expanded.append(term)
    if explicit:
        output = output.replace("...", ell)  # without '...', its dimensions are summed
        if len(set(output)) != len(output):
            raise ValueError(f"{op}: output subscript {output!r} repeats a letter")
        missing = [c for c in output if c not in "".join(expanded)]
        if missing:
            raise ValueError(
                f"{op}: output letter {missing[0]!r} does not appear in the inputs of {subscripts!r}"
            )
    else:
        counts: dict = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        output = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return expanded, output


def _check_sizes(terms: list, shapes: list, subscripts: str) -> dict:
    """The length of every letter; sizes must agree (or be 1, broadcast, under '...')."""
    sizes: dict = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            have = sizes.get(c)
            if have is None or have == 1:
                sizes[c] = n
            elif n != have and n != 1:
                raise ValueError(
                    f"einsum: letter {c!r} of {subscripts!r} has lengths {have} and {n} in different "
                    "operands (or axes); they must match"
                )
    return sizes


def _einsum_block(*blocks: Any, spec: str, n_summed: int, kwargs: dict) -> np.ndarray:
    out = np.einsum(spec, *blocks, **kwargs)
    return np.asarray(out).reshape(np.shape(out) + (1,) * n_summed)


@implements(np.einsum)
def einsum(subscripts: Any, *operands: Any, out: Any = None, dtype: Any = None, order: str = "K",
           casting: str = "safe", optimize: Any = False, split_every: Any = None) -> Array:
    """Einstein summation over chunked operands, as ``numpy.einsum`` (lazily).

    Supports explicit (``"ij,jk->ik"``) and implicit (``"ij,jk"``) output,
    ``...`` (broadcast dimensions), letters repeated within an operand
    (diagonals and traces) and ``dtype=``/``casting=``. ``optimize`` is passed
    to each block's ``numpy.einsum``; ``order`` is ignored; ``out=`` and the
    interleaved ``einsum(op, [0, 1], ...)`` form are not supported. Unknown
    (``nan``) chunk sizes must be computed first on contracted axes.

    >>> import numpy as np
    >>> import chunkwise.array as da
    >>> x = da.from_array(np.arange(6).reshape(2, 3), chunks=2)
    >>> einsum("ij->j", x).compute()
    array([3, 5, 7])
    """
    op = "einsum"
    if out is not None:
        raise TypeError(f"{op}: out= is not supported on chunkwise arrays; use the returned array")
    if not isinstance(subscripts, str):
        raise NotImplementedError(
            f"{op}: only the subscripts-string form is supported (einsum('ij,jk->ik', a, b))"
        )
    if not operands:
        raise ValueError(f"{op}: no operands given for subscripts {subscripts!r}")
    arrays = [asarray(o) for o in operands]
    shapes = [tuple(a.shape) for a in arrays]
    terms, output = _parse(subscripts, shapes)
    _check_sizes(terms, shapes, subscripts)
    for term, a in zip(terms, arrays):
        for c, n in zip(term, a.shape):
            if c not in output or term.count(c) > 1:
                check_known_chunks(op, ((n,),), what=f"letter {c!r} (summed or repeated)")
    summed = "".join(dict.fromkeys(c for term in terms for c in term if c not in output))
    kwargs: dict = {"casting": casting}
    if dtype is not None:
        kwargs["dtype"] = np.dtype(dtype)
    if optimize is not False:
        kwargs["optimize"] = optimize
    samples = [np.ones((1,) * len(t), dtype=a.dtype) for t, a in zip(terms, arrays)]
    try:
        result_dtype = np.asarray(np.einsum(f"{','.join(terms)}->{output}", *samples, **kwargs)).dtype
    except TypeError as exc:
        raise TypeError(f"{op}: {exc}") from None
    spec = f"{','.join(terms)}->{output}"
    pairs: list = []
    for a, term in zip(arrays, terms):
        pairs.extend([a, term])
    partial = blockwise(
        _einsum_block, output + summed, *pairs, dtype=result_dtype,
        adjust_chunks=dict.fromkeys(summed, 1), spec=spec, n_summed=len(summed), kwargs=kwargs,
    )
    if not summed:
        return partial
    axes = tuple(range(len(output), len(output) + len(summed)))
    return sum_(partial, axis=axes, dtype=result_dtype, split_every=split_every)
