"""The test suite runs the modules users import: each source module exists once.

pytest's ``--import-mode=importlib`` used to execute a source file named on the
command line a second time when its package's ``__init__`` had imported it
(the root ``conftest.py`` explains why and prevents it). With two copies of
``chunkwise.array.expr``, ``pytest src/chunkwise/array/expr.py docs/array.md``
failed in ``docs/array.md``: ``isinstance`` checks failed between the copies, so
``explain()`` showed a wrapped ``Array`` as the input and an elementwise task
received expressions instead of blocks.

The check runs pytest in a fresh process (``sys.modules`` must start empty),
collecting source files by name, and a probe plugin lists every chunkwise class
or function that some module holds but that its own module no longer exports.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import chunkwise

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "chunkwise"

PROBE = textwrap.dedent(
    '''
    import json
    import os
    import sys
    import types


    def stale_objects():
        """Names of chunkwise classes and functions that are not the ones their module exports."""
        stale = set()
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "chunkwise" or name.startswith("chunkwise.")):
                continue
            for value in list(vars(module).values()):
                if not isinstance(value, (type, types.FunctionType)):
                    continue
                owner, qualname = value.__module__, value.__qualname__
                if not (isinstance(owner, str) and owner.startswith("chunkwise")):
                    continue
                if "." in qualname or "<" in qualname:
                    continue
                home = sys.modules.get(owner)
                if home is not None and getattr(home, qualname, None) is not value:
                    stale.add(f"{owner}.{qualname} (held by {name})")
        return sorted(stale)


    def pytest_collection_finish(session):
        with open(os.environ["CHUNKWISE_PROBE_OUT"], "w") as out:
            json.dump(stale_objects(), out)
    '''
)

# Files whose package's ``__init__`` imports them: the first file named of each
# package was executed twice (``chunkwise`` imports ``chunkwise.core.expr``).
NAMED_FILES = [
    "src/chunkwise/core/expr.py",
    "src/chunkwise/array/expr.py",
    "src/chunkwise/dataframe/expr.py",
]


@pytest.mark.skipif(
    Path(chunkwise.__file__).resolve().parent != SOURCE,
    reason="chunkwise is not imported from this checkout's src/",
)
def test_source_files_named_on_the_command_line_are_imported_once(tmp_path):
    (tmp_path / "chunkwise_collection_probe.py").write_text(PROBE)
    out = tmp_path / "stale.json"
    env = dict(os.environ, CHUNKWISE_PROBE_OUT=str(out))
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path), str(SOURCE.parent), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    command += ["-p", "chunkwise_collection_probe", *NAMED_FILES]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert json.loads(out.read_text()) == []
