"""Machine-learning workloads: ``chunkwise.ml`` against dask-ml (``dask``) and scikit-learn (``sklearn``).

Targets, from the ML issue: fit time at most 0.5x dask-ml's fastest solver on
every workload dask-ml covers; accuracy within 0.5 points of scikit-learn's;
peak RSS no higher than dask-ml's.

The same data everywhere: generated once in setup (untimed) with scikit-learn's
``make_classification``/``make_regression`` and ``train_test_split`` (fixed
seeds), then wrapped with each library's ``from_array`` in 100,000-row chunks
(scikit-learn gets the NumPy arrays). Only ``fit`` is timed, and the peak RSS is the fit's (the
high-water mark is reset after setup: ``peak="run"``; it includes the
training data resident before the fit, ``rss_before_mib`` in the JSON, and
the table shows the fit's increase over it too); its model is then
scored on the test rows (untimed) and the score reported as an extra figure,
with the number of passes over the data (chunkwise counts them) and solver
iterations. The digest is skipped: models differ in the last digits.

dask-ml runs its fastest solver where it has several: ``newton`` for the
logistic regressions (its default, ``admm``, took 152 s on the seed example),
``lbfgs`` for least squares. dask-ml's ``LogisticRegression`` is binary only:
on the 10-class workload it runs and reports its (wrong) accuracy. That
workload is therefore not the same work on both sides (51 parameters against
510): chunkwise's fit is 6 passes of about 0.16 CPU-s each (two 750k x 50 x
10 products and a softmax per pass) plus a 0.4 CPU-s start on the first
block; see ``docs/ml.md`` ("Benchmarks").

scikit-learn (``sklearn``) fits the same NumPy arrays in memory with its
defaults, which are chunkwise's too: ``LogisticRegression()`` is ``lbfgs``
with ``tol=1e-4``, ``max_iter=100``, multinomial for 10 classes (scikit-learn
1.9 has no other multiclass mode for ``lbfgs``); ``KMeans`` is one k-means++
start (``n_init=1``) with ``max_iter=300``. Each scikit-learn fit may take at
most :data:`SKLEARN_LIMIT_S` (its 10-class fit took more than 600 s on a
loaded machine): past it, the table shows ``> 600 s`` and the run goes on.

``python -m benchmarks.workloads.ml RESULTS.json [...]`` prints the ML table
the issue asks for (fit time, CPU, passes, iterations, score, peak RSS, the
ratio to dask-ml and the score's distance to scikit-learn's) from one or
more result files of ``python -m benchmarks`` (several locked runs merge).
"""

from __future__ import annotations

from benchmarks.registry import Prepared, workload

GROUP = "ml"
TARGET = 0.5
TARGET_NOTE = "fit time <= 0.5x dask-ml's fastest solver, accuracy within 0.5 points of scikit-learn's"
CHUNK_ROWS = 100_000
SKLEARN_LIMIT_S = 600
LIMITS = {"sklearn": SKLEARN_LIMIT_S}
PEAK = "run"
"""Peak RSS of the fit alone: the worker resets the high-water mark after the (untimed) setup."""


def _classification(n: int, features: int, classes: int = 2):
    from sklearn.datasets import make_classification
    from sklearn.model_selection import train_test_split

    X, y = make_classification(n_samples=n, n_features=features, n_informative=min(features, 10),
                               n_classes=classes, random_state=0)
    return train_test_split(X, y, random_state=0)


def _regression(n: int, features: int):
    from sklearn.datasets import make_regression
    from sklearn.model_selection import train_test_split

    X, y = make_regression(n_samples=n, n_features=features, noise=5.0, random_state=0)
    return train_test_split(X, y, random_state=0)


def _wrap(impl: str, *arrays):
    if impl == "sklearn":
        return arrays
    if impl == "chunkwise":
        import chunkwise.array as da
    else:
        import dask.array as da
    return tuple(da.from_array(a, chunks=(CHUNK_ROWS,) + a.shape[1:]) for a in arrays)


