"""chunkwise.config: known keys, typos refused, nested namespaces, restore on exit."""

import pytest

import chunkwise
from chunkwise import config


def test_typo_in_a_key_is_refused_naming_the_known_keys():
    before = config.get("scheduler")
    with pytest.raises(KeyError, match=r"unknown key 'schedular' \(did you mean 'scheduler'\?\); known keys: \[.*'num_workers'.*'scheduler'"):
        chunkwise.config.set(schedular="sync")
    with pytest.raises(KeyError, match="unknown key 'array.chunksize'"):
        config.set({"array.chunksize": "1 MiB"})
    assert config.get("scheduler") == before
    assert config.get("schedular", "missing") == "missing"  # nothing was stored


def test_a_refused_set_changes_nothing():
    with pytest.raises(KeyError):
        config.set(num_workers=3, schedular="sync")
    assert config.get("num_workers") is None


def test_every_key_the_code_uses_can_be_set():
    for key in ["scheduler", "num_workers", "optimization.fuse", "scheduler.max_live_source_results",
                "array.chunk_size", "tokenize.ensure_deterministic", "delayed_pure"]:
        with config.set({key: config.get(key)}):
            pass
    with config.set(array__chunk_size="1 MiB", optimization__fuse=False):  # __ for a dot
        assert config.get("array.chunk_size") == "1 MiB" and config.get("optimization.fuse") is False
    assert config.get("array.chunk_size") == "128MiB"


def test_a_namespace_as_a_nested_dict():
    with config.set(array={"chunk_size": "2 MiB"}):
        assert config.get("array.chunk_size") == "2 MiB"
    assert config.get("array.chunk_size") == "128MiB"
    with pytest.raises(KeyError, match="unknown key 'array.chunk_sise'"):
        config.set(array={"chunk_sise": "2 MiB"})


def test_a_library_adds_its_own_key_through_defaults(monkeypatch):
    monkeypatch.setitem(config.defaults, "mylib.option", 1)
    with config.set({"mylib.option": 2}):
        assert config.get("mylib.option") == 2
