"""Array API conformance figures: pass counts per category, for chunkwise and NumPy side by side.

Runs our harness (``tests/array_api/``, built on ``array_api_strict`` and
``hypothesis.extra.array_api``; *not* the public ``array-api-tests`` suite)
once per target, in a fresh process each, with the full budget (20 examples
per function, a fixed seed: the variants marked ``slow``, with the tests that
have no budget), and prints one row per test file::

    python benchmarks/array_api_conformance.py                 # chunkwise and numpy
    python benchmarks/array_api_conformance.py --targets chunkwise --quick

``--quick`` runs the default suite's 3-example variant instead. ``--failures``
also lists the failing tests of each target.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

__all__ = ["main", "run_target"]

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "array_api"


def run_target(target: str, quick: bool) -> tuple[Counter, Counter, list]:
    """Run the harness against ``target``: (passed per file, total per file, failing test ids)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        env = {**os.environ, "ARRAY_API_TARGET": target}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
        command = [sys.executable, "-m", "pytest", str(HARNESS), "-q", "-p", "no:cacheprovider",
                   *(["-m", "not slow"] if quick else ["-k", "not quick"]), f"--junitxml={report}", "-o", "addopts=",
                   "--import-mode=importlib", "--timeout=600"]
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        passed, total, failing = Counter(), Counter(), []
        for case in ET.parse(report).iter("testcase"):
            category = case.get("classname", "").rsplit(".", 1)[-1].removeprefix("test_")
            outcome = {child.tag for child in case}
            if "skipped" in outcome:
                continue
            total[category] += 1
            if outcome & {"failure", "error"}:
                problem = next(child for child in case if child.tag in ("failure", "error"))
                message = (problem.get("message") or "").splitlines()
                failing.append(f"{category}::{case.get('name')}: {message[0][:160] if message else ''}")
            else:
                passed[category] += 1
        return passed, total, failing


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", nargs="+", default=["chunkwise", "numpy"], choices=["chunkwise", "numpy"])
    parser.add_argument("--quick", action="store_true", help="3 examples per function instead of 20")
    parser.add_argument("--failures", action="store_true", help="list the failing tests")
    args = parser.parse_args(argv)
    results = {t: run_target(t, args.quick) for t in args.targets}
    categories = sorted(set().union(*(total for _, total, _ in results.values())))
    header = f"{'category':<16}" + "".join(f"{t:>16}" for t in args.targets)
    print(header)
    print("-" * len(header))
    for category in categories:
        cells = []
        for target in args.targets:
            passed, total, _ = results[target]
            cells.append(f"{passed[category]:>6} / {total[category]:<4} ")
        print(f"{category:<16}" + "".join(f"{c:>16}" for c in cells))
    cells = []
    for target in args.targets:
        passed, total, _ = results[target]
        p, n = sum(passed.values()), sum(total.values())
        cells.append(f"{p} / {n} {100 * p / max(n, 1):.1f}%")
    print(f"{'total':<16}" + "".join(f"{c:>16}" for c in cells))
    if args.failures:
        for target in args.targets:
            print(f"\nfailing for {target}:")
            for test_id in results[target][2]:
                print(f"  {test_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
