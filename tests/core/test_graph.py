"""Tasks run by position (``Task.call_at``) give what they give by key."""

from __future__ import annotations

from operator import add

import numpy as np
import pytest

from chunkwise.core.graph import DataNode, Ref, Task


def _by_position(task: Task, results: dict):
    """Run ``task`` reading ``results`` through a list, by the positions of its references."""
    keys = list(results)
    values = [results[k] for k in keys]
    positions = [keys.index(k) for k in task.reference_keys()]
    return task.call_at(values, positions if len(positions) != 1 else positions[0])


def _pair(a, b, *, scale=1, extra=()):
    return (a, b, scale, tuple(extra))


TASKS = {
    "one ref": Task("t", np.negative, Ref("x")),
    "no refs": Task("t", add, 2, 3),
    "same key twice": Task("t", add, Ref("x"), Ref("x")),
    "list of refs (a sum)": Task("t", sum, [Ref("y"), Ref("x"), Ref("z")]),
    "tuple mixing refs and literals": Task("t", _pair, (Ref("z"), 5, Ref("x")), Ref("y")),
    "nested task": Task("t", add, Task(None, np.multiply, Ref("y"), 10), Ref("x")),
    "nested task of literals": Task("t", add, Task(None, add, 1, 2), Ref("z")),
    "dict and keywords": Task(
        "t", _pair, {"p": Ref("x"), "q": [Ref("z"), 1]}, Ref("y"), scale=Ref("z"), extra=[Ref("x"), 7]
    ),
    "data node inlined": Task("t", add, DataNode("k", 100), Ref("y")),
}


@pytest.mark.parametrize("name", list(TASKS))
def test_a_task_resolved_by_position_gives_what_it_gives_by_key(name):
    task = TASKS[name]
    results = {"y": np.arange(3), "z": 4, "x": np.array([1.5, -2.0, 3.0])}
    expected = task(results)
    got = _by_position(task, results)
    assert repr(got) == repr(expected)
    # the references name exactly the task's dependencies
    assert set(task.reference_keys()) == set(task.dependencies)


def test_reference_keys_follow_the_reading_order_with_repeats():
    task = Task("t", _pair, [Ref("b"), Task(None, add, Ref("a"), Ref("b"))], Ref("a"), extra=(Ref("c"),))
    assert task.reference_keys() == ["b", "a", "b", "a", "c"]
    # reading the values by those positions feeds each reference its own value
    assert task.call_at([10, 20, 30], [1, 0, 1, 0, 2]) == ([20, 30], 10, 1, (30,))
