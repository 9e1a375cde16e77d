"""Run the benchmark suite: chunkwise against Dask (and NumPy/pandas) on the same workloads.

    python -m benchmarks                       # everything, 5 repetitions
    python -m benchmarks --only 'tasks_*' --repeat 3
    python -m benchmarks --quick --repeat 1    # smoke test at small sizes
    python -m benchmarks --list
    python -m benchmarks --only 'ml_*' --limit sklearn=300   # stop scikit-learn after 300 s
    python -m benchmarks --report results.json # the tables of an earlier run's JSON, run nothing

Where a workload has a ``handwritten`` implementation (plain NumPy over the
same blocks on a 2-thread pool: ``benchmarks/handwritten.py``), the table also
shows chunkwise's time divided by it, the distance to the practical limit.

Every implementation runs in a fresh subprocess (``benchmarks/worker.py``), so
imports, caches and thread pools never leak between measurements. Repetitions
are interleaved: repetition r runs the implementations in a rotated order
(A B, B A, ...) so that machine noise hits all of them. The table reports
medians; the JSON file (default ``benchmarks/results/latest.json``) holds every
raw figure plus the machine's description.

Each time cell shows the median wall time and the median user and system CPU
time of the measured part; ``usr ratio`` is chunkwise's user CPU over Dask's,
beside the wall-time ratio the target is judged on. A run whose system time
exceeded its user time (fresh page faults, which on a VM with free page
reporting also fault on the host) is flagged ``sys>usr``: a machine effect,
not the code's work (``docs/benchmarks.md``). A further table lists every
run's user and system time and the median page faults. ``--report`` rebuilds
all of it from the raw runs of a results file, older files included (those
without the user/system split show their ``cpu_s``).

The first repetition of each implementation also runs the workload's expensive
result check (``--verify`` in the worker), and the runner compares result
digests across implementations: a mismatch is printed loudly, shown in the
table, and makes the exit status 1. A failing implementation prints the tail of
its stderr, shows ``error`` in its cell, and the run goes on (exit status 1).
An implementation with a time limit (a workload's ``limits``, or ``--limit
IMPL=SECONDS``) that runs past it is stopped and shown as ``> limit``: a
figure, not an error, and it is not repeated.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fnmatch
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.registry import WORKLOADS, Workload, load_all
from benchmarks.worker import RESULT_MARKER

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_JSON = ROOT / "benchmarks" / "results" / "latest.json"
BASELINES = ("numpy", "pandas", "sklearn")


# --- running one implementation ---------------------------------------------


def run_worker(
    name: str, impl: str, *, quick: bool, verify: bool, timeout: float, python: str
) -> dict:
    """Run one implementation in a fresh process; a dict with the report, or with ``error``."""
    cmd = [python, "-m", "benchmarks.worker", name, impl]
    if quick:
        cmd.append("--quick")
    if verify:
        cmd.append("--verify")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        stderr = (
            exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr
        )
        return {"error": f"timed out after {timeout:g} s", "timed_out": True,
                "stderr_tail": _tail(stderr or "")}
    elapsed = time.perf_counter() - start
    report = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            report = json.loads(line[len(RESULT_MARKER) :])
    if proc.returncode != 0 or report is None:
        tail = _tail(proc.stderr or proc.stdout)
        last = tail.strip().splitlines()[-1] if tail.strip() else f"exit status {proc.returncode}"
        return {"error": last, "returncode": proc.returncode, "stderr_tail": tail}
    report["process_s"] = elapsed
    return report


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# --- summarizing ------------------------------------------------------------


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def impl_limit(wl: Workload, impl: str, args) -> float | None:
    """Seconds allowed to ``impl`` on ``wl``: ``--limit IMPL=S`` or the workload's own ``limits``."""
    limits = {**wl.limits, **dict(getattr(args, "limit", None) or [])}
    return limits.get(impl)


