"""Evaluation as the field reports it: MAE, Pearson r, Acc-2, F1, Acc-7; bootstrap CIs; seed aggregates.

Conventions (those of the CMU-MOSI/MOSEI literature, e.g. the MMSA toolkit):

- **Acc-2 has-0**: all segments; negative (< 0) against non-negative (>= 0), for labels and
  predictions alike. **Acc-2 non-0**: segments with a label of exactly 0 are left out; positive
  (> 0) against negative (< 0). Each comes with its **F1**, weighted by class support.
- **Acc-7**: labels and predictions clipped to [-3, 3] and rounded to the nearest integer.
- **r**: Pearson correlation (scipy); undefined (NaN) when the predictions are constant.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error

METRICS = ("mae", "r", "acc2_has0", "f1_has0", "acc2_non0", "f1_non0", "acc7")


def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as 1-d float64 arrays of one length with finite values, or a ValueError."""
    t = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(y_pred, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} values, y_pred {p.size}")
    if t.size < 2:
        raise ValueError(f"metrics need at least 2 segments, got {t.size}")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError(
            "y_true and y_pred must be finite (unlabelled segments filtered out first)"
        )
    return t, p


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson r (scipy); NaN when either side is constant."""
    t, p = _check_pair(y_true, y_pred)
    if np.ptp(t) == 0 or np.ptp(p) == 0:
        return float("nan")
    return float(stats.pearsonr(t, p).statistic)


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, r, Acc-2 and F1 (has-0 and non-0), Acc-7 of predictions against labels."""
    t, p = _check_pair(y_true, y_pred)
    out = {"mae": float(mean_absolute_error(t, p)), "r": pearson(t, p)}
    out["acc2_has0"] = float(accuracy_score(t >= 0, p >= 0))
    out["f1_has0"] = float(f1_score(t >= 0, p >= 0, average="weighted"))
    nz = t != 0
    if nz.any():
        out["acc2_non0"] = float(accuracy_score(t[nz] > 0, p[nz] > 0))
        out["f1_non0"] = float(f1_score(t[nz] > 0, p[nz] > 0, average="weighted"))
    else:
        out["acc2_non0"] = out["f1_non0"] = float("nan")
    out["acc7"] = float(accuracy_score(np.round(np.clip(t, -3, 3)), np.round(np.clip(p, -3, 3))))
    return out


