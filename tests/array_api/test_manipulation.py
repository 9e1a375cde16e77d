"""Array API conformance: the manipulation functions, against array_api_strict."""

import math

from array_api_harness import arrays, axis_for, check, promotable_pairs, xps
from hypothesis import strategies as st

ANY_DTYPE = xps.scalar_dtypes()


@st.composite
def _array_and(draw, extra):
    x = draw(arrays(ANY_DTYPE))
    args, kwargs = draw(extra(x))
    return (x, *args), kwargs


def _calls(extra):
    return _array_and(extra)


def test_broadcast_arrays(target, budget):
    @st.composite
    def calls(draw):
        shapes = draw(xps.mutually_broadcastable_shapes(draw(st.integers(1, 3)), max_dims=3, max_side=4))
        return tuple(draw(arrays(ANY_DTYPE, s)) for s in shapes.input_shapes), {}

    check(target, "broadcast_arrays", calls(), budget)


def test_broadcast_to(target, budget):
    @st.composite
    def calls(draw):
        shape = draw(xps.array_shapes(min_dims=0, max_dims=3, max_side=4))
        x = draw(arrays(ANY_DTYPE, draw(xps.broadcastable_shapes(shape, max_side=4))))
        return (x, shape), {}

    check(target, "broadcast_to", calls(), budget)


def test_concat(target, budget):
    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(promotable_pairs()))
        shape = draw(xps.array_shapes(min_dims=1, max_dims=3, max_side=4))
        axis = draw(st.none() | st.integers(-len(shape), len(shape) - 1))
        xs = []
        for dtype in (d1, d2, d1)[: draw(st.integers(1, 3))]:
            s = list(shape)
            if axis is not None:
                s[axis] = draw(st.integers(0, 4))
            xs.append(draw(arrays(dtype, tuple(s))))
        return (xs,), {"axis": axis}

    check(target, "concat", calls(), budget)


def test_expand_dims(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE))
        n = x.ndim + 1
        axis = draw(st.integers(-n, n - 1) | st.lists(st.integers(0, n), min_size=1, max_size=2, unique=True).map(tuple))
        return (x,), {"axis": axis}

    check(target, "expand_dims", calls(), budget)


def test_flip(target, budget):
    check(target, "flip", _calls(lambda x: st.tuples(st.just(()), st.fixed_dictionaries(
        {}, optional={"axis": axis_for(x.ndim, tuples=True)}))), budget)


def test_moveaxis(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        source = draw(st.integers(-x.ndim, x.ndim - 1))
        destination = draw(st.integers(-x.ndim, x.ndim - 1))
        return (x, source, destination), {}

    check(target, "moveaxis", calls(), budget)


def test_permute_dims(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE))
        return (x, tuple(draw(st.permutations(range(x.ndim))))), {}

    check(target, "permute_dims", calls(), budget)


def test_repeat(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE))
        axis = draw(axis_for(x.ndim))
        length = math.prod(x.shape) if axis is None else x.shape[axis]
        repeats = draw(st.integers(0, 3) | arrays(xps.integer_dtypes(sizes=64), shape=(length,),
                                                   elements={"min_value": 0, "max_value": 3}))
        return (x, repeats), ({} if axis is None else {"axis": axis})

    check(target, "repeat", calls(), budget)


def test_reshape(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE))
        size = math.prod(x.shape)
        divisors = [d for d in range(1, size + 1) if size % d == 0] or [0]
        first = draw(st.sampled_from(divisors))
        shape = draw(st.sampled_from([(size,), (first, size // first if first else 0), (-1,)]))
        if first and draw(st.booleans()):
            shape = (first, -1)
        return (x, shape), {}

    check(target, "reshape", calls(), budget)


def test_roll(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE))
        if x.ndim and draw(st.booleans()):
            axes = draw(xps.valid_tuple_axes(x.ndim, min_size=1))
            shift = tuple(draw(st.integers(-6, 6)) for _ in axes)
            return (x, shift), {"axis": axes}
        return (x, draw(st.integers(-6, 6))), {"axis": draw(axis_for(x.ndim))}

    check(target, "roll", calls(), budget)


def test_squeeze(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, shape=xps.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)))
        ones = [i for i, n in enumerate(x.shape) if n == 1]
        axis = draw(st.sampled_from(ones)) if ones else 0
        if len(ones) > 1 and draw(st.booleans()):
            axis = tuple(ones)
        return (x,), {"axis": axis}

    check(target, "squeeze", calls(), budget)


def test_stack(target, budget):
    @st.composite
    def calls(draw):
        d1, d2 = draw(st.sampled_from(promotable_pairs()))
        shape = draw(xps.array_shapes(min_dims=0, max_dims=3, max_side=4))
        xs = [draw(arrays(d, shape)) for d in (d1, d2)[: draw(st.integers(1, 2))]]
        return (xs,), {"axis": draw(st.integers(-len(shape) - 1, len(shape)))}

    check(target, "stack", calls(), budget)


def test_tile(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, max_side=3))
        return (x, tuple(draw(st.lists(st.integers(0, 3), min_size=0, max_size=3)))), {}

    check(target, "tile", calls(), budget)


def test_unstack(target, budget):
    @st.composite
    def calls(draw):
        x = draw(arrays(ANY_DTYPE, min_dims=1))
        return (x,), {"axis": draw(st.integers(-x.ndim, x.ndim - 1))}

    check(target, "unstack", calls(), budget)