def summarize_impl(runs: list[dict]) -> dict:
    over = [r for r in runs if "over_limit_s" in r]
    ok = [r for r in runs if "error" not in r and "over_limit_s" not in r]
    errors = [r for r in runs if "error" in r]
    summary: dict = {"runs": runs, "n_ok": len(ok), "n_errors": len(errors)}
    if over and not ok and not errors:
        summary["over_limit_s"] = over[0]["over_limit_s"]
        return summary
    if not ok:
        summary["error"] = errors[0]["error"] if errors else "not run"
        return summary
    summary["median_wall_s"] = _median(r["wall_s"] for r in ok)
    summary["median_cpu_s"] = _median(r.get("cpu_s") for r in ok)
    summary.update(summarize_cpu(ok))
    summary["min_wall_s"] = min(r["wall_s"] for r in ok)
    summary["median_peak_rss_mib"] = _median(r["peak_rss_mib"] for r in ok)
    summary["peak_rss_scope"] = ok[0].get("peak_rss_scope", "process")
    summary["median_us_per_task"] = _median(r.get("us_per_task") for r in ok)
    summary["tasks"] = ok[0].get("tasks")
    extra_keys = sorted({k for r in ok for k in r.get("extra", {})})
    extras = {}
    for key in extra_keys:
        values = [r["extra"].get(key) for r in ok]
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            extras[key] = _median(values)
        else:
            extras[key] = values[0]
    summary["median_extra"] = extras
    if errors:
        summary["partial_error"] = errors[0]["error"]
    return summary


CPU_FIGURES = ("user_s", "system_s", "minor_faults", "major_faults")
"""Per-run figures the worker reports since the user/system split (older results lack them)."""


FLAG_MIN_SYSTEM_S = 0.001
"""System time below which a run is never flagged: under a millisecond, the split is clock noise."""


def system_over_user(run: dict) -> bool:
    """Whether the kernel's time exceeded the code's in this run: a machine effect, not the code's work."""
    system, user = run.get("system_s") or 0.0, run.get("user_s") or 0.0
    return system > user and system >= FLAG_MIN_SYSTEM_S


def summarize_cpu(ok: list[dict]) -> dict:
    """Medians of the user/system split and page faults, and how many runs spent more in system than user.

    Runs from a worker older than the split count in ``n_cpu_split`` as missing.
    """
    split = [r for r in ok if all(key in r for key in CPU_FIGURES)]
    summary = {f"median_{key}": _median(r[key] for r in split) for key in CPU_FIGURES}
    summary["n_cpu_split"] = len(split)
    summary["n_system_over_user"] = sum(system_over_user(r) for r in split)
    return summary


def compare_digests(impls: dict[str, dict]) -> tuple[bool | None, dict]:
    """Whether every implementation's every run gave the same digest (None: nothing to compare)."""
    digests = {}
    for impl, summary in impls.items():
        seen = [
            r["digest"] for r in summary["runs"] if "error" not in r and r.get("digest") is not None
        ]
        if not seen:
            continue
        # The first run carries the verified (fuller) digest; later runs only the cheap one.
        digests[impl] = seen[0]
        cheap = seen[1:]
        if any(d != cheap[0] for d in cheap):
            return False, digests
    if len(digests) < 2:
        return None, digests
    values = [json.dumps(d, sort_keys=True) for d in digests.values()]
    return all(v == values[0] for v in values), digests


