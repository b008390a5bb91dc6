"""The field's models (MMSA's TFN, LMF, MulT, ...) beside the paper's, on identical features and rows.

MMSA (``pip install mmsa==2.2.1``) implements the models the field compares against. This study
runs them **through MMSA's own code** on this project's folds, on CPU: the folds are written as an
MMSA feature file (:func:`msa_lib.data.mmsa.to_mmsa`), read by MMSA's ``MMDataLoader``, and each
model is built by MMSA's ``AMIO`` and trained by its ``ATIO`` trainer with MMSA's published
settings for the dataset (``get_config_regression``), ``device`` set to the CPU (``MMSA_run``
picks a GPU, so it is not used) and one torch thread per run. Training selects on the valid fold
(MMSA's early stopping on validation loss); the test fold is read once, after training, to predict.

The inputs are exactly the paper's model's: each modality standardised with training statistics,
a missing modality given the training mean (:class:`~msa_lib.train.inputs.Standardizer`), every
row of every fold kept; averaged features are sequences of one frame. The scores are this
project's (:func:`msa_lib.evaluate.metrics`) on the same test rows, over seeds, with paired
bootstrap intervals (:func:`msa_lib.evaluate.seed_mean_ci`) for each model and for its difference
to the paper's model. With a cache folder, each finished (model, seed) is kept in a
:class:`~msa_lib.io.cache.ResultCache` under a key of the data, the settings and the code (this
project's and MMSA's version).

Which of MMSA's models run on feature vectors (:data:`NEEDS_BERT` says why the others do not):
MISA and MMIM assert ``use_bert`` and Self-MM and TFR-Net build a BERT text encoder whatever their
settings, so all four read BERT token ids, never text features.

Two settings differ from MMSA's published ones, each because the input here is one frame per
modality: MulT's temporal convolutions get kernel size 1 (MMSA's MOSI setting is 5, which needs
at least 5 frames; the original MulT code's projection is kernel size 1). And torch 2.13 removed
``ReduceLROnPlateau``'s ``verbose`` argument, which MMSA 2.2.1's MulT trainer passes: while MMSA
trains, that trainer is given a scheduler class that accepts the argument and ignores it (it only
printed).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from msa_lib.data.featureset import FeatureSet
from msa_lib.data.mmsa import to_mmsa, write_mmsa
from msa_lib.evaluate import metrics, seed_mean_ci, side_of, two_level_ci
from msa_lib.io.cache import ResultCache, cache_key
from msa_lib.train.baselines import late_fusion
from msa_lib.train.codehash import code_fingerprint
from msa_lib.train.grid import data_digest
from msa_lib.train.inputs import Standardizer

MODALITIES = ("text", "audio", "visual")  # MMSA's models take all three
# MMSA's model names (its config keys) and how the book names them
NAMES = {
    "tfn": "TFN",
    "lmf": "LMF",
    "mult": "MulT",
    "mfn": "MFN",
    "graph_mfn": "Graph-MFN",
    "lf_dnn": "LF-DNN",
    "ef_lstm": "EF-LSTM",
    "misa": "MISA",
    "mmim": "MMIM",
    "self_mm": "Self-MM",
    "tfr_net": "TFR-Net",
}
DEFAULT_MODELS = ("tfn", "lmf", "mult", "mfn", "graph_mfn")
NEEDS_BERT = {
    "misa": "MMSA's MISA asserts use_bert == True: it reads BERT token ids, not text features",
    "mmim": "MMSA's MMIM asserts use_bert == True: it reads BERT token ids, not text features",
    "self_mm": "MMSA's Self-MM builds a BERT text encoder whatever its settings (no use_bert "
    "switch) and reads token ids, not text features",
    "tfr_net": "MMSA's TFR-Net builds a BERT text encoder whatever its settings",
}
# settings that one-frame inputs need (see the module's docstring)
ONE_FRAME = {
    "mult": {"conv1d_kernel_size_l": 1, "conv1d_kernel_size_a": 1, "conv1d_kernel_size_v": 1}
}
PAPER_MODEL = "fusion"  # the paper's model, as the Table-1 runs name it
ALPHA = 0.05  # intervals at 1 - ALPHA; a difference is resolved when its interval excludes 0

# ci(value, lo, hi, sign=...) -> "v [lo, hi]": the book's interval format, given by the chapter
IntervalText = Callable[..., str]
# column(frame, metric, sign=..., percent=...) -> one such text per row (the book's ci_column)
ColumnText = Callable[..., list[str]]


class MmsaModelError(ValueError):
    """A model or an input this study cannot run."""


# ----------------------------------------------------------------- inputs
def standardised_folds(
    splits: Mapping[str, FeatureSet], modalities: Sequence[str] = MODALITIES
) -> dict[str, FeatureSet]:
    """The folds as the paper's model sees them: training-statistics standardised, missing rows
    at the training mean (0), every row kept."""
    mods = list(modalities)
    scaler = Standardizer.fit(splits["train"], mods)
    out = {}
    for name, fs in splits.items():
        part = fs.with_modalities(mods)
        out[name] = dataclasses.replace(part, features=scaler.transform(part), flags={})
    return out


def mmsa_version() -> str:
    """The installed MMSA's version (a clear error when it is not installed)."""
    try:
        return metadata.version("mmsa")
    except metadata.PackageNotFoundError as exc:
        raise MmsaModelError(
            "MMSA is not installed: pip install --no-deps mmsa==2.2.1 (see requirements-nodeps.txt)"
        ) from exc