# ----------------------------------------------------------------- bootstrap confidence intervals
def _mae_stat(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(np.abs(t - p), axis=axis)


def _r_stat(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    tc = t - t.mean(axis=axis, keepdims=True)
    pc = p - p.mean(axis=axis, keepdims=True)
    den = np.sqrt((tc * tc).sum(axis=axis) * (pc * pc).sum(axis=axis))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (tc * pc).sum(axis=axis) / den, np.nan)


def _acc2_non0_stat(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    nz = t != 0
    correct = ((t > 0) == (p > 0)) & nz
    with np.errstate(invalid="ignore", divide="ignore"):
        return correct.sum(axis=axis) / nz.sum(axis=axis)


def _acc7_stat(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(np.round(np.clip(t, -3, 3)) == np.round(np.clip(p, -3, 3)), axis=axis)


def spread_ratio(values: np.ndarray, reference: np.ndarray) -> float:
    """How widely ``values`` spread against ``reference``: 1 for the same spread, 0 for one point.

    For predictions against labels (1-d), sd(predictions) / sd(labels); for vectors (rows of a
    2-d array, e.g. adapted against true features), the total standard deviation over the
    reference's, sqrt(sum of column variances / the reference's sum).
    """
    if np.ndim(values) == 1:  # in the values' own precision, as the chapters have always shown
        return float(np.std(values) / np.std(reference))
    v, r = np.asarray(values, float), np.asarray(reference, float)
    return float(np.sqrt(v.var(axis=0).sum() / r.var(axis=0).sum()))


def _spread_stat(t: np.ndarray, p: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.std(p, axis=axis) / np.std(t, axis=axis)


# vectorised statistics for scipy.stats.bootstrap (paired resampling of labels and predictions);
# "spread" is sd(predictions) / sd(labels)
BOOTSTRAP_STATS: dict[str, Callable] = {
    "mae": _mae_stat,
    "r": _r_stat,
    "acc2_non0": _acc2_non0_stat,
    "acc7": _acc7_stat,
    "spread": _spread_stat,
}


def _bootstrap_stat(metric: str) -> Callable:
    """The vectorised statistic of ``metric``, or a ValueError naming the known ones."""
    if metric not in BOOTSTRAP_STATS:
        raise ValueError(f"no bootstrap statistic for '{metric}' (known: {list(BOOTSTRAP_STATS)})")
    return BOOTSTRAP_STATS[metric]


def bootstrap_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    metric: str = "r",
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
    method: str = "BCa",
) -> tuple[float, float, float]:
    """(estimate, low, high): a paired bootstrap CI of one metric (``scipy.stats.bootstrap``)."""
    stat = _bootstrap_stat(metric)
    t, p = _check_pair(y_true, y_pred)
    res = stats.bootstrap(
        (t, p),
        stat,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method=method,
        rng=np.random.default_rng(seed),
    )
    return (
        float(stat(t, p)),
        float(res.confidence_interval.low),
        float(res.confidence_interval.high),
    )


def _seed_mean_stat(stat: Callable, n_first: int) -> Callable:
    """(label, preds...) -> mean ``stat`` of the first ``n_first`` preds less that of the rest."""

    def f(t, *preds, axis=-1):
        vals = np.stack([stat(t, p, axis=axis) for p in preds])
        first = np.nanmean(vals[:n_first], axis=0)
        return first - np.nanmean(vals[n_first:], axis=0) if n_first < len(preds) else first

    return f


def seed_mean_ci(
    y_true: np.ndarray,
    preds: Sequence[np.ndarray],
    metric: str = "r",
    minus: Sequence[np.ndarray] = (),
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Seed-mean metric of ``preds`` (less that of ``minus``) and its percentile bootstrap CI."""
    stat = _seed_mean_stat(_bootstrap_stat(metric), len(preds))
    data = (np.asarray(y_true, np.float64), *(np.asarray(p, np.float64) for p in (*preds, *minus)))
    res = stats.bootstrap(
        data,
        stat,
        paired=True,
        vectorized=True,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    ci = res.confidence_interval
    return float(stat(*data)), float(ci.low), float(ci.high)


def two_level_ci(
    y_true: np.ndarray,
    preds: Sequence[np.ndarray],
    metric: str = "r",
    minus: Sequence[np.ndarray] = (),
    n_resamples: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Seed-mean metric of ``preds`` (less that of ``minus``) and a percentile interval that
    resamples seeds and test segments together: a two-level bootstrap.

    :func:`seed_mean_ci` resamples segments of fixed seeds, so a rerun whose training randomness
    (seeds, floating-point paths of another machine) differs can fall outside it. Here each
    replicate draws the seeds with replacement, then the segments with replacement, and averages
    the metric over the drawn seeds. Where ``preds`` and ``minus`` have as many seeds, the seeds
    are drawn paired by position (seed *i* of one with seed *i* of the other, as runs that share
    a seed share their initialisation); else each side's seeds are drawn on their own. One seed
    on both sides leaves the segment level alone. (A hierarchical bootstrap has no routine in
    scipy.stats, whose ``bootstrap`` resamples one level; hence this function.)
    """
    stat = _bootstrap_stat(metric)
    y = np.asarray(y_true, np.float64)
    first = np.stack([np.asarray(p, np.float64) for p in preds])
    second = np.stack([np.asarray(p, np.float64) for p in minus]) if len(minus) else None
    if first.shape[1] != len(y) or (second is not None and second.shape[1] != len(y)):
        raise ValueError(f"predictions of {first.shape[1]} segments against {len(y)} labels")

    def mean_stat(labels: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.nanmean(stat(labels, p, axis=-1), axis=-1)

    estimate = mean_stat(y[None, :], first)
    if second is not None:
        estimate = estimate - mean_stat(y[None, :], second)
    rng = np.random.default_rng(seed)
    n, k = len(y), len(first)
    j = 0 if second is None else len(second)
    paired = j == k
    chunk = max(1, 4_000_000 // (n * (k + j)))  # replicates per batch: bounded memory
    values = np.empty(n_resamples)
    for start in range(0, n_resamples, chunk):
        b = min(chunk, n_resamples - start)
        rows = rng.integers(0, n, (b, n))
        labels = y[rows][:, None, :]
        drawn = rng.integers(0, k, (b, k))
        v = mean_stat(labels, first[drawn[:, :, None], rows[:, None, :]])
        if second is not None:
            other = drawn if paired else rng.integers(0, j, (b, j))
            v = v - mean_stat(labels, second[other[:, :, None], rows[:, None, :]])
        values[start : start + b] = v
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN replicates: no r anywhere
        lo, hi = np.nanpercentile(values, [tail, 100 - tail])
    return float(estimate), float(lo), float(hi)


def seed_sd(
    y_true: np.ndarray,
    preds: Sequence[np.ndarray],
    metric: str = "r",
    minus: Sequence[np.ndarray] = (),
) -> float:
    """Standard deviation (ddof 1) over seeds of the per-seed metric, or of the per-seed
    difference where ``minus`` has as many seeds (seed *i* against seed *i*); NaN for one seed."""
    stat = _bootstrap_stat(metric)
    y = np.asarray(y_true, np.float64)
    a = np.array([float(stat(y, np.asarray(p, np.float64))) for p in preds])
    if len(minus):
        b = np.array([float(stat(y, np.asarray(p, np.float64))) for p in minus])
        a = a - b if len(b) == len(a) else a - np.nanmean(b)
    return float(np.nanstd(a, ddof=1)) if np.isfinite(a).sum() > 1 else float("nan")


def seed_mean_cis(
    y_true: np.ndarray,
    preds: Sequence[np.ndarray],
    which: Sequence[str] = ("r", "mae", "acc2_non0"),
    suffix: str = "",
    n_resamples: int = 1000,
    confidence: float = 0.95,
) -> dict[str, float]:
    """:func:`seed_mean_ci` of each of ``which``: ``<metric><suffix>``, ``..._lo``, ``..._hi``."""
    out: dict[str, float] = {}
    for m in which:
        key = f"{m}{suffix}"
        out[key], out[f"{key}_lo"], out[f"{key}_hi"] = seed_mean_ci(
            y_true, preds, m, n_resamples=n_resamples, confidence=confidence
        )
    return out


def metrics_with_ci(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    which: Sequence[str] = ("mae", "r"),
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, float]:
    """:func:`metrics` plus ``<metric>_lo`` / ``<metric>_hi`` 95% bootstrap bounds for ``which``."""
    out = metrics(y_true, y_pred)
    for m in which:
        _, lo, hi = bootstrap_ci(y_true, y_pred, m, n_resamples=n_resamples, seed=seed)
        out[f"{m}_lo"], out[f"{m}_hi"] = lo, hi
    return out


# ----------------------------------------------------------------- aggregation over seeds
def aggregate_seeds(
    runs: pd.DataFrame, by: Sequence[str], values: Iterable[str] | None = None
) -> pd.DataFrame:
    """Mean, standard deviation (ddof 1) and count over seeds: columns ``<v>_mean``, ``<v>_sd``."""
    cols = [
        c
        for c in (values if values is not None else runs.columns)
        if c not in by and c != "seed" and pd.api.types.is_numeric_dtype(runs[c])
    ]
    g = runs.groupby(list(by), sort=False)[cols]
    mean, sd = g.mean(), g.std(ddof=1)
    out = pd.concat([mean.add_suffix("_mean"), sd.add_suffix("_sd")], axis=1)[
        [f"{c}_{s}" for c in cols for s in ("mean", "sd")]
    ]
    out.insert(0, "n_seeds", g.size())
    return out.reset_index()


def mean_sd(frame: pd.DataFrame, value: str, digits: int = 3) -> pd.Series:
    """``"mean ± sd"`` strings from ``<value>_mean`` and ``<value>_sd`` columns."""
    m, s = frame[f"{value}_mean"], frame[f"{value}_sd"]
    return pd.Series(
        [
            ""
            if pd.isna(a)
            else (f"{a:.{digits}f}" if pd.isna(b) else f"{a:.{digits}f} ± {b:.{digits}f}")
            for a, b in zip(m, s)
        ],
        index=frame.index,
    )


# ----------------------------------------------------------------- Table 1 layout
def by_split(
    runs: pd.DataFrame,
    values: Sequence[str] = ("loss", "mae", "r"),
    index: Sequence[str] = ("model", "subset", "seed"),
) -> pd.DataFrame:
    """Long runs (one row per split) to one row per run with ``<split>_<value>`` columns."""
    wide = runs.pivot_table(index=list(index), columns="split", values=list(values), sort=False)
    wide.columns = [f"{split}_{value}" for value, split in wide.columns]
    splits = [s for s in ("train", "valid", "test") if s in runs["split"].unique()]
    return wide[[f"{s}_{v}" for s in splits for v in values]].reset_index()


def table1(
    runs: pd.DataFrame,
    values: Sequence[str] = ("loss", "mae", "r"),
    digits: int = 3,
    paper: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Table 1 layout: model x subset, ``mean ± sd`` over seeds for every split and value.

    With ``paper`` (:func:`msa_lib.reference.paper_table1`), the paper's printed validation loss, MAE and r are put beside.
    """
    agg = aggregate_seeds(by_split(runs, values), ["model", "subset"])
    out = agg[["model", "subset", "n_seeds"]].copy()
    for c in [c[: -len("_mean")] for c in agg.columns if c.endswith("_mean")]:
        out[c] = mean_sd(agg, c, digits)
    if paper is not None:
        ref = paper.set_index("subset")
        for c in ("valid_loss", "valid_mae", "valid_r"):
            out[f"paper {c}"] = out["subset"].map(ref[c]).where(out["model"] == "fusion")
    return out


# ----------------------------------------------------------------- diagnosing the scale of predictions
def scale_diagnostics(
    y_valid: np.ndarray, p_valid: np.ndarray, y_test: np.ndarray, p_test: np.ndarray
) -> dict[str, float]:
    """How much of a model's test MAE is the scale of its predictions rather than their order.

    ``sd_ratio`` is sd(predictions) / sd(labels) on test; a line ``a * p + b`` fitted on the
    validation split (least squares, so test is not used to fit it) rescales the test predictions,
    and ``mae_rescaled`` is their MAE. r is unchanged by such a line (for ``a > 0``).
    """
    tv, pv = _check_pair(y_valid, p_valid)
    tt, pt = _check_pair(y_test, p_test)
    a, b = np.polyfit(pv, tv, 1)
    return {
        "sd_ratio": spread_ratio(pt, tt),
        "slope": float(a),
        "intercept": float(b),
        "mae": float(np.abs(tt - pt).mean()),
        "mae_rescaled": float(np.abs(tt - (a * pt + b)).mean()),
    }


# ----------------------------------------------------------------- correlations known by r and n alone
def r_interval(r: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Fisher-z interval of a Pearson r measured on ``n`` pairs: ``tanh(atanh(r) ± z/sqrt(n-3))``.

    NaN bounds where r is undefined or ``n`` < 4.
    """
    if not np.isfinite(r) or n < 4:
        return float("nan"), float("nan")
    half = stats.norm.ppf(0.5 + confidence / 2) / np.sqrt(n - 3)
    z = np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12))
    return float(np.tanh(z - half)), float(np.tanh(z + half))


def r_difference_p(r1: float, n1: int, r2: float, n2: int) -> float:
    """Two-sided p-value of ``r1 = r2`` for correlations of two independent samples (Fisher z)."""
    if not (np.isfinite(r1) and np.isfinite(r2)) or min(n1, n2) < 4:
        return float("nan")
    z1, z2 = (np.arctanh(np.clip(r, -1 + 1e-12, 1 - 1e-12)) for r in (r1, r2))
    se = np.sqrt(1 / (n1 - 3) + 1 / (n2 - 3))
    return float(2 * stats.norm.sf(abs(z1 - z2) / se))


def side_of(value: float, lo: float, hi: float) -> str:
    """Where ``value`` lies against the interval [lo, hi]: ``"above"``, ``"below"``, ``"inside"``
    (``"undefined"`` where a number is missing)."""
    if not all(np.isfinite(x) for x in (value, lo, hi)):
        return "undefined"
    return "above" if value > hi else "below" if value < lo else "inside"
