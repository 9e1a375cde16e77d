"""Metrics over lazy inputs, each in one pass: ``accuracy_score``, ``log_loss``, ``mean_squared_error``,
``mean_absolute_error``, ``r2_score``, ``confusion_matrix``, ``roc_auc_score``.

Design: when any argument is a chunkwise array (or series), the arguments are
aligned row block by row block (:func:`chunkwise.ml.validation.align_rows`:
lengths compared before anything runs, the others rechunked to the first
chunked one's rows), one task per row block computes the metric's partial
sums from its blocks, a tree merges them, and the result is computed once:
one pass, and a float (or a NumPy array) comes back. All in memory: these are
scikit-learn's functions, called as they are.

What each block contributes:

- ``accuracy_score``: weighted count of correct rows and total weight;
- ``mean_squared_error``/``mean_absolute_error``: weighted sums of squared
  (absolute) errors per output and the total weight;
- ``r2_score``: the error sums plus ``y_true``'s weighted count, mean and sum of
  squared deviations, merged pairwise (Chan), so no second pass for the mean;
- ``log_loss``: for each label seen, the summed ``-log p`` of every column
  (labels are known only after the pass; then each label picks its column);
- ``confusion_matrix``: weighted counts of each ``(true, predicted)`` pair;
- ``roc_auc_score``: for each label and score column, the distinct scores
  with their summed weights (exact AUC; the summary holds at most one entry
  per distinct score, so continuous scores of many rows make it large).

>>> import numpy as np
>>> import chunkwise.array as da
>>> y_true = da.from_array(np.array([0, 1, 1, 0, 1]), chunks=2)
>>> y_pred = da.from_array(np.array([0, 1, 0, 0, 1]), chunks=3)
>>> accuracy_score(y_true, y_pred)
0.8
>>> confusion_matrix(y_true, y_pred)
array([[2, 0],
       [1, 2]])
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn import metrics as sk

from chunkwise.delayed import delayed
from chunkwise.ml.validation import align_rows, is_chunked, tree_reduce

__all__ = [
    "accuracy_score",
    "confusion_matrix",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "r2_score",
    "roc_auc_score",
]


def _lazy(*arrays: Any) -> bool:
    return any(is_chunked(a) for a in arrays if a is not None)


def _pass(name: str, partial: Callable, combine: Callable, *arrays: Any) -> Any:
    """``partial(*blocks)`` for every aligned row block of ``arrays`` (``None`` passed as ``None``), merged, computed."""
    aligned = align_rows(name, *arrays)
    columns = []
    for a in aligned:
        if a is None:
            columns.append(None)
        else:
            columns.append([row[0] if a.ndim == 2 else row for row in a.to_delayed().tolist()])
    n_blocks = len(next(c for c in columns if c is not None))
    call = delayed(partial, pure=False)
    parts = [call(*[None if c is None else c[i] for c in columns]) for i in range(n_blocks)]
    return tree_reduce(parts, combine).compute()


def _add(a: Any, b: Any) -> Any:
    return tuple(x + y for x, y in zip(a, b))


def _weights(w: Any, n: int) -> np.ndarray:
    return np.ones(n) if w is None else np.asarray(w, dtype=np.float64)


def _average(name: str, values: np.ndarray, multioutput: Any, weights: np.ndarray | None = None) -> Any:
    if isinstance(multioutput, str):
        if multioutput == "raw_values":
            return values
        if multioutput == "uniform_average":
            return float(np.average(values))
        if multioutput == "variance_weighted" and weights is not None:
            return float(np.average(values, weights=weights)) if weights.sum() else float(np.average(values))
        raise ValueError(f"{name}: allowed 'multioutput' strings are 'raw_values', 'uniform_average'"
                         f"{', variance_weighted' if weights is not None else ''}; got {multioutput!r}")
    return float(np.average(values, weights=np.asarray(multioutput)))


# --- accuracy -----------------------------------------------------------------------------------


def _accuracy_block(y_true: np.ndarray, y_pred: np.ndarray, w: Any) -> tuple:
    correct = y_true == y_pred
    if correct.ndim == 2:
        correct = correct.all(axis=1)
    w = _weights(w, len(correct))
    return float((w * correct).sum()), float(w.sum())


def accuracy_score(y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None) -> float:
    """Accuracy classification score, as ``sklearn.metrics.accuracy_score`` (one pass over lazy input)."""
    if not _lazy(y_true, y_pred, sample_weight):
        return sk.accuracy_score(y_true, y_pred, normalize=normalize, sample_weight=sample_weight)
    correct, total = _pass("accuracy_score", _accuracy_block, _add, y_true, y_pred, sample_weight)
    return float(correct / total) if normalize else float(correct)


# --- regression errors and r2 -------------------------------------------------------------------


def _errors_block(y_true: np.ndarray, y_pred: np.ndarray, w: Any) -> tuple:
    y_true = y_true.reshape(len(y_true), -1).astype(np.float64)
    y_pred = y_pred.reshape(len(y_pred), -1).astype(np.float64)
    w = _weights(w, len(y_true))[:, None]
    diff = y_true - y_pred
    present = w > 0
    count = np.broadcast_to(w, y_true.shape).sum(axis=0)
    mean = np.where(count > 0, (w * y_true).sum(axis=0) / np.where(count > 0, count, 1), 0.0)
    m2 = (w * (y_true - mean) ** 2 * present).sum(axis=0)
    return (w * diff**2).sum(axis=0), (w * np.abs(diff)).sum(axis=0), count, mean, m2


def _merge_errors(a: tuple, b: tuple) -> tuple:
    n = a[2] + b[2]
    safe = np.where(n > 0, n, 1)
    delta = b[3] - a[3]
    mean = a[3] + delta * b[2] / safe
    m2 = a[4] + b[4] + delta**2 * a[2] * b[2] / safe
    return a[0] + b[0], a[1] + b[1], n, mean, m2


def _errors(name: str, y_true: Any, y_pred: Any, sample_weight: Any) -> tuple:
    return _pass(name, _errors_block, _merge_errors, y_true, y_pred, sample_weight)


def mean_squared_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                       multioutput: Any = "uniform_average") -> Any:
    """Mean squared error, as ``sklearn.metrics.mean_squared_error`` (one pass over lazy input)."""
    if not _lazy(y_true, y_pred, sample_weight):
        return sk.mean_squared_error(y_true, y_pred, sample_weight=sample_weight, multioutput=multioutput)
    squared, _, count, _, _ = _errors("mean_squared_error", y_true, y_pred, sample_weight)
    return _average("mean_squared_error", squared / count, multioutput)


def mean_absolute_error(y_true: Any, y_pred: Any, *, sample_weight: Any = None,
                        multioutput: Any = "uniform_average") -> Any:
    """Mean absolute error, as ``sklearn.metrics.mean_absolute_error`` (one pass over lazy input)."""
    if not _lazy(y_true, y_pred, sample_weight):
        return sk.mean_absolute_error(y_true, y_pred, sample_weight=sample_weight, multioutput=multioutput)
    _, absolute, count, _, _ = _errors("mean_absolute_error", y_true, y_pred, sample_weight)
    return _average("mean_absolute_error", absolute / count, multioutput)


def r2_score(y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: Any = "uniform_average",
             force_finite: bool = True) -> Any:
    """R² (coefficient of determination), as ``sklearn.metrics.r2_score`` (one pass over lazy input)."""
    if not _lazy(y_true, y_pred, sample_weight):
        return sk.r2_score(y_true, y_pred, sample_weight=sample_weight, multioutput=multioutput,
                           force_finite=force_finite)
    squared, _, count, _, total = _errors("r2_score", y_true, y_pred, sample_weight)
    if np.max(count) < 2 and sample_weight is None:
        warnings.warn("R^2 score is not well-defined with less than two samples.", sk.UndefinedMetricWarning,
                      stacklevel=2)
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = 1 - squared / total
    if force_finite:
        scores = np.where(total == 0, np.where(squared == 0, 1.0, 0.0), scores)
    if multioutput == "variance_weighted":
        if force_finite and not total.any():
            return 1.0 if not squared.any() else 0.0
        return _average("r2_score", scores, multioutput, weights=total)
    return _average("r2_score", scores, multioutput)


# --- log loss -----------------------------------------------------------------------------------


def _log_loss_block(y_true: np.ndarray, y_proba: np.ndarray, w: Any) -> tuple:
    y_proba = np.asarray(y_proba, dtype=np.float64)
    if y_proba.ndim == 1:
        y_proba = y_proba[:, None]
    if y_proba.shape[1] == 1:
        y_proba = np.hstack([1 - y_proba, y_proba])
    if y_proba.size and (y_proba.max() > 1 or y_proba.min() < 0):
        raise ValueError(f"log_loss: y_prob contains values outside [0, 1]: {y_proba.min()} .. {y_proba.max()}")
    sums = y_proba.sum(axis=1)
    unnormalized = bool((~np.isclose(sums, 1, rtol=np.sqrt(np.finfo(np.float64).eps))).any())
    eps = np.finfo(np.float64).eps
    neg_log = -np.log(np.clip(y_proba, eps, 1 - eps))
    w = _weights(w, len(y_true))
    per_label = {}
    for label in np.unique(y_true):
        rows = y_true == label
        per_label[label] = (w[rows, None] * neg_log[rows]).sum(axis=0)
    return per_label, float(w.sum()), unnormalized


def _merge_log_loss(a: tuple, b: tuple) -> tuple:
    merged = dict(a[0])
    for label, values in b[0].items():
        merged[label] = merged[label] + values if label in merged else values
    return merged, a[1] + b[1], a[2] or b[2]


def log_loss(y_true: Any, y_proba: Any = None, *, normalize: bool = True, sample_weight: Any = None,
             labels: Any = None, y_pred: Any = None) -> float:
    """Log loss (cross-entropy), as ``sklearn.metrics.log_loss`` (one pass over lazy input).

    ``y_proba``: ``(n, n_classes)`` probabilities, columns in sorted label
    order (or of ``labels``), or 1-D probabilities of the positive class.
    ``y_pred`` is the name scikit-learn used before 1.9.
    """
    if y_proba is None:
        y_proba = y_pred
    if not _lazy(y_true, y_proba, sample_weight):
        return sk.log_loss(y_true, y_proba, normalize=normalize, sample_weight=sample_weight, labels=labels)
    per_label, total, unnormalized = _pass("log_loss", _log_loss_block, _merge_log_loss, y_true, y_proba,
                                           sample_weight)
    classes = np.unique(np.asarray(labels)) if labels is not None else np.array(sorted(per_label))
    n_columns = max(len(v) for v in per_label.values())
    if len(classes) == 1 and labels is None:
        raise ValueError("log_loss: y_true contains only one label "
                         f"({classes[0]}). Please provide the list of all expected class labels explicitly "
                         "through the labels argument.")
    if len(classes) != n_columns:
        if labels is None:
            raise ValueError(f"log_loss: y_true and y_prob contain different number of classes: {len(classes)} vs "
                             f"{n_columns}. Please provide the true labels explicitly through the labels argument. "
                             f"Classes found in y_true: {classes}")
        raise ValueError(f"log_loss: the number of classes in labels is different from that in y_prob. Classes "
                         f"found in labels: {classes}")
    unknown = [label for label in per_label if label not in set(classes.tolist())]
    if unknown:
        raise ValueError(f"log_loss: y_true contains values {unknown} not belonging to the passed labels {classes}.")
    if unnormalized:
        warnings.warn("The y_prob values do not sum to one. Make sure to pass probabilities.", UserWarning,
                      stacklevel=2)
    position = {label: i for i, label in enumerate(classes.tolist())}
    loss = sum(float(values[position[label]]) for label, values in per_label.items())
    return loss / total if normalize else loss


# --- confusion matrix ---------------------------------------------------------------------------


def _pair_counts(y_true: np.ndarray, y_pred: np.ndarray, w: Any) -> dict:
    w = _weights(w, len(y_true))
    counts: dict = {}
    if len(y_true) == 0:
        return counts
    true_values, true_codes = np.unique(y_true, return_inverse=True)
    pred_values, pred_codes = np.unique(y_pred, return_inverse=True)
    table = np.zeros((len(true_values), len(pred_values)))
    np.add.at(table, (true_codes.ravel(), pred_codes.ravel()), w)
    for i, t in enumerate(true_values.tolist()):
        for j, p in enumerate(pred_values.tolist()):
            if table[i, j]:
                counts[(t, p)] = table[i, j]
    return counts


def _merge_counts(a: dict, b: dict) -> dict:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = merged.get(key, 0) + value
    return merged


def confusion_matrix(y_true: Any, y_pred: Any, *, labels: Any = None, sample_weight: Any = None,
                     normalize: Any = None) -> np.ndarray:
    """Confusion matrix, as ``sklearn.metrics.confusion_matrix`` (one pass over lazy input)."""
    if not _lazy(y_true, y_pred, sample_weight):
        return sk.confusion_matrix(y_true, y_pred, labels=labels, sample_weight=sample_weight, normalize=normalize)
    if normalize not in ("true", "pred", "all", None):
        raise ValueError("normalize must be one of {'true', 'pred', 'all', None}")
    counts = _pass("confusion_matrix", _pair_counts, _merge_counts, y_true, y_pred, sample_weight)
    if labels is None:
        labels = sorted({t for t, _ in counts} | {p for _, p in counts})
    labels = list(np.asarray(labels).tolist())
    if not labels:
        raise ValueError("'labels' should contains at least one label.")
    position = {label: i for i, label in enumerate(labels)}
    matrix = np.zeros((len(labels), len(labels)))
    for (t, p), value in counts.items():
        if t in position and p in position:
            matrix[position[t], position[p]] += value
    if sample_weight is None and normalize is None:
        matrix = matrix.astype(np.int64)
    with np.errstate(all="ignore"):
        if normalize == "true":
            matrix = matrix / matrix.sum(axis=1, keepdims=True)
        elif normalize == "pred":
            matrix = matrix / matrix.sum(axis=0, keepdims=True)
        elif normalize == "all":
            matrix = matrix / matrix.sum()
    return np.nan_to_num(matrix) if normalize is not None else matrix


# --- roc_auc_score ------------------------------------------------------------------------------


def _score_summary(scores: np.ndarray, w: np.ndarray) -> tuple:
    values, inverse = np.unique(scores, return_inverse=True)
    return values, np.bincount(inverse.ravel(), weights=w, minlength=len(values))


def _roc_block(y_true: np.ndarray, y_score: np.ndarray, w: Any) -> dict:
    y_score = np.asarray(y_score, dtype=np.float64)
    y_score = y_score[:, None] if y_score.ndim == 1 else y_score
    w = _weights(w, len(y_true))
    out = {}
    for label in np.unique(y_true).tolist():
        rows = y_true == label
        out[label] = [_score_summary(y_score[rows, k], w[rows]) for k in range(y_score.shape[1])]
    return out


def _merge_summaries(a: tuple, b: tuple) -> tuple:
    values, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    return values, np.bincount(inverse.ravel(), weights=np.concatenate([a[1], b[1]]), minlength=len(values))


def _merge_roc(a: dict, b: dict) -> dict:
    merged = dict(a)
    for label, columns in b.items():
        merged[label] = [_merge_summaries(x, y) for x, y in zip(merged[label], columns)] if label in merged \
            else columns
    return merged


def _binary_auc(positives: tuple, negatives: tuple, max_fpr: Any) -> float:
    values, inverse = np.unique(np.concatenate([positives[0], negatives[0]]), return_inverse=True)
    pos = np.bincount(inverse[:len(positives[0])], weights=positives[1], minlength=len(values))[::-1]
    neg = np.bincount(inverse[len(positives[0]):], weights=negatives[1], minlength=len(values))[::-1]
    if pos.sum() == 0 or neg.sum() == 0:
        raise ValueError("Only one class is present in y_true. ROC AUC score is not defined in that case.")
    tpr = np.concatenate([[0.0], np.cumsum(pos) / pos.sum()])
    fpr = np.concatenate([[0.0], np.cumsum(neg) / neg.sum()])
    if max_fpr is None or max_fpr == 1:
        return float(np.trapezoid(tpr, fpr))
    if not 0 < max_fpr <= 1:
        raise ValueError(f"Expected max_fpr in range (0, 1], got: {max_fpr}")
    stop = np.searchsorted(fpr, max_fpr, "right")
    x_interp = [fpr[stop - 1], fpr[stop]]
    y_interp = [tpr[stop - 1], tpr[stop]]
    tpr = np.append(tpr[:stop], np.interp(max_fpr, x_interp, y_interp))
    fpr = np.append(fpr[:stop], max_fpr)
    partial_auc = np.trapezoid(tpr, fpr)
    min_area = 0.5 * max_fpr**2
    return float(0.5 * (1 + (partial_auc - min_area) / (max_fpr - min_area)))


def roc_auc_score(y_true: Any, y_score: Any, *, average: Any = "macro", sample_weight: Any = None,
                  max_fpr: Any = None, multi_class: str = "raise", labels: Any = None) -> float:
    """Area under the ROC curve, as ``sklearn.metrics.roc_auc_score`` (one pass over lazy input, exact).

    Chunked input: binary labels with 1-D scores (of the greater label), or
    multiclass ``(n, n_classes)`` probabilities with ``multi_class="ovr"``
    (``average`` ``"macro"`` or ``"weighted"``); multilabel indicator
    targets and ``multi_class="ovo"`` are supported for in-memory input only.
    """
    if not _lazy(y_true, y_score, sample_weight):
        return sk.roc_auc_score(y_true, y_score, average=average, sample_weight=sample_weight, max_fpr=max_fpr,
                                multi_class=multi_class, labels=labels)
    name = "roc_auc_score"
    if getattr(y_true, "ndim", 1) != 1:
        raise NotImplementedError(f"{name}: multilabel targets are supported for in-memory input only")
    per_label = _pass(name, _roc_block, _merge_roc, y_true, y_score, sample_weight)
    classes = sorted(per_label) if labels is None else list(labels)
    n_columns = len(next(iter(per_label.values())))
    if n_columns == 1 or (n_columns == 2 and len(classes) == 2):
        if len(classes) > 2:
            raise ValueError(f"{name}: y_score is 1-D but y_true has {len(classes)} classes; pass probabilities "
                             "of shape (n_samples, n_classes) with multi_class='ovr'")
        if len(classes) < 2:
            raise ValueError("Only one class is present in y_true. ROC AUC score is not defined in that case.")
        column = 0 if n_columns == 1 else 1
        return _binary_auc(per_label[classes[1]][column], per_label[classes[0]][column], max_fpr)
    if multi_class != "ovr":
        raise ValueError(f"{name}: multi_class must be 'ovr' for multiclass chunked input (got {multi_class!r}; "
                         "'ovo' is supported for in-memory input only)")
    if max_fpr is not None and max_fpr != 1:
        raise ValueError("Partial AUC computation not available in multiclass setting, 'max_fpr' must be set to "
                         f"`None`, received `max_fpr={max_fpr}` instead")
    if len(classes) != n_columns:
        raise ValueError(f"{name}: number of classes in y_true ({len(classes)}) not equal to the number of columns "
                         f"in 'y_score' ({n_columns})")
    scores, prevalence = [], []
    for k, label in enumerate(classes):
        positives = per_label.get(label, [(np.array([]), np.array([]))] * n_columns)[k]
        negative_parts = [per_label[other][k] for other in classes if other != label and other in per_label]
        negatives = (np.concatenate([p[0] for p in negative_parts]), np.concatenate([p[1] for p in negative_parts]))
        scores.append(_binary_auc(positives, negatives, None))
        prevalence.append(positives[1].sum())
    if average == "weighted":
        return float(np.average(scores, weights=prevalence))
    if average == "macro":
        return float(np.mean(scores))
    raise ValueError(f"{name}: average must be 'macro' or 'weighted' for multiclass chunked input, got {average!r}")