def _fit_then_score(impl: str, model, X_train, y_train, score, warm) -> Prepared:
    """Time ``model.fit``; report ``score(model)`` (untimed), passes and iterations as extras."""
    prepared = Prepared(run=lambda: None, digest=lambda result: None, warmup=warm)

    def run():
        if impl == "chunkwise":
            from chunkwise.ml.passes import passes_counter

            with passes_counter() as passes:
                model.fit(X_train, y_train)
            prepared.extra["passes"] = passes()
        else:
            model.fit(X_train, y_train)
        prepared.extra["score"] = round(float(score(model)), 4)
        n_iter = getattr(model, "n_iter_", None)
        if n_iter is not None:
            prepared.extra["n_iter"] = int(max(list(getattr(n_iter, "ravel", lambda: [n_iter])()) or [0]))
        return None

    prepared.run = run
    return prepared


def _estimator(impl: str, kind: str, **kwargs):
    if impl == "chunkwise":
        from chunkwise.ml import cluster, decomposition, linear_model
        modules = {"linear_model": linear_model, "cluster": cluster, "decomposition": decomposition}
    elif impl == "dask":
        import dask_ml.cluster
        import dask_ml.decomposition
        import dask_ml.linear_model
        modules = {"linear_model": dask_ml.linear_model, "cluster": dask_ml.cluster,
                   "decomposition": dask_ml.decomposition}
    else:
        import sklearn.cluster
        import sklearn.decomposition
        import sklearn.linear_model
        modules = {"linear_model": sklearn.linear_model, "cluster": sklearn.cluster,
                   "decomposition": sklearn.decomposition}
    module, name = kind.split(".")
    return getattr(modules[module], name)(**kwargs)


def _accuracy(X_test, y_test):
    import numpy as np

    def score(model):
        pred = model.predict(X_test)
        pred = np.asarray(pred.compute() if hasattr(pred, "compute") else pred)
        return float(np.mean(pred == y_test))

    return score


def _r2(X_test, y_test):
    import numpy as np

    def score(model):
        pred = model.predict(X_test)
        pred = np.asarray(pred.compute() if hasattr(pred, "compute") else pred)
        return 1 - np.sum((y_test - pred) ** 2) / np.sum((y_test - y_test.mean()) ** 2)

    return score


def _warm(impl: str, kind: str, kwargs: dict, supervised: bool = True, features: int = 20):
    """A tiny fit of the same estimator: imports and thread pools are not timed."""

    def warm():
        X_train, _, y_train, _ = _classification(2_000, features)
        X, y = _wrap(impl, X_train, y_train)
        _estimator(impl, kind, **kwargs).fit(X, y if supervised else None)

    return warm


# --- the workloads -------------------------------------------------------------------------------

LOGISTIC = {
    "chunkwise": {},
    "dask": {"solver": "newton"},
    "sklearn": {},
}

seed = workload(
    "ml_logistic_seed",
    "the seed example: LogisticRegression fit on 750k x 20 (1M rows split 3:1), 100k-row chunks",
    params={"n": 1_000_000, "features": 20}, quick={"n": 20_000, "features": 20},
    target=TARGET, target_note=TARGET_NOTE, group=GROUP, limits=LIMITS, peak=PEAK,
)

multinomial = workload(
    "ml_logistic_multinomial",
    "10-class LogisticRegression fit on 750k x 50 (dask-ml: binary only, wrong answer)",
    params={"n": 1_000_000, "features": 50, "classes": 10}, quick={"n": 20_000, "features": 50, "classes": 10},
    target=TARGET, target_note=TARGET_NOTE, group=GROUP, limits=LIMITS, peak=PEAK,
)

linear = workload(
    "ml_linear_regression",
    "LinearRegression fit on 750k x 20, 100k-row chunks",
    params={"n": 1_000_000, "features": 20}, quick={"n": 20_000, "features": 20},
    target=TARGET, target_note=TARGET_NOTE, group=GROUP, limits=LIMITS, peak=PEAK,
)

