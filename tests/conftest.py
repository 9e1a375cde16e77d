"""Fixtures shared by every test package."""

import signal

import pytest


@pytest.fixture
def sigint_raises_keyboard_interrupt():
    """Python's own SIGINT handler for the duration of a Ctrl-C test.

    A process started in the background by a non-interactive shell (``cmd &``)
    inherits SIGINT as ignored, and Python then leaves it ignored: neither
    ``os.kill(pid, SIGINT)`` nor ``_thread.interrupt_main()`` raises. A Ctrl-C
    test installs the handler a terminal would give it (its child processes
    then start with the default one), and puts the previous one back.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def counting_key():
    """A ``str`` subclass whose instances count how often they are hashed.

    Each dict or set lookup by such a key hashes it once, so tests use it to
    count the lookups by key a graph pass makes. A new class per test: the
    count (``counting_key.hashes``, reset by assigning 0) starts at 0.
    """

    class CountingKey(str):
        hashes = 0

        def __hash__(self):
            CountingKey.hashes += 1
            return str.__hash__(self)

        __eq__ = str.__eq__

    return CountingKey