def run_workload(wl: Workload, impls: list[str], args) -> dict:
    runs: dict[str, list[dict]] = {impl: [] for impl in impls}
    failed: set[str] = set()
    for rep in range(args.repeat):
        shift = rep % len(impls)
        order = impls[shift:] + impls[:shift]
        for impl in order:
            if impl in failed:
                continue
            limit = impl_limit(wl, impl, args)
            report = run_worker(
                wl.name,
                impl,
                quick=args.quick,
                verify=rep == 0 and not args.no_verify,
                timeout=args.timeout if limit is None else min(args.timeout, limit),
                python=args.python,
            )
            if limit is not None and limit <= args.timeout and report.get("timed_out"):
                report = {"over_limit_s": limit}  # stopped at its limit: a figure, not an error
            runs[impl].append(report)
            if "over_limit_s" in report:
                failed.add(impl)  # a second try would take as long
                print(f"   {wl.name} / {impl}: over its limit of {limit:g} s, stopped",
                      file=sys.stderr, flush=True)
            elif "error" in report:
                failed.add(impl)  # errors are deterministic: do not repeat them
                print(
                    f"\n!! {wl.name} / {impl} failed: {report['error']}\n"
                    + _indent(report.get("stderr_tail", "")),
                    file=sys.stderr,
                    flush=True,
                )
            elif args.verbose:
                print(
                    f"   {wl.name} / {impl} rep {rep + 1}: {report['wall_s']:.4f} s, "
                    f"usr {_fmt_time(report['user_s'])}, sys {_fmt_time(report['system_s'])}, "
                    f"{report['minor_faults']} minor / {report['major_faults']} major faults, "
                    f"{report['peak_rss_mib']:.0f} MiB",
                    file=sys.stderr,
                    flush=True,
                )
    description = {
        "name": wl.name,
        "description": wl.description,
        "group": wl.group,
        "params": wl.sizes(args.quick),
        "target": wl.target,
        "target_note": wl.target_note,
    }
    result = workload_result(description, runs)
    if result["digests_match"] is False:
        print(
            f"\n!!!!!!!! RESULT MISMATCH in {wl.name}: implementations disagree !!!!!!!!\n"
            + "\n".join(
                f"   {impl}: {json.dumps(d)[:300]}" for impl, d in result["digests"].items()
            ),
            file=sys.stderr,
            flush=True,
        )
    return result


def _median_ratio(summaries: dict, key: str, of: str = "chunkwise", to: str = "dask") -> float | None:
    mine = (summaries.get(of) or {}).get(key)
    theirs = (summaries.get(to) or {}).get(key)
    return mine / theirs if mine is not None and theirs else None


def workload_result(description: dict, runs: dict[str, list[dict]]) -> dict:
    """One workload's entry of the results: ``description`` (name, target, ...) plus what ``runs`` give.

    The runs are each implementation's raw reports; everything else (medians,
    ratios, verdict, digest comparison) is derived from them here, so that
    ``--report`` rebuilds the same entry from a results file.
    """
    summaries = {impl: summarize_impl(r) for impl, r in runs.items()}
    match, digests = compare_digests(summaries)
    ratio = _median_ratio(summaries, "median_wall_s")
    target = description.get("target")
    met = None
    if ratio is not None and target is not None:
        met = ratio <= target  # the verdict is on wall time; user CPU is shown beside it
    return {
        **description,
        "impls": summaries,
        "ratio": ratio,
        "user_ratio": _median_ratio(summaries, "median_user_s"),
        "met": met,
        "handwritten_ratio": handwritten_ratio({"impls": summaries}),
        "digests_match": match,
        "digests": digests,
    }


def _indent(text: str) -> str:
    return "\n".join("   | " + line for line in text.splitlines())


# --- reporting ----------------------------------------------------------------


def _fmt_time(seconds) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _cpu_text(summary: dict) -> str:
    """``(usr U, sys S)`` from the medians, ``(cpu C)`` for results older than the split, else ``""``."""
    if summary.get("median_user_s") is not None:
        return f" (usr {_fmt_time(summary['median_user_s'])}, sys {_fmt_time(summary['median_system_s'])})"
    if summary.get("median_cpu_s") is not None:
        return f" (cpu {_fmt_time(summary['median_cpu_s'])})"
    return ""


def _system_flag(summary: dict) -> str:
    """`` **sys>usr n/m**`` when n of the m runs spent more CPU in the kernel than in user code."""
    flagged = summary.get("n_system_over_user") or 0
    return f" **sys>usr {flagged}/{summary['n_cpu_split']}**" if flagged else ""