kmeans = workload(
    "ml_kmeans8",
    "KMeans(8) fit on 1M x 20 (k-means|| init for the chunked sides, k-means++ for scikit-learn)",
    params={"n": 1_000_000, "features": 20}, quick={"n": 20_000, "features": 20},
    target=TARGET, target_note=TARGET_NOTE, group=GROUP, limits=LIMITS, peak=PEAK,
)

pca = workload(
    "ml_pca10",
    "PCA(10) fit on 1M x 20 (TSQR for the chunked sides, full SVD for scikit-learn)",
    params={"n": 1_000_000, "features": 20}, quick={"n": 20_000, "features": 20},
    target=TARGET, target_note=TARGET_NOTE, group=GROUP, limits=LIMITS, peak=PEAK,
)


def _logistic(impl: str, n: int, features: int, classes: int = 2) -> Prepared:
    X_train, X_test, y_train, y_test = _classification(n, features, classes)
    X, y = _wrap(impl, X_train, y_train)
    (Xt,) = _wrap(impl, X_test)
    kwargs = LOGISTIC[impl]
    model = _estimator(impl, "linear_model.LogisticRegression", **kwargs)
    return _fit_then_score(impl, model, X, y, _accuracy(Xt, y_test),
                           _warm(impl, "linear_model.LogisticRegression", kwargs))


def _linear(impl: str, n: int, features: int) -> Prepared:
    X_train, X_test, y_train, y_test = _regression(n, features)
    X, y = _wrap(impl, X_train, y_train)
    (Xt,) = _wrap(impl, X_test)
    kwargs = {"solver": "lbfgs"} if impl == "dask" else {}
    model = _estimator(impl, "linear_model.LinearRegression", **kwargs)
    return _fit_then_score(impl, model, X, y, _r2(Xt, y_test), _warm(impl, "linear_model.LinearRegression", kwargs))


def _kmeans(impl: str, n: int, features: int) -> Prepared:
    from sklearn.datasets import make_blobs

    data, _ = make_blobs(n_samples=n, n_features=features, centers=8, cluster_std=4.0, random_state=0)
    (X,) = _wrap(impl, data)
    kwargs = {"n_clusters": 8, "random_state": 0}
    if impl == "sklearn":
        kwargs["n_init"] = 1
    model = _estimator(impl, "cluster.KMeans", **kwargs)
    return _fit_then_score(impl, model, X, None, lambda m: float(m.inertia_) / n,
                           _warm(impl, "cluster.KMeans", kwargs, supervised=False, features=features))


def _pca(impl: str, n: int, features: int) -> Prepared:
    import numpy as np

    rng = np.random.default_rng(0)
    data = rng.normal(size=(n, features)) @ rng.normal(size=(features, features))
    (X,) = _wrap(impl, data)
    kwargs = {"n_components": 10}
    kwargs["svd_solver"] = "tsqr" if impl != "sklearn" else "full"
    model = _estimator(impl, "decomposition.PCA", **kwargs)
    return _fit_then_score(impl, model, X, None, lambda m: float(np.sum(m.explained_variance_ratio_)),
                           _warm(impl, "decomposition.PCA", kwargs, supervised=False, features=features))


for _name in ("chunkwise", "dask", "sklearn"):
    seed.impl(_name)(lambda n, features, _impl=_name: _logistic(_impl, n, features))
    multinomial.impl(_name)(lambda n, features, classes, _impl=_name: _logistic(_impl, n, features, classes))
    linear.impl(_name)(lambda n, features, _impl=_name: _linear(_impl, n, features))
    kmeans.impl(_name)(lambda n, features, _impl=_name: _kmeans(_impl, n, features))
    pca.impl(_name)(lambda n, features, _impl=_name: _pca(_impl, n, features))


# --- the table ------------------------------------------------------------------------------------

IMPLS = ("chunkwise", "dask", "sklearn")