def check_models(models: Sequence[str]) -> list[str]:
    """The models, lower-case, each one MMSA has and that runs on feature vectors."""
    out = []
    for m in models:
        key = m.lower().replace("-", "_")
        if key in NEEDS_BERT:
            raise MmsaModelError(f"model '{m}' cannot run on feature vectors: {NEEDS_BERT[key]}")
        if key not in NAMES:
            raise MmsaModelError(f"unknown MMSA model '{m}' (known: {sorted(NAMES)})")
        out.append(key)
    return out


# ----------------------------------------------------------------- one run through MMSA's code
@contextlib.contextmanager
def _mmsa_quiet(counter: list[int]) -> Iterator[None]:
    """MMSA's logger and progress bars silenced; ``counter[0]`` counts validation passes."""

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if str(record.getMessage()).startswith("VAL-"):
                counter[0] += 1

    logger = logging.getLogger("MMSA")
    handler, old = Count(logging.INFO), (logger.level, logger.propagate, logger.handlers[:])
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        logger.setLevel(old[0])
        logger.propagate, logger.handlers = old[1], old[2]


@contextlib.contextmanager
def _scheduler_without_verbose() -> Iterator[None]:
    """MMSA 2.2.1's MulT trainer passes ``verbose`` to ReduceLROnPlateau, which torch 2.13 removed."""
    import importlib

    import torch.optim.lr_scheduler as sched

    # the module, not the class of the same name that the package re-exports
    mult_trainer = importlib.import_module("MMSA.trains.singleTask.MULT")

    class Plateau(sched.ReduceLROnPlateau):
        def __init__(self, *args: Any, verbose: bool = False, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)

    before = mult_trainer.ReduceLROnPlateau
    mult_trainer.ReduceLROnPlateau = Plateau
    try:
        yield
    finally:
        mult_trainer.ReduceLROnPlateau = before


def mmsa_args(model: str, dataset: str, feature_file: Path, save_path: Path, overrides: Mapping):
    """MMSA's published settings for ``model`` on ``dataset``, pointed at the file, on the CPU."""
    import torch
    from MMSA.config import get_config_regression

    args = get_config_regression(model, dataset)
    args.update(
        {
            "device": torch.device("cpu"),
            "train_mode": "regression",
            "custom_feature": str(feature_file),
            "feature_T": "",
            "feature_A": "",
            "feature_V": "",
            "model_save_path": str(save_path),
            "cur_seed": 1,
            **ONE_FRAME.get(model, {}),
            **dict(overrides),
        }
    )
    return args


def _predict(model_obj, dataset, args, batch_size: int = 256) -> np.ndarray:
    """MMSA's model's outputs ``M`` for every row of one fold, in the file's order."""
    import torch
    from torch.utils.data import DataLoader

    model_obj.eval()
    out = []
    with torch.no_grad():
        for batch in DataLoader(dataset, batch_size=batch_size, shuffle=False):
            text, audio, vision = batch["text"], batch["audio"], batch["vision"]
            out.append(model_obj(text, audio, vision)["M"].reshape(-1).numpy())
    return np.concatenate(out).astype(np.float64)