def _cell_time(summary: dict | None) -> str:
    """Median wall time, median user and system CPU, and the flags of one implementation."""
    if summary is None:
        return "—"
    if "over_limit_s" in summary:
        return f"> {_fmt_time(summary['over_limit_s'])}"
    if "error" in summary:
        return "error"
    text = _fmt_time(summary["median_wall_s"]) + _cpu_text(summary) + _system_flag(summary)
    return text + (" (!)" if summary.get("partial_error") else "")


def _cell_rss(summary: dict | None) -> str:
    if summary is None or "error" in summary or "over_limit_s" in summary:
        return "—"
    # a peak of the measured part alone (peak="run") says so; the default is the whole process's
    suffix = " (run)" if summary.get("peak_rss_scope") == "run" else ""
    return f"{summary['median_peak_rss_mib']:.0f} MiB{suffix}"


def _cell_us(summary: dict | None) -> str:
    if summary is None or summary.get("median_us_per_task") is None:
        return "—"
    return f"{summary['median_us_per_task']:.1f}"


VERDICT_REPEATS = 3
"""Repetitions a target verdict needs on both sides; one from fewer says how many it had."""


def _cell_met(result: dict) -> str:
    """The verdict on the wall-time ratio, ``(n=k)`` when a side has fewer than :data:`VERDICT_REPEATS` runs."""
    if result["digests_match"] is False:
        return "**MISMATCH**"
    if result["met"] is None:
        return "—"
    verdict = "yes" if result["met"] else "**no**"
    runs = min(result["impls"][impl].get("n_ok", 0) for impl in ("chunkwise", "dask"))
    return verdict + (f" (n={runs})" if runs < VERDICT_REPEATS else "")


TABLE_LEGEND = (
    "Times: median wall time (median user and system CPU time) of the measured part. "
    "ratio: chunkwise / dask wall time, the target's; usr ratio: the same for user CPU. "
    "**sys>usr n/m**: in n of m runs the kernel's (system) time exceeded the code's (user) time, "
    "a machine effect (fresh page faults): judge by usr (docs/benchmarks.md). "
    f"(n=k): a verdict from k < {VERDICT_REPEATS} repetitions."
)

HANDWRITTEN = "handwritten"
HANDWRITTEN_TARGET = 1.5
"""chunkwise's time at most 1.5x the hand-written limit (issue 19)."""


def handwritten_ratio(result: dict) -> float | None:
    """chunkwise's median wall time divided by the hand-written implementation's, if both ran."""
    cw = (result["impls"].get("chunkwise") or {}).get("median_wall_s")
    hand = (result["impls"].get(HANDWRITTEN) or {}).get("median_wall_s")
    return cw / hand if cw is not None and hand else None