def merge_results(documents: list[dict]) -> list[dict]:
    """The ML workloads of several result documents; a later document's implementations replace earlier ones."""
    merged: dict[str, dict] = {}
    for document in documents:
        for result in document["workloads"]:
            if result.get("group") != GROUP:
                continue
            entry = merged.setdefault(result["name"], {"name": result["name"], "impls": {}})
            entry["impls"].update(result["impls"])
    return list(merged.values())


def _fmt(value, spec: str, suffix: str = "") -> str:
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _peak_cell(summary: dict) -> str:
    """The peak RSS; one of the whole process (a result file from before ``peak="run"``) says so."""
    text = _fmt(summary.get("median_peak_rss_mib"), ".0f", " MiB")
    return text if summary.get("peak_rss_scope") == "run" else text + " (process)"


def _increase(summary: dict):
    """Median over the runs of the fit's peak minus the RSS before it (MiB); ``None`` for a process peak."""
    if summary.get("peak_rss_scope") != "run":
        return None
    import statistics

    values = [r["peak_rss_mib"] - r["rss_before_mib"] for r in summary.get("runs", [])
              if r.get("peak_rss_mib") is not None and r.get("rss_before_mib") is not None]
    return statistics.median(values) if values else None


def ml_table(results: list[dict]) -> str:
    """One row per workload and implementation: fit time, CPU, passes, n_iter, score, peak RSS, ratios."""
    header = ["workload", "impl", "fit (median)", "CPU", "passes", "n_iter", "score", "score vs sklearn",
              "peak RSS (fit)", "fit's increase", "÷ dask-ml (≤ 0.5)", "RSS ≤ dask-ml"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for result in results:
        impls = result["impls"]
        dask = impls.get("dask") or {}
        ref_score = ((impls.get("sklearn") or {}).get("median_extra") or {}).get("score")
        for impl in IMPLS:
            summary = impls.get(impl)
            if summary is None:
                continue
            if "over_limit_s" in summary:
                lines.append(f"| {result['name']} | {impl} | > {summary['over_limit_s']:g} s |"
                             + " — |" * (len(header) - 3))
                continue
            if "error" in summary:
                lines.append(f"| {result['name']} | {impl} | error |" + " — |" * (len(header) - 3))
                continue
            extra = summary.get("median_extra") or {}
            wall, score = summary["median_wall_s"], extra.get("score")
            ratio = wall / dask["median_wall_s"] if impl == "chunkwise" and dask.get("median_wall_s") else None
            gap = None
            if score is not None and ref_score is not None and impl != "sklearn":
                # accuracy (and R²) in points; inertia per row and explained variance relative to scikit-learn's
                gap = (f"{(score - ref_score) * 100:+.2f} pt" if result["name"].startswith(("ml_logistic", "ml_linear"))
                       else f"{(score / ref_score - 1) * 100:+.2f} %")
            rss_ok = None
            if impl == "chunkwise" and dask.get("median_peak_rss_mib"):
                rss_ok = "yes" if round(summary["median_peak_rss_mib"]) <= round(dask["median_peak_rss_mib"]) else "**no**"
            lines.append("| " + " | ".join([
                result["name"], impl, _fmt(wall, ".2f", " s"), _fmt(summary.get("median_cpu_s"), ".2f", " s"),
                _fmt(extra.get("passes"), ".0f"), _fmt(extra.get("n_iter"), ".0f"), _fmt(score, ".4f"),
                gap or "—", _peak_cell(summary), _fmt(_increase(summary), ".0f", " MiB"),
                "—" if ratio is None else f"{ratio:.2f}" + ("" if ratio <= TARGET else " **!**"),
                rss_ok or "—",
            ]) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    import json
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m benchmarks.workloads.ml",
                                     description="The ML table from result files of python -m benchmarks.")
    parser.add_argument("results", nargs="+", type=Path)
    args = parser.parse_args(argv)
    print(ml_table(merge_results([json.loads(path.read_text()) for path in args.results])))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
