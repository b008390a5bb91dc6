"""Table-1 style experiments: the fusion grid beside its baselines, and the tables that report it.

The book's chapters call these so that no chapter carries experiment logic of its own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import bootstrap_ci, by_split, scale_diagnostics, table1
from msa_lib.experiments.reference import paper_table1
from msa_lib.train import SUBSETS, GridResult, run_grid
from msa_lib.train.baselines import late_fusion_runs, ridge_runs


@dataclass
class Table1Run:
    """One Table-1 experiment: the fusion grid, all runs (with baselines), the table, timing."""

    grid: GridResult
    runs: pd.DataFrame
    table: pd.DataFrame
    ridge_predictions: pd.DataFrame
    seconds: float


def run_table1(
    splits: Mapping[str, FeatureSet],
    name: str,
    seeds: Sequence[int],
    model_config: ModelConfig,
    train_config: TrainConfig,
    loss_config: LossConfig,
    n_jobs: int = 2,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> Table1Run:
    """Fusion grid + ridge + late fusion on one set of splits (``name``: the grid cache's folder)."""
    t0 = time.perf_counter()
    grid = run_grid(
        splits,
        SUBSETS,
        seeds,
        model_config,
        train_config,
        loss_config,
        n_jobs,
        progress=progress,
        cache_dir=None if cache_dir is None else f"{cache_dir}/{name}",
    )
    ridge, ridge_pred = ridge_runs(splits, SUBSETS, loss_config)
    late = late_fusion_runs(grid.predictions, SUBSETS, loss_config=loss_config)
    runs = pd.concat([grid.runs, ridge, late], ignore_index=True)
    tab = table1(runs, paper=paper_table1())
    return Table1Run(grid, runs, tab, ridge_pred, time.perf_counter() - t0)


def summarise_test(runs: pd.DataFrame) -> pd.DataFrame:
    """Test r and MAE per model and subset, mean over seeds."""
    wide = by_split(runs[runs["split"] == "test"], ("r", "mae"))
    return (
        wide.groupby(["model", "subset"], sort=False)[["test_r", "test_mae"]]
        .mean()
        .unstack("model")
        .reindex(list(SUBSETS))
    )


def ci_table(run: Table1Run, seed: int, n_resamples: int = 2000) -> pd.DataFrame:
    """95% bootstrap CIs of test r and MAE for one seed's fusion model and the ridge."""
    grid = run.grid
    preds = pd.concat([grid.predictions[grid.predictions["seed"] == seed], run.ridge_predictions])
    rows = []
    for (model, subset), g in preds[preds["split"] == "test"].groupby(
        ["model", "subset"], sort=False
    ):
        row = {"model": model, "subset": subset}
        for metric in ("r", "mae"):
            est, lo, hi = bootstrap_ci(g["label"], g["pred"], metric, n_resamples=n_resamples)
            row[f"test {metric} [95% CI]"] = f"{est:.3f} [{lo:.3f}, {hi:.3f}]"
        rows.append(row)
    return pd.DataFrame(rows)


def scale_table(run: Table1Run) -> pd.DataFrame:
    """sd(pred)/sd(label) and test MAE before/after a validation-fitted rescaling, per model."""
    preds = pd.concat([run.grid.predictions, run.ridge_predictions])
    rows = []
    for (model, subset, seed), g in preds.groupby(["model", "subset", "seed"], sort=False):
        v, t = g[g["split"] == "valid"], g[g["split"] == "test"]
        d = scale_diagnostics(v["label"], v["pred"], t["label"], t["pred"])
        rows.append({"model": model, "subset": subset, "seed": seed, **d})
    out = pd.DataFrame(rows).groupby(["model", "subset"], sort=False)
    return out[["sd_ratio", "mae", "mae_rescaled"]].mean().unstack("model").reindex(list(SUBSETS))


def fusion_vs_ridge(summary: pd.DataFrame, scales: pd.DataFrame) -> dict[str, float]:
    """The fusion model against ridge and late fusion, from :func:`summarise_test` and :func:`scale_table`.

    Differences are fusion minus ridge per subset (``d_r_*`` of test r, ``d_mae_*`` of test MAE),
    with the number of subsets where the fusion model is better; the spread of test predictions
    (``sd_ratio_*``) and mean test MAE before and after a validation-fitted rescaling per model;
    and joint training against late fusion of the unimodal models on the multi-modality subsets.
    """
    d_r = summary[("test_r", "fusion")] - summary[("test_r", "ridge")]
    d_mae = summary[("test_mae", "fusion")] - summary[("test_mae", "ridge")]
    out: dict[str, float] = {
        "n_subsets": int(d_r.notna().sum()),
        "d_r_min": float(d_r.min()),
        "d_r_max": float(d_r.max()),
        "d_r_mean": float(d_r.mean()),
        "n_fusion_r_higher": int((d_r > 0).sum()),
        "d_mae_min": float(d_mae.min()),
        "d_mae_max": float(d_mae.max()),
        "d_mae_mean": float(d_mae.mean()),
        "n_fusion_mae_lower": int((d_mae < 0).sum()),
    }
    for model in ("fusion", "ridge"):
        out[f"sd_ratio_{model}_min"] = float(scales[("sd_ratio", model)].min())
        out[f"sd_ratio_{model}_max"] = float(scales[("sd_ratio", model)].max())
        out[f"mae_{model}"] = float(scales[("mae", model)].mean())
        out[f"mae_rescaled_{model}"] = float(scales[("mae_rescaled", model)].mean())
    if ("test_r", "late fusion") in summary.columns:
        late = summary[("test_r", "late fusion")].dropna()
    else:
        late = pd.Series(dtype=float)
    joint = summary.loc[late.index, ("test_r", "fusion")]
    out["n_late"] = len(late)
    out["n_joint_higher"] = int((joint > late).sum())
    out["joint_minus_late_r"] = float((joint - late).mean()) if len(late) else float("nan")
    return out


def oracle_r(signal: Mapping[str, float], modalities: Sequence[str]) -> float:
    """Best r any model reaches on the synthetic corpus from ``modalities``: sqrt(S / (1 + S)).

    With each modality's signal ``rho_m z + sqrt(1 - rho_m^2) e_m`` (independent ``e_m``), the
    optimal linear combination has S = sum of rho_m^2 / (1 - rho_m^2) as its signal-to-noise ratio.
    """
    s = sum(signal[m] ** 2 / (1 - signal[m] ** 2) for m in modalities)
    return float(np.sqrt(s / (1 + s)))


def table1_value(table: pd.DataFrame, value: str) -> pd.DataFrame:
    """One value (``"r"``, ``"mae"``, ``"loss"``) of a :func:`~msa_lib.evaluate.table1` layout.

    Columns: model, subset, then one per split (``train``, ``valid``, ``test``: mean ± sd over
    seeds) and ``paper valid`` where the table carries the paper's printed validation value.
    """
    splits = [s for s in ("train", "valid", "test") if f"{s}_{value}" in table.columns]
    if not splits:
        raise KeyError(f"table1_value: no '<split>_{value}' column in {list(table.columns)}")
    out = table[["model", "subset"]].copy()
    for s in splits:
        out[s] = table[f"{s}_{value}"]
    if f"paper valid_{value}" in table.columns:
        out["paper valid"] = table[f"paper valid_{value}"]
    return out.reset_index(drop=True)


def by_model_columns(frame: pd.DataFrame, labels: Mapping[str, str]) -> pd.DataFrame:
    """A frame with (value, model) columns, as :func:`summarise_test` and :func:`scale_table`
    return, flattened: its index as the first column, then ``"<model> <label>"`` for each value in
    ``labels`` (value -> short label, ``""`` for the model name alone), values in ``labels``' order.
    """
    missing = sorted(set(labels) - set(frame.columns.get_level_values(0)))
    if missing:
        raise KeyError(f"by_model_columns: no value(s) {missing} in the frame's columns")
    out = pd.DataFrame({frame.index.name or "subset": frame.index})
    for value, label in labels.items():
        for model in frame[value].columns:
            out[f"{model} {label}".strip()] = frame[(value, model)].to_numpy()
    return out


def fold_predictions(run: Table1Run, subset: str, seed: int) -> pd.DataFrame:
    """Test-split predictions of one subset: the fusion model of ``seed`` and the ridge."""
    grid = run.grid
    p = pd.concat([grid.predictions[grid.predictions["seed"] == seed], run.ridge_predictions])
    return p[(p["split"] == "test") & (p["subset"] == subset)]