def markdown_table(results: list[dict]) -> str:
    with_baseline = any(any(b in r["impls"] for b in BASELINES) for r in results)
    with_hand = any(HANDWRITTEN in r["impls"] for r in results)
    header = ["workload", "chunkwise", "dask", "ratio", "usr ratio", "target", "met?"]
    if with_hand:
        header += [HANDWRITTEN, f"÷ hand (≤ {HANDWRITTEN_TARGET})"]
    if with_baseline:
        header.append("/".join(b for b in BASELINES if any(b in r["impls"] for r in results)))
    header += ["peak RSS chunkwise", "peak RSS dask", "µs/task chunkwise / dask"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        impls = r["impls"]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}"
        user_ratio = "—" if r.get("user_ratio") is None else f"{r['user_ratio']:.2f}"
        target = "—" if r["target"] is None else f"≤ {r['target']:.2f}"
        row = [
            r["name"],
            _cell_time(impls.get("chunkwise")),
            _cell_time(impls.get("dask")),
            ratio,
            user_ratio,
            target,
            _cell_met(r),
        ]
        if with_hand:
            hand = handwritten_ratio(r)
            row.append(_cell_time(impls.get(HANDWRITTEN)))
            row.append("—" if hand is None else f"{hand:.2f}" + ("" if hand <= HANDWRITTEN_TARGET else " **!**"))
        if with_baseline:
            base = next((impls[b] for b in BASELINES if b in impls), None)
            row.append(_cell_time(base))
        us_cw, us_dk = _cell_us(impls.get("chunkwise")), _cell_us(impls.get("dask"))
        row += [
            _cell_rss(impls.get("chunkwise")),
            _cell_rss(impls.get("dask")),
            "—" if us_cw == us_dk == "—" else f"{us_cw} / {us_dk}",
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


REFERENCES = ("pandas", "polars")
"""Single-machine references shown, with ratios, in the baselines table (dataframes)."""


def baselines_table(results: list[dict]) -> str:
    """Times, chunkwise's ratios and peak RSS against Dask, pandas and polars, where any."""
    rows = [r for r in results if "polars" in r["impls"]]
    if not rows:
        return ""
    impls = ("chunkwise", "dask", *REFERENCES)
    header = [
        "workload",
        *impls,
        *(f"ratio to {i}" for i in impls[1:]),
        *(f"peak RSS {i}" for i in impls),
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        summaries = {i: r["impls"].get(i) for i in impls}
        cw = (summaries["chunkwise"] or {}).get("median_wall_s")
        ratios = []
        for i in impls[1:]:
            other = (summaries[i] or {}).get("median_wall_s")
            ratios.append(f"{cw / other:.2f}" if cw is not None and other else "—")
        mark = " **MISMATCH**" if r["digests_match"] is False else ""
        row = [r["name"] + mark, *(_cell_time(summaries[i]) for i in impls), *ratios]
        row += [_cell_rss(summaries[i]) for i in impls]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _per_run(runs: list[dict], key: str) -> str:
    return " / ".join(_fmt_time(r[key]) if key in r else "—" for r in runs)


def cpu_table(results: list[dict]) -> str:
    """Every run's user and system CPU (in run order) and the median page faults, where recorded."""
    lines = []
    for r in results:
        for impl, summary in r["impls"].items():
            ok = [run for run in summary["runs"] if "wall_s" in run]
            if not summary.get("n_cpu_split"):
                continue
            flags = " / ".join("**sys>usr**" if system_over_user(run) else "·" for run in ok)
            faults = f"{summary['median_minor_faults']:.0f} / {summary['median_major_faults']:.0f}"
            lines.append(
                f"| {r['name']} | {impl} | {_per_run(ok, 'wall_s')} | {_per_run(ok, 'user_s')} "
                f"| {_per_run(ok, 'system_s')} | {flags} | {faults} |"
            )
    if not lines:
        return ""
    header = (
        "| workload | impl | wall per run | usr per run | sys per run | flags | "
        "minor / major faults (medians) |"
    )
    return "\n".join([header, "|---|---|---|---|---|---|---|", *lines])


def extras_table(results: list[dict]) -> str:
    """A second table of the extra figures (sub-phase timings, task counts), where any."""
    lines = []
    for r in results:
        for impl, summary in r["impls"].items():
            extra = summary.get("median_extra") or {}
            if not extra:
                continue
            parts = []
            for key, value in extra.items():
                if key.endswith("_s") and isinstance(value, (int, float)):
                    parts.append(f"{key[:-2]} {_fmt_time(value)}")
                elif isinstance(value, float) and value.is_integer():
                    parts.append(f"{key} {int(value)}")
                else:
                    parts.append(f"{key} {value}")
            lines.append(f"| {r['name']} | {impl} | {', '.join(parts)} |")
    if not lines:
        return ""
    return "\n".join(["| workload | impl | extra figures (medians) |", "|---|---|---|", *lines])


PAGE_REPORTING = Path("/sys/module/page_reporting/parameters")


def free_page_reporting() -> dict:
    """The kernel's free page reporting settings (Linux guests), ``{}`` where it has none.

    With it on, memory a process frees goes back to the host, and touching
    fresh pages later faults on the host too: system CPU time grows for every
    implementation alike (``docs/benchmarks.md``).
    """
    settings: dict = {}
    try:
        for parameter in sorted(PAGE_REPORTING.iterdir()):
            settings[parameter.name] = parameter.read_text().strip()
    except OSError:
        pass
    try:
        cmdline = Path("/proc/cmdline").read_text().split()
    except OSError:
        cmdline = []
    for word in cmdline:
        if word.startswith("page_reporting."):
            settings.setdefault("cmdline", []).append(word)
    return settings


def machine_info() -> dict:
    from importlib import metadata

    versions = {}
    for package in (
        "chunkwise", "dask", "distributed", "numpy", "pandas", "pyarrow", "polars", "psutil"
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    info = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "hostname": platform.node(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "python_implementation": platform.python_implementation(),
        "versions": versions,
    }
    if hasattr(os, "sched_getaffinity"):
        info["cpus_available"] = len(os.sched_getaffinity(0))
    if hasattr(os, "getloadavg"):
        info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    reporting = free_page_reporting()
    if reporting:
        info["free_page_reporting"] = reporting
    try:
        import psutil

        info["memory_total_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        info["git_commit"] = commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


# --- command line -----------------------------------------------------------


def select(patterns: list[str] | None) -> list[Workload]:
    if not patterns:
        return list(WORKLOADS.values())
    chosen = []
    for pattern in patterns:
        matched = [w for name, w in WORKLOADS.items() if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            raise SystemExit(
                f"--only {pattern!r} matches no workload; known: {', '.join(WORKLOADS)} "
                "(see --list)"
            )
        chosen.extend(w for w in matched if w not in chosen)
    return chosen


def _limit(text: str) -> tuple[str, float]:
    impl, sep, seconds = text.partition("=")
    try:
        if not sep or not impl:
            raise ValueError
        return impl, float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--limit {text!r}: expected IMPL=SECONDS, e.g. --limit sklearn=600"
        ) from None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run chunkwise vs Dask benchmarks, each implementation in a fresh process.",
    )
    parser.add_argument("--only", nargs="+", metavar="NAME", help="workload names or glob patterns")
    parser.add_argument("--impl", nargs="+", metavar="IMPL", help="run only these implementations")
    parser.add_argument(
        "--repeat", type=int, default=5, help="repetitions per implementation (default 5)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        help=f"where to write raw results (default {DEFAULT_JSON.relative_to(ROOT)})",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--report",
        nargs="+",
        type=Path,
        metavar="JSON",
        help="print the tables of earlier results files (any --json output) and exit",
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds allowed per subprocess (default 600)"
    )
    parser.add_argument(
        "--limit",
        action="append",
        type=_limit,
        metavar="IMPL=SECONDS",
        help="stop IMPL after SECONDS and show it as '> SECONDS' instead of an error "
        "(overrides a workload's own limits; repeatable)",
    )
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="skip the expensive result checks on the first repetition",
    )
    parser.add_argument("--python", default=sys.executable, help="interpreter for the workers")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print every run as it finishes"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _run_all(workloads: list[Workload], args, results: list[dict]) -> None:
    for wl in workloads:
        impls = wl.impl_names()
        if args.impl:
            impls = [i for i in impls if i in args.impl]
        if not impls:
            continue
        print(f"-- {wl.name}: {', '.join(impls)}", file=sys.stderr, flush=True)
        results.append(run_workload(wl, impls, args))


@contextlib.contextmanager
def _shared_cluster(workloads: list[Workload]):
    """One cluster for every ``cluster`` workload of the run, its address in the environment.

    The worker processes (``benchmarks/worker.py``) inherit the variable and
    connect to it, so chunkwise and Dask run on the very same cluster.
    """
    if not any(wl.group == "cluster" for wl in workloads):
        yield
        return
    from benchmarks.workloads.cluster import SCHEDULER_ENV, start_cluster

    with start_cluster() as cluster:
        os.environ[SCHEDULER_ENV] = cluster.scheduler_address
        print(f"-- cluster: {cluster.scheduler_address}", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            os.environ.pop(SCHEDULER_ENV, None)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.report:
        return report(args.report)
    load_errors = load_all()
    for module, error in load_errors.items():
        print(f"!! could not import workload module {module}: {error}", file=sys.stderr)

    if args.list:
        for w in WORKLOADS.values():
            target = "" if w.target is None else f"  [target ratio <= {w.target:.2f}]"
            print(f"{w.name:28s} {', '.join(w.impl_names()):24s} {w.description}{target}")
        return 1 if load_errors else 0

    workloads = select(args.only)
    info = machine_info()
    print(
        f"chunkwise {info['versions']['chunkwise']} vs dask {info['versions']['dask']} | "
        f"python {info['python']} | {info['cpu_count']} CPUs | repeat {args.repeat}"
        + (" | quick" if args.quick else ""),
        file=sys.stderr,
        flush=True,
    )
    results = []
    with _shared_cluster(workloads):
        _run_all(workloads, args, results)

    if hasattr(os, "getloadavg"):
        info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    document = {
        "machine": info,
        "settings": {
            "repeat": args.repeat,
            "quick": args.quick,
            "timeout_s": args.timeout,
            "verify": not args.no_verify,
            "command": " ".join(
                ["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]
            ),
        },
        "load_errors": load_errors,
        "workloads": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1, default=repr) + "\n")

    print()
    print(render_tables(results))
    print(f"\nraw results: {args.json}")
    return report_failures(results, load_errors)


def render_tables(results: list[dict]) -> str:
    """The tables printed after a run (and by ``--report``): main, baselines, CPU, extras."""
    parts = [markdown_table(results) + "\n\n" + TABLE_LEGEND]
    for table in (baselines_table(results), cpu_table(results), extras_table(results)):
        if table:
            parts.append(table)
    return "\n\n".join(parts)


def report_failures(results: list[dict], load_errors: dict) -> int:
    """Print the mismatches and errors on stderr; the exit status (1 if any)."""
    mismatches = [r["name"] for r in results if r["digests_match"] is False]
    errors = [
        f"{r['name']}/{impl}"
        for r in results
        for impl, s in r["impls"].items()
        if "error" in s or s.get("partial_error")
    ]
    if mismatches:
        print(f"RESULT MISMATCH: {', '.join(mismatches)}", file=sys.stderr)
    if errors:
        print(f"errors: {', '.join(errors)}", file=sys.stderr)
    return 1 if mismatches or errors or load_errors else 0


RESULT_KEYS = ("impls", "ratio", "user_ratio", "met", "handwritten_ratio", "digests_match", "digests")
"""What :func:`workload_result` derives from the runs; the rest of an entry describes the workload."""


def reread(document: dict) -> list[dict]:
    """A results file's workloads with everything derived recomputed from their raw runs.

    Files written before a figure existed (the user/system split, the user
    ratio) get it where the runs allow, ``None`` or ``—`` where they do not.
    """
    results = []
    for entry in document.get("workloads", []):
        description = {k: v for k, v in entry.items() if k not in RESULT_KEYS}
        runs = {impl: summary.get("runs", []) for impl, summary in entry["impls"].items()}
        results.append(workload_result(description, runs))
    return results


def report(paths: list[Path]) -> int:
    """``--report``: print the tables of one or more results files, without running anything."""
    results, load_errors = [], {}
    for path in paths:
        document = json.loads(path.read_text())
        machine, settings = document.get("machine", {}), document.get("settings", {})
        print(
            f"-- {path}: {settings.get('command', '?')} | {machine.get('date', '?')} | "
            f"commit {machine.get('git_commit', '?')} | load {machine.get('load_average', '?')}",
            file=sys.stderr,
        )
        results.extend(reread(document))
        load_errors.update(document.get("load_errors") or {})
    print()
    print(render_tables(results))
    return report_failures(results, load_errors)


if __name__ == "__main__":
    sys.exit(main())
