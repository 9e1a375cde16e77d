"""Pausing Python's cyclic garbage collector around phases that build large acyclic graphs.

Lowering, fusing and the graph passes allocate hundreds of thousands of small
objects and create no reference cycles. Left on, the collector walks them again
and again: its full passes can cost as much as the phase itself (most of a pass
over 10**5 tasks). :func:`gc_paused` turns it off for the phase and back on
after; nested pauses run as one. With ``promote=True`` the objects the phase
made, which live until the computation ends, are moved to the oldest generation
(:func:`promote_young_objects`) so that the next young passes do not walk them.

>>> import gc
>>> @gc_paused
... def build():
...     return gc.isenabled()
>>> build(), gc.isenabled()
(False, True)
"""

from __future__ import annotations

import functools
import gc
from collections.abc import Callable
from typing import Any

__all__ = ["gc_paused", "promote_young_objects"]


def gc_paused(func: Callable | None = None, *, promote: bool = False) -> Any:
    """Run ``func`` with the cyclic collector paused (a decorator, also ``@gc_paused(promote=True)``)."""
    if func is None:
        return functools.partial(gc_paused, promote=promote)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not gc.isenabled():  # an outer pause owns the collector
            return func(*args, **kwargs)
        gc.disable()
        try:
            return func(*args, **kwargs)
        finally:
            if promote:
                promote_young_objects()
            gc.enable()

    return wrapper


def promote_young_objects() -> None:
    """Move every object the cyclic collector tracks to its oldest generation, without a pass.

    After a paused phase that built a graph of 10**6 tasks, the young generation
    holds millions of objects that will live until the computation ends; left
    there, the next young pass walks them all, then the middle one again, and
    they count towards the next full pass. ``gc.freeze()`` then
    ``gc.unfreeze()`` moves them (and any other young object) to the oldest
    generation in constant time; a young garbage cycle is then collected by the
    next full pass instead. Skipped when the program has frozen objects of its
    own, which ``unfreeze`` would release.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
