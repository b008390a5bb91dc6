"""The loss ablation: the paper's losses beside plain error losses, with validation-fitted calibration.

Variants, each trained by :func:`msa_lib.train.grid.run_grid` on the same splits, modalities and
seeds (the fusion model and recipe of §4.2/§3.6.1; only the loss changes):

- ``MSE`` and ``MSE+MAE`` (``(MSE + MAE) / 2``, the correlation loss's error term alone):
  references, not in the paper;
- ``correlation``: the paper's main loss, ``0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2`` (§4.1);
- ``multi-task α=a``: ``a * MSE + 1 * CrossEntropy`` over a classification head (§3.7), for every
  ``a`` of the paper's grid {1, 5, 10, 20}; the ``α`` reported as the multi-task loss is the one
  with the best mean validation r (the recipe's selection score), never chosen on test.

Every run is selected on validation r (early stopping) and scores the test fold once. The
**calibrated** variant of a run maps its test predictions through a line fitted on that run's
*validation* predictions and labels (:func:`fit_calibration`); test labels are never seen by the
fit, so it is a post-hoc recalibration any user could apply, not a peek at the test fold.

Results over seeds are the mean of the per-seed metrics, with 95% paired-bootstrap intervals over
test segments of that seed mean (:func:`seed_mean_ci`), and the differences that answer "does the
correlation term buy r, and at what cost in MAE" are bootstrapped the same way, paired
(:func:`difference_ci`). :func:`loss_verdict`, :func:`calibration_sentence` and
:func:`epochs_sentence` state what the runs show; the chapter formats the tables.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib import evaluate
from msa_lib.config import CALIBRATIONS, AblationConfig, LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import metrics, seed_mean_cis, spread_ratio
from msa_lib.train.grid import run_grid, run_threads

CORRELATION, ERROR_ONLY, MULTITASK = "correlation", "MSE+MAE", "multi-task"


def multitask_name(alpha: float) -> str:
    """The variant name of the multi-task loss with MSE weight ``alpha``: ``multi-task α=10``."""
    return f"{MULTITASK} α={alpha:g}"


def loss_variants(config: AblationConfig = AblationConfig()) -> dict[str, tuple[LossConfig, int]]:
    """Variant name -> (its loss configuration, classes of the model's head; 0 for none)."""
    out = {
        "MSE": (LossConfig(kind="mse"), 0),
        ERROR_ONLY: (LossConfig(kind="mse_mae"), 0),
        CORRELATION: (LossConfig(kind="correlation"), 0),
    }
    for a in config.alphas:
        loss = LossConfig(kind="multitask", alpha_mse=float(a), beta_ce=config.beta)
        out[multitask_name(a)] = (loss, config.n_classes)
    return out


# ----------------------------------------------------------------- calibration (validation only)
def fit_calibration(
    pred_valid: np.ndarray, label_valid: np.ndarray, kind: str = "affine"
) -> tuple[float, float]:
    """(slope, intercept) of the line that maps predictions to labels, fitted on validation only."""
    p = np.asarray(pred_valid, np.float64)
    y = np.asarray(label_valid, np.float64)
    if p.shape != y.shape or p.ndim != 1 or len(p) < 2:
        raise ValueError(
            f"calibration needs two 1-d arrays of one length >= 2, got {p.shape} and {y.shape}"
        )
    if kind not in CALIBRATIONS:
        raise ValueError(f"unknown calibration '{kind}' (known: {CALIBRATIONS})")
    sd_p = p.std()
    if sd_p == 0:  # constant predictions carry no order: the best line is the label mean
        return 0.0, float(y.mean())
    if kind == "affine":
        slope = float(np.cov(p, y, bias=True)[0, 1] / sd_p**2)
    else:
        slope = float(y.std() / sd_p)
    return slope, float(y.mean() - slope * p.mean())


def calibrate(predictions: pd.DataFrame, kind: str = "affine") -> pd.DataFrame:
    """``predictions`` with ``pred_cal``: each (variant, seed)'s line fitted on its validation rows.

    Only validation rows enter the fit; every split's predictions are then mapped through it.
    """
    out = []
    for _, g in predictions.groupby(["variant", "seed"], sort=False):
        v = g[(g["split"] == "valid") & g["label"].notna()]
        a, b = fit_calibration(v["pred"].to_numpy(), v["label"].to_numpy(), kind)
        out.append(g.assign(pred_cal=a * g["pred"] + b, cal_slope=a, cal_intercept=b))
    return pd.concat(out).loc[predictions.index]


# ----------------------------------------------------------------- seed means with intervals
def seed_mean_ci(
    y: np.ndarray,
    preds: Sequence[np.ndarray],
    metric: str,
    config: AblationConfig = AblationConfig(),
) -> tuple[float, float, float]:
    """A metric averaged over seeds (one prediction vector each) and its bootstrap interval."""
    return evaluate.seed_mean_ci(
        y, preds, metric, n_resamples=config.n_resamples, confidence=config.confidence
    )


def difference_ci(
    y: np.ndarray,
    preds_a: Sequence[np.ndarray],
    preds_b: Sequence[np.ndarray],
    metric: str,
    config: AblationConfig = AblationConfig(),
) -> tuple[float, float, float]:
    """Seed-mean metric of ``a`` minus that of ``b`` on the same segments, with an interval that
    resamples seeds and segments together (:func:`~msa_lib.evaluate.two_level_ci`): a verdict
    resting on it survives a rerun's other training randomness."""
    return evaluate.two_level_ci(
        y, preds_a, metric, preds_b, n_resamples=config.n_resamples, confidence=config.confidence
    )


# ----------------------------------------------------------------- running
@dataclass
class AblationResult:
    """Every run of one ablation on one data set: per-split scores and per-segment predictions."""

    name: str  # e.g. "bc-LSTM T+V+A (bclstm_split)"
    source: str  # "real" or "synthetic"
    modalities: tuple[str, ...]
    runs: pd.DataFrame  # variant, seed, split, loss, mae, r, ..., best_epoch, epochs
    predictions: pd.DataFrame  # variant, seed, split, segment_id, label, pred, pred_cal
    train_config: TrainConfig
    config: AblationConfig
    seconds: float


def run_ablation(
    splits: Mapping[str, FeatureSet],
    modalities: Sequence[str],
    name: str,
    source: str,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    model_config: ModelConfig = ModelConfig(),
    train_config: TrainConfig = TrainConfig(),
    config: AblationConfig = AblationConfig(),
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> AblationResult:
    """Train every loss variant x seed on ``splits`` (selected on valid, test scored once).

    A variant's seeds train as one ensemble (one job); with ``n_jobs > 1`` the variants go to
    that many worker processes (joblib), one torch thread each. Results do not depend on
    ``n_jobs``: every run has one thread, as :func:`~msa_lib.train.grid.run_grid` gives it."""
    t0 = time.perf_counter()
    variants = list(loss_variants(config).items())
    train_config = run_threads(train_config, n_jobs)  # as run_grid gives its runs with n_jobs

    def grid_of(loss_name: str, loss: LossConfig, n_classes: int):
        return run_grid(
            splits,
            {loss_name: tuple(modalities)},
            seeds,
            dataclasses.replace(model_config, n_classes=n_classes),
            train_config,
            loss,
            1,
            progress=progress,
            cache_dir=cache_dir,
        )

    if n_jobs > 1 and len(variants) > 1:
        from joblib import Parallel, delayed

        grids = Parallel(n_jobs=min(n_jobs, len(variants)))(
            delayed(grid_of)(name, loss, k) for name, (loss, k) in variants
        )
    else:
        grids = [grid_of(name, loss, k) for name, (loss, k) in variants]
    runs, preds = [], []
    for grid in grids:
        runs.append(grid.runs.rename(columns={"subset": "variant"}))
        preds.append(grid.predictions.rename(columns={"subset": "variant"}))
    predictions = calibrate(pd.concat(preds, ignore_index=True), config.calibration)
    return AblationResult(
        name=name,
        source=source,
        modalities=tuple(modalities),
        runs=pd.concat(runs, ignore_index=True),
        predictions=predictions,
        train_config=train_config,
        config=config,
        seconds=time.perf_counter() - t0,
    )


# ----------------------------------------------------------------- summaries
def seed_predictions(
    predictions: pd.DataFrame, by: str, value: str, column: str = "pred", split: str = "test"
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Labels and one prediction vector per seed (same segments, same order) where ``by == value``."""
    p = predictions
    g = p[(p[by] == value) & (p["split"] == split) & p["label"].notna()]
    if g.empty:
        raise ValueError(f"no {split} predictions with {by} = {value!r}")
    per_seed = [s.sort_values("segment_id") for _, s in g.groupby("seed", sort=True)]
    ids = per_seed[0]["segment_id"].to_numpy()
    if any(not np.array_equal(ids, s["segment_id"].to_numpy()) for s in per_seed):
        raise ValueError(f"{by} = {value!r}: the seeds scored different {split} segments")
    return per_seed[0]["label"].to_numpy(), [s[column].to_numpy() for s in per_seed]


def _test_preds(result: AblationResult, loss: str, column: str = "pred") -> tuple:
    """Test labels and per-seed predictions of one loss variant."""
    return seed_predictions(result.predictions, "variant", loss, column)


def selected_alpha(result: AblationResult) -> str:
    """The multi-task variant with the best mean validation r (the α §3.7's grid search keeps)."""
    r = result.runs
    valid = r[(r["split"] == "valid") & r["variant"].str.startswith(MULTITASK)]
    return str(valid.groupby("variant", sort=False)["r"].mean().idxmax())


def summarise(result: AblationResult) -> pd.DataFrame:
    """One row per loss: test metrics (seed mean, 95% CI), spread ratio, calibrated r and MAE.

    ``cal_slope`` is the mean over seeds of the calibration line's slope (> 1: predictions
    stretched).
    """
    cfg, rows = result.config, []
    ci = {"n_resamples": cfg.n_resamples, "confidence": cfg.confidence}
    chosen = selected_alpha(result)
    r = result.runs
    for loss in r["variant"].unique():
        y, preds = _test_preds(result, loss)
        _, cal = _test_preds(result, loss, "pred_cal")
        row: dict[str, object] = {
            "data": result.name,
            "loss": loss,
            "chosen_on_valid": loss == chosen,
            "seeds": len(preds),
            "n_test": len(y),
            "valid_r": float(r[(r["variant"] == loss) & (r["split"] == "valid")]["r"].mean()),
        }
        row.update(seed_mean_cis(y, preds, **ci))
        row["r_sd"] = float(np.std([metrics(y, p)["r"] for p in preds], ddof=1))
        row["spread"] = float(np.mean([spread_ratio(p, y) for p in preds]))
        row["spread_cal"] = float(np.mean([spread_ratio(p, y) for p in cal]))
        row.update(seed_mean_cis(y, cal, suffix="_cal", **ci))
        own = result.predictions[result.predictions["variant"] == loss]
        row["cal_slope"] = float(own.groupby("seed")["cal_slope"].first().mean())
        row["best_epoch"] = float(
            r[(r["variant"] == loss) & (r["split"] == "test")]["best_epoch"].mean()
        )
        rows.append(row)
    return pd.DataFrame(rows)


def loss_names(summary: pd.DataFrame) -> pd.Series:
    """Each loss of a :func:`summarise` table by name, ``*`` marking the alpha chosen on valid."""
    return summary["loss"] + np.where(summary["chosen_on_valid"], " *", "")


def correlation_effect(result: AblationResult) -> dict[str, float]:
    """What the correlation term does: correlation loss minus its error term alone (MSE+MAE).

    ``d_r``, ``d_mae`` (raw predictions) and ``d_mae_cal`` (both calibrated on validation), each
    with ``_lo``/``_hi`` 95% bounds of a bootstrap over seeds and test segments
    (:func:`difference_ci`) and ``_sd``, the standard deviation over seeds of the per-seed
    difference.
    """
    y, corr = _test_preds(result, CORRELATION)
    _, err = _test_preds(result, ERROR_ONLY)
    _, corr_cal = _test_preds(result, CORRELATION, "pred_cal")
    _, err_cal = _test_preds(result, ERROR_ONLY, "pred_cal")
    out: dict[str, float] = {}
    for key, a, b, metric in (
        ("d_r", corr, err, "r"),
        ("d_mae", corr, err, "mae"),
        ("d_mae_cal", corr_cal, err_cal, "mae"),
        ("d_spread", corr, err, "spread"),
    ):
        out[key], out[f"{key}_lo"], out[f"{key}_hi"] = difference_ci(y, a, b, metric, result.config)
        out[f"{key}_sd"] = evaluate.seed_sd(y, a, metric, minus=b)
    return out


# ----------------------------------------------------------------- verdicts
LATE_EPOCH = 0.8  # a mean kept epoch past this share of the budget: still improving at the end


def direction(lo: float, hi: float, up: str, down: str, none: str) -> str:
    """Which way a 95% interval of a difference points, in words."""
    return up if lo > 0 else down if hi < 0 else none


def variant_alpha(variant: str, config: AblationConfig = AblationConfig()) -> float:
    """The MSE weight ``alpha`` of a multi-task variant's name (``multi-task α=10`` -> 10.0)."""
    names = {multitask_name(a): float(a) for a in config.alphas}
    if variant not in names:
        raise ValueError(f"{variant!r} is not a multi-task variant of {sorted(names)}")
    return names[variant]


@dataclass(frozen=True)
class LossVerdict:
    """What one data set's ablation shows: the correlation term's effect on r and MAE, the
    spread of the predictions, what calibration does, and the multi-task alpha validation picks."""

    name: str
    effect: Mapping[str, float]  # correlation_effect: d_r, d_mae, d_mae_cal with _lo/_hi
    r_with: float  # test r of the correlation loss
    r_without: float  # test r of its error term alone
    spread_with: float
    spread_without: float
    spread_range: tuple[float, float]  # across all losses
    mae_range: tuple[float, float]  # test MAE across all losses, as trained
    mae_cal_range: tuple[float, float]  # and calibrated on validation
    chosen: str  # the multi-task variant of best mean validation r
    chosen_alpha: float
    chosen_r: float  # its test r
    paper_alpha: float  # the alpha the paper reports (§3.7)
    best: str  # the variant of highest test r (not a selection: the test fold's view)
    best_r: float

    @property
    def term_buys_r(self) -> str:
        """``buys r``, ``costs r`` or ``makes no difference to r that seeds and test segments
        resolve`` (an interval over both containing 0)."""
        e = self.effect
        return direction(
            e["d_r_lo"],
            e["d_r_hi"],
            "buys r",
            "costs r",
            "makes no difference to r that seeds and test segments resolve",
        )

    def sentence(self, ci: Callable[..., str]) -> str:
        """The verdict as one bullet; ``ci(value, lo, hi, sign=...)`` writes an interval."""
        e = self.effect

        def diff(key: str) -> str:
            sd = e.get(f"{key}_sd", float("nan"))
            spread = f", seed sd {sd:.3f}" if np.isfinite(sd) else ""
            return ci(e[key], e[f"{key}_lo"], e[f"{key}_hi"], sign=True) + spread

        mae_word = direction(
            e["d_mae_lo"], e["d_mae_hi"], "raises", "lowers", "does not resolvably change"
        )
        return (
            f"- **{self.name}.** The correlation term {self.term_buys_r}: test r "
            f"{self.r_with:.3f} with it, {self.r_without:.3f} without (difference and 95% CI "
            f"over seeds and test segments: {diff('d_r')}). It {mae_word} test MAE ({diff('d_mae')}); with both losses calibrated "
            f"on validation the MAE difference is {diff('d_mae_cal')}. Its predictions spread "
            f"{self.spread_with:.2f} of the labels' sd ({self.spread_without:.2f} for {ERROR_ONLY}, "
            f"{self.spread_range[0]:.2f} to {self.spread_range[1]:.2f} across all losses), and "
            f"calibration takes the losses' test MAE from between {self.mae_range[0]:.3f} and "
            f"{self.mae_range[1]:.3f} to between {self.mae_cal_range[0]:.3f} and "
            f"{self.mae_cal_range[1]:.3f}. Validation picks α = {self.chosen_alpha:g} for the "
            f"multi-task loss (test r {self.chosen_r:.3f}; the paper reports α = "
            f"{self.paper_alpha:g}, §3.7); the highest test r is {self.best}'s "
            f"({self.best_r:.3f})."
        )


def loss_verdict(result: AblationResult, summary: pd.DataFrame | None = None) -> LossVerdict:
    """The verdict of one data set's ablation (``summary``: its :func:`summarise`, computed when
    not given)."""
    s = (summarise(result) if summary is None else summary).set_index("loss")
    for need in (CORRELATION, ERROR_ONLY):
        if need not in s.index:
            raise ValueError(f"{result.name}: the ablation has no '{need}' runs")
    chosen = str(s.index[s["chosen_on_valid"]][0])
    best = str(s["r"].idxmax())
    return LossVerdict(
        name=result.name,
        effect=correlation_effect(result),
        r_with=float(s.loc[CORRELATION, "r"]),
        r_without=float(s.loc[ERROR_ONLY, "r"]),
        spread_with=float(s.loc[CORRELATION, "spread"]),
        spread_without=float(s.loc[ERROR_ONLY, "spread"]),
        spread_range=(float(s["spread"].min()), float(s["spread"].max())),
        mae_range=(float(s["mae"].min()), float(s["mae"].max())),
        mae_cal_range=(float(s["mae_cal"].min()), float(s["mae_cal"].max())),
        chosen=chosen,
        chosen_alpha=variant_alpha(chosen, result.config),
        chosen_r=float(s.loc[chosen, "r"]),
        paper_alpha=LossConfig().alpha_mse,
        best=best,
        best_r=float(s.loc[best, "r"]),
    )


def calibration_sentence(summary: pd.DataFrame, tol: float = 1e-9) -> str:
    """Whether calibration left every loss's test r as it was (all slopes positive) or flipped it."""
    if (summary["r_cal"] - summary["r"]).abs().max() < tol:
        return (
            f"Every mean slope is positive (the smallest is {summary['cal_slope'].min():.2f}), so "
            "calibration leaves each loss's test r as it is and changes only the scale and offset "
            "of its predictions."
        )
    return (
        "Some fitted slopes are negative, which flips the sign of r for those seeds; the "
        "calibrated r is in `book/results/loss_ablation.csv`."
    )


def epochs_sentence(results: Sequence[AblationResult], max_epochs: int) -> str:
    """The epoch early stopping kept, on average per data set, and where it sat near the budget's
    end (validation r still rising: those models are less converged than the others)."""
    kept = {
        a.name: float(a.runs.loc[a.runs["split"] == "test", "best_epoch"].mean()) for a in results
    }
    text = "The epoch kept (best validation r) was on average " + ", ".join(
        f"{k:.1f} on {name}" for name, k in kept.items()
    )
    text += "."
    for name, k in kept.items():
        if k > LATE_EPOCH * max_epochs:
            text += (
                f" On {name} it was mostly near the last epoch: validation r was still rising when "
                "training stopped, so those models are less converged than the others, and their "
                "narrow predictions are partly the short budget's."
            )
    return text


# ----------------------------------------------------------------- data
@dataclass
class AblationData:
    """One data set the ablation runs on: its splits, the modalities the model reads, its folds."""

    name: str
    source: str
    splits: dict[str, FeatureSet]
    modalities: tuple[str, ...]
    folds: str  # how train/valid/test were made, for captions


def bclstm_data(folder, holdout: float = 0.15, holdout_seed: int = 0) -> AblationData:
    """Real bc-LSTM features, all three modalities, on ``bclstm_split`` only (chapter 5).

    Validation is ``holdout`` of the split's train videos, held out whole: the features'
    extractors were trained on that split, so its test part is the only clean test.
    """
    from msa_lib.data.splits import fold_splits

    return AblationData(
        "bc-LSTM T+V+A",
        folder.source,
        fold_splits(folder.bclstm(), holdout=holdout, seed=holdout_seed),
        ("text", "visual", "audio"),
        f"bclstm_split; validation: {holdout:.0%} of its train videos",
    )


def minilm_data(folder) -> AblationData:
    """MiniLM vectors of the MOSI transcripts (text alone) on the corpus's folds.

    Read from the transcript cache the chapters share
    (:func:`msa_lib.extract.transcripts.folder_transcript_features`), so they are encoded once.
    """
    from msa_lib.data.splits import fold_splits
    from msa_lib.extract.transcripts import folder_transcript_features

    text = folder_transcript_features(folder, "mosi")
    folds = "official MOSI folds" if folder.source == "real" else "the synthetic grouped split"
    return AblationData(
        "MiniLM text", folder.source, fold_splits(text.with_modalities(["text"])), ("text",), folds
    )


def synthetic_data(folder) -> AblationData:
    """The synthetic MOSI corpus's averaged ``.csd`` features, all three modalities, its own split."""
    from msa_lib.data.splits import fold_splits

    fs, _ = folder.features("mosi")
    return AblationData(
        "synthetic MOSI T+V+A",
        folder.source,
        fold_splits(fs),
        ("text", "visual", "audio"),
        "the synthetic corpus's grouped split",
    )


def ablation_data(folder, holdout: float = 0.15, holdout_seed: int = 0) -> list[AblationData]:
    """The loss ablation's data sets in a data folder (``msa_lib.data.DataFolder``).

    Real data: the bc-LSTM features on ``bclstm_split`` (where present) and MiniLM text vectors on
    the official MOSI folds (where the segments have transcripts). Synthetic data: the synthetic
    MOSI corpus.
    """
    if folder.source != "real":
        return [synthetic_data(folder)]
    out = [bclstm_data(folder, holdout, holdout_seed)] if folder.has_bclstm else []
    if "text" in folder.segments("mosi").columns:
        out.append(minilm_data(folder))
    return out