def train_model(
    feature_file: str | Path,
    model: str,
    seed: int,
    dataset: str = "mosi",
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One MMSA model trained on an MMSA file by MMSA's classes, on the CPU, one torch thread.

    Returns the predictions of the kept (best validation) model on every fold, in the file's
    order, the epochs run and kept, and the seconds training took.
    """
    import torch
    from MMSA.data_loader import MMDataLoader
    from MMSA.models import AMIO
    from MMSA.trains import ATIO
    from MMSA.utils import setup_seed

    torch.set_num_threads(1)
    counter = [0]
    with tempfile.TemporaryDirectory(prefix="msa-mmsa-") as tmp:
        args = mmsa_args(
            model, dataset, Path(feature_file), Path(tmp) / "best.pth", overrides or {}
        )
        t0, c0 = time.perf_counter(), time.process_time()
        with _mmsa_quiet(counter), _scheduler_without_verbose():
            setup_seed(seed)
            loaders = MMDataLoader(args, num_workers=0)
            net = AMIO(args)
            ATIO().getTrain(args).do_train(net, loaders)
            net.load_state_dict(torch.load(args.model_save_path, weights_only=True))
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            preds = {s: _predict(net, loaders[s].dataset, args) for s in ("train", "valid", "test")}
    epochs = counter[0]
    return {
        "preds": preds,
        "epochs": epochs,
        "best_epoch": epochs - int(args.early_stop),
        "seconds": seconds,
        "cpu_seconds": cpu,
    }


# ----------------------------------------------------------------- the study
@dataclass
class MmsaRun:
    """Every (model, seed): per-split scores (runs) and predictions, in long form."""

    runs: pd.DataFrame  # model, seed, split, metrics..., n, epochs, best_epoch, (cpu_)seconds
    predictions: pd.DataFrame  # model, seed, split, segment_id, label, pred
    seconds: float  # wall time of the study in this run (cached runs cost nothing)
    skipped: dict[str, str]  # MMSA models that cannot run on feature vectors, and why


def study_code() -> str:
    """Fingerprint of the code a run executes: this module's closure and MMSA's version."""
    return cache_key(code_fingerprint(__name__), mmsa_version(), metadata.version("torch"))


def _job(
    splits: Mapping[str, FeatureSet],
    model: str,
    seed: int,
    dataset: str,
    overrides: Mapping[str, Any],
    feature_file: str,
) -> dict[str, Any]:
    """One (model, seed): trained, then scored with this project's metrics on every fold."""
    result = train_model(feature_file, model, seed, dataset, overrides)
    runs, preds = [], []
    for split, fs in splits.items():
        p = result["preds"][split]
        if len(p) != len(fs):
            raise MmsaModelError(f"{model}: {len(p)} predictions for {len(fs)} {split} rows")
        row = {"model": NAMES[model], "seed": seed, "split": split}
        runs.append({**row, **metrics(fs.label, p), "n": len(fs)})
        preds.append(
            pd.DataFrame({"segment_id": fs.segment_id, "label": fs.label, "pred": p}).assign(**row)
        )
    extra = {k: result[k] for k in ("epochs", "best_epoch", "seconds", "cpu_seconds")}
    return {
        "runs": pd.DataFrame(runs).assign(**extra),
        "predictions": pd.concat(preds, ignore_index=True),
    }


def run_mmsa_models(
    splits: Mapping[str, FeatureSet],
    models: Sequence[str] = DEFAULT_MODELS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    dataset: str = "mosi",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
) -> MmsaRun:
    """Each of ``models`` for each seed through MMSA's code, on ``splits`` (train/valid/test).

    ``dataset`` picks MMSA's published settings (``mosi``, ``mosei``); ``overrides`` maps a model
    to settings that replace them. Jobs run in ``n_jobs`` processes, one torch thread each. With
    ``cache_dir``, finished runs are kept there (kind ``mmsa-run``) and reused.
    """
    for need in ("train", "valid", "test"):
        if need not in splits or len(splits[need]) == 0:
            raise MmsaModelError(f"the MMSA study needs a '{need}' fold; got {list(splits)}")
    models = check_models(models)
    overrides = {m.lower(): dict(v) for m, v in (overrides or {}).items()}
    t0 = time.perf_counter()
    folds = {s: splits[s] for s in ("train", "valid", "test")}
    inputs = standardised_folds(folds)
    cache = ResultCache(cache_dir, "mmsa-run")
    base = [study_code(), data_digest(folds, MODALITIES), dataset] if cache.enabled else []
    keys = {
        (m, s): cache_key(*base, m, int(s), overrides.get(m, {})) if cache.enabled else ""
        for m in models
        for s in seeds
    }
    todo = [ms for ms in keys if not (cache.enabled and keys[ms] in cache)]
    done: dict[tuple[str, int], dict] = {ms: cache.load(keys[ms]) for ms in keys if ms not in todo}
    if todo:
        with tempfile.TemporaryDirectory(prefix="msa-mmsa-data-") as tmp:
            path = write_mmsa(to_mmsa(inputs), Path(tmp) / "folds.pkl")
            args = [(folds, m, s, dataset, overrides.get(m, {}), str(path)) for m, s in todo]
            if n_jobs > 1 and len(todo) > 1:
                from joblib import Parallel, delayed

                # MMSA's trainers leave memory behind in a worker (a model and its optimiser per
                # run), so loky's leak check restarts that worker between jobs and warns; no job
                # is lost (Parallel raises if one is), so the notice is not shown to the reader
                with warnings.catch_warnings():
                    warnings.filterwarnings(
                        "ignore", message="A worker stopped while some jobs were given"
                    )
                    results = Parallel(n_jobs=n_jobs)(delayed(_job)(*a) for a in args)
            else:
                results = [_job(*a) for a in args]
        for ms, result in zip(todo, results, strict=True):
            done[ms] = cache.store(keys[ms], result) if cache.enabled else result
    parts = [done[ms] for ms in keys]
    return MmsaRun(
        pd.concat([p["runs"] for p in parts], ignore_index=True),
        pd.concat([p["predictions"] for p in parts], ignore_index=True),
        time.perf_counter() - t0,
        dict(NEEDS_BERT),
    )


# ----------------------------------------------------------------- side by side
def late_fusion_predictions(
    predictions: pd.DataFrame, subset: str, unimodal: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Late fusion's predictions for ``subset`` (e.g. ``T+V+A``) from the grid's single-modality
    fusion runs, per seed and split (:func:`msa_lib.train.baselines.late_fusion`)."""
    unimodal = dict(unimodal or {"text": "T", "visual": "V", "audio": "A"})
    letters = {v: k for k, v in unimodal.items()}
    mods = [letters[x] for x in subset.split("+")]
    fusion = predictions[predictions["model"] == PAPER_MODEL]
    rows = []
    for (seed, split), g in fusion.groupby(["seed", "split"], sort=False):
        per = {m: g[g["subset"] == unimodal[m]].set_index("segment_id") for m in mods}
        ids = per[mods[0]].index
        p = late_fusion({m: per[m].loc[ids, "pred"].to_numpy() for m in mods}, mods)
        rows.append(
            pd.DataFrame(
                {
                    "segment_id": ids,
                    "label": per[mods[0]].loc[ids, "label"].to_numpy(),
                    "pred": p,
                    "seed": seed,
                    "split": split,
                }
            )
        )
    return pd.concat(rows, ignore_index=True).assign(model="late fusion", subset=subset)


def table1_predictions(
    grid_predictions: pd.DataFrame, ridge_predictions: pd.DataFrame, subset: str = "T+V+A"
) -> pd.DataFrame:
    """The Table-1 study's predictions of ``subset``: the paper's model (every seed), the ridge
    and late fusion (:func:`late_fusion_predictions`), as :func:`side_by_side` takes them."""
    parts = [grid_predictions, ridge_predictions]
    if len(subset.split("+")) > 1:
        parts.append(late_fusion_predictions(grid_predictions, subset))
    frame = pd.concat(parts, ignore_index=True)
    return frame[frame["subset"] == subset].reset_index(drop=True)


def side_by_side(baselines: pd.DataFrame, run: MmsaRun, subset: str = "T+V+A") -> pd.DataFrame:
    """The paper's model, its baselines and MMSA's models in one long frame of test predictions.

    ``baselines`` holds Table-1 style predictions (model, subset, seed, split, segment_id, label,
    pred: the grid's, the ridge's and :func:`late_fusion_predictions`); their ``subset`` rows are
    taken. Every model must have scored the same test rows.
    """
    base = baselines[(baselines["subset"] == subset) & (baselines["split"] == "test")]
    ours = run.predictions[run.predictions["split"] == "test"]
    cols = ["model", "seed", "segment_id", "label", "pred"]
    frame = pd.concat([base[cols], ours[cols]], ignore_index=True)
    ref = None
    for model, g in frame.groupby("model", sort=False):
        for _, s in g.groupby("seed", sort=False):
            ids = sorted(s["segment_id"])
            if ref is None:
                ref = ids
            elif ids != ref:
                raise MmsaModelError(f"{model}: scored other test rows than the other models")
    return frame


def field_comparison(
    grid_predictions: pd.DataFrame,
    ridge_predictions: pd.DataFrame,
    splits: Mapping[str, FeatureSet],
    models: Sequence[str] = DEFAULT_MODELS,
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    dataset: str = "mosi",
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    n_resamples: int = 1000,
    subset: str = "T+V+A",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[MmsaRun, pd.DataFrame]:
    """MMSA's ``models`` trained on ``splits`` (:func:`run_mmsa_models`) and compared on
    ``subset``'s test rows with the Table-1 study that ran on the same splits: the run and its
    :func:`comparison_table` (the paper's model, ridge, late fusion, then MMSA's models)."""
    field = run_mmsa_models(
        splits, models, seeds, dataset, overrides, n_jobs=n_jobs, cache_dir=cache_dir
    )
    frame = side_by_side(
        table1_predictions(grid_predictions, ridge_predictions, subset), field, subset
    )
    return field, comparison_table(frame, n_resamples=n_resamples)


def shown_table(compared: pd.DataFrame, column: ColumnText) -> pd.DataFrame:
    """:func:`comparison_table` as the book shows it: seeds, test r, MAE and Acc-2 (non-0) with
    their intervals, and the paper's model minus the row's on r; ``column`` writes an interval
    column (the book's ``ci_column``)."""
    return pd.DataFrame(
        {
            "model": compared["model"].replace({PAPER_MODEL: f"{PAPER_MODEL} (paper)"}),
            "seeds": compared["seeds"],
            "r [95% CI]": column(compared, "r"),
            "MAE [95% CI]": column(compared, "mae"),
            "Acc-2 non-0 [95% CI]": column(compared, "acc2_non0", percent=True),
            "paper minus model, r": column(compared, "d_r", sign=True),
        }
    )


def cost_text(run: MmsaRun) -> str:
    """One sentence on what the MMSA models cost in this run: the study's wall seconds, and per
    model the mean CPU seconds and epochs of one run (:func:`timing_table`)."""
    per_model = "; ".join(
        f"{r['model']} {r['CPU seconds per run']:.1f} CPU s per run, {r['epochs']:.0f} epochs"
        for r in timing_table(run).to_dict("records")
    )
    seeds = int(run.runs["seed"].nunique())
    return f"MMSA's models took {run.seconds:.0f} s in this run ({seeds} seeds each; {per_model})."


def _wide(frame: pd.DataFrame, model: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Labels and one prediction vector per seed of ``model``, rows in segment-id order."""
    g = frame[frame["model"] == model]
    table = g.pivot_table(index="segment_id", columns="seed", values="pred", sort=True)
    label = g.groupby("segment_id")["label"].first().loc[table.index].to_numpy()
    return label, [table[c].to_numpy() for c in table.columns]


def comparison_table(
    frame: pd.DataFrame,
    reference: str = PAPER_MODEL,
    which: Sequence[str] = ("r", "mae", "acc2_non0"),
    n_resamples: int = 1000,
) -> pd.DataFrame:
    """One row per model: seed-mean test metrics with 95% paired-bootstrap intervals over test
    segments, and its difference to ``reference`` on r and MAE (reference minus model) with an
    interval over seeds and test segments together (:func:`~msa_lib.evaluate.two_level_ci`)."""
    models = list(dict.fromkeys(frame["model"]))
    if reference not in models:
        raise MmsaModelError(f"no '{reference}' predictions to compare with (have {models})")
    y, ref = _wide(frame, reference)
    rows = []
    for model in models:
        label, preds = _wide(frame, model)
        per_seed = pd.DataFrame([metrics(label, p) for p in preds])
        row: dict[str, Any] = {"model": model, "seeds": len(preds), "n": len(label)}
        for m in which:
            est, lo, hi = seed_mean_ci(
                label, preds, m, n_resamples=n_resamples, confidence=1 - ALPHA
            )
            row.update({m: est, f"{m}_lo": lo, f"{m}_hi": hi})
        row["r_sd"] = float(per_seed["r"].std(ddof=1)) if len(preds) > 1 else float("nan")
        for m in ("r", "mae"):
            if model == reference:
                d = lo = hi = float("nan")
            else:
                d, lo, hi = two_level_ci(
                    y, ref, m, minus=preds, n_resamples=n_resamples, confidence=1 - ALPHA
                )
            row.update({f"d_{m}": d, f"d_{m}_lo": lo, f"d_{m}_hi": hi})
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Outcome:
    """The paper's model against one other model on one metric: the difference and its interval."""

    model: str
    metric: str
    difference: float  # reference minus model
    lo: float
    hi: float

    @property
    def word(self) -> str:
        """``wins``, ``loses`` or ``ties`` (interval containing 0), from the reference's side."""
        side = side_of(0.0, self.lo, self.hi)
        if side == "inside" or side == "undefined":
            return "ties"
        higher_is_better = self.metric != "mae"
        reference_higher = side == "below"  # 0 below the interval: reference minus model > 0
        return "wins" if reference_higher == higher_is_better else "loses"


def outcomes(table: pd.DataFrame, reference: str = PAPER_MODEL) -> list[Outcome]:
    """:class:`Outcome` of the reference against every other model of
    :func:`comparison_table`, on r and on MAE."""
    out = []
    for row in table[table["model"] != reference].itertuples(index=False):
        for m in ("r", "mae"):
            out.append(
                Outcome(
                    row.model,
                    m,
                    getattr(row, f"d_{m}"),
                    getattr(row, f"d_{m}_lo"),
                    getattr(row, f"d_{m}_hi"),
                )
            )
    return out


def _listing(ci: IntervalText, items: Sequence[Outcome]) -> str:
    """``A (d [lo, hi]), B (...) and C (...)``."""
    named = [f"{o.model} ({ci(o.difference, o.lo, o.hi, sign=True)})" for o in items]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]


def verdict(
    table: pd.DataFrame,
    ci: IntervalText,
    reference: str = PAPER_MODEL,
    label: str = "the paper's model",
) -> str:
    """What the comparison says, from its intervals: against which models ``reference`` wins,
    loses or ties on test r and on test MAE; ``ci`` writes an interval (the book's ``ci_text``)."""
    found = outcomes(table, reference)
    if not found:
        return f"Only {label} was scored: there is nothing to compare."
    ref = table[table["model"] == reference].iloc[0]
    lines = []
    for metric, shown in (("r", "r"), ("mae", "MAE")):
        rows = [o for o in found if o.metric == metric]
        groups = {w: [o for o in rows if o.word == w] for w in ("wins", "loses", "ties")}
        parts = []
        if groups["wins"]:
            parts.append(f"better than {_listing(ci, groups['wins'])}")
        if groups["loses"]:
            parts.append(f"worse than {_listing(ci, groups['loses'])}")
        if groups["ties"]:
            whose = (
                "whose interval contains" if len(groups["ties"]) == 1 else "intervals containing"
            )
            parts.append(f"not distinguishable from {_listing(ci, groups['ties'])} ({whose} 0)")
        lines.append(
            f"- Test {shown}: {label} ({ref[metric]:.3f}, mean over {int(ref['seeds'])} seeds) is "
            + "; ".join(parts)
            + f". Differences are {label} minus the other model, with {1 - ALPHA:.0%} intervals "
            f"of a bootstrap over seeds and the {int(ref['n'])} test segments together."
        )
    return "\n".join(lines)


def timing_table(run: MmsaRun) -> pd.DataFrame:
    """Per model: mean wall and CPU seconds of one training run (one thread), the slowest run's
    wall seconds, and the epochs run and kept."""
    per_run = run.runs.drop_duplicates(["model", "seed"])
    g = per_run.groupby("model", sort=False)
    return pd.DataFrame(
        {
            "runs": g.size(),
            "seconds per run": g["seconds"].mean(),
            "CPU seconds per run": g["cpu_seconds"].mean(),
            "max seconds": g["seconds"].max(),
            "epochs": g["epochs"].mean(),
            "best epoch": g["best_epoch"].mean(),
        }
    ).reset_index()
