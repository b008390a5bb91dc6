"""A fine-tuned text regressor: a MiniLM encoder, mean-pooled, with a small head, trained end to end.

The frozen-encoder path of chapter 4 (MiniLM vectors + ridge) leaves the encoder as it was
pretrained; here its weights move too. Recipe: the last hidden states averaged over the tokens
the attention mask keeps, a linear head (or a one-hidden-layer MLP) to one score, L1 loss, AdamW
with a small learning rate for the encoder and a larger one for the head, warmup then linear
decay, and the epoch of highest validation Pearson r kept. Transcripts are lowercased (MOSI's are
upper case; the default model is uncased). Word embeddings can be frozen: AdamW over the
30k x 384 embedding matrix costs time and a few thousand sentences cannot move it usefully.
Batches group sentences of similar length (shuffled within and across groups), so little
padding is computed.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from msa_lib.config import TextFineTuneConfig
from msa_lib.evaluate import metrics, seed_mean_ci
from msa_lib.extract.features.text import resolve_model

SCORE_RANGE = (-3.0, 3.0)
HEAD_FILE = "head.pt"
INFO_FILE = "info.json"
ENCODER_DIR = "encoder"




class TextRegressor(nn.Module):
    """Encoder -> masked mean of the last hidden states -> dropout -> head -> one score."""

    def __init__(self, encoder: nn.Module, hidden: int, dropout: float) -> None:
        super().__init__()
        self.encoder = encoder
        dim = int(encoder.config.hidden_size)
        self.dropout = nn.Dropout(dropout)
        if hidden:
            self.head = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, 1))
        else:
            self.head = nn.Linear(dim, 1)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Scores ``[batch]`` for padded token ids and their attention mask."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled)).squeeze(-1)


# ----------------------------------------------------------------- inputs
def check_texts(texts: Sequence[str], what: str = "texts") -> list[str]:
    """The texts as strings, or a ValueError naming the first empty or whitespace-only one."""
    if isinstance(texts, str):
        raise ValueError(f"{what} must be a sequence of strings, not one string")
    out = []
    for i, t in enumerate(texts):
        if t is None or (isinstance(t, float) and np.isnan(t)) or not str(t).strip():
            raise ValueError(f"{what}[{i}] is empty or whitespace only: {t!r}")
        out.append(str(t))
    if not out:
        raise ValueError(f"{what} is empty: nothing to score")
    return out


def tokenize(tokenizer, texts: Sequence[str], config: TextFineTuneConfig) -> list[list[int]]:
    """Token ids per text (lowercased when configured, truncated at ``max_length``)."""
    if config.lowercase:
        texts = [t.lower() for t in texts]
    return tokenizer(list(texts), truncation=True, max_length=config.max_length)["input_ids"]


def pad(ids: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded ids and the attention mask, both ``[n, longest]``."""
    width = max(len(x) for x in ids)
    input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for r, x in enumerate(ids):
        input_ids[r, : len(x)] = torch.as_tensor(x)
        mask[r, : len(x)] = 1
    return input_ids, mask


def batches(
    lengths: np.ndarray, batch_size: int, rng: np.random.Generator, by_length: bool
) -> list[np.ndarray]:
    """Index batches for one epoch: random, or of similar length in a random order."""
    n = len(lengths)
    if not by_length:
        order = rng.permutation(n)
    else:  # sort by length with random tie-breaking, so each epoch's groups differ
        order = np.lexsort((rng.random(n), lengths))
    out = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if by_length:
        out = [out[i] for i in rng.permutation(len(out))]
    return out


# ----------------------------------------------------------------- the model users hold
class FineTunedText:
    """A trained text regressor with its tokenizer: ``predict`` texts, ``save`` / ``load`` a folder."""

    def __init__(self, model: TextRegressor, tokenizer, config: TextFineTuneConfig, info: dict):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.config = config
        self.info = info

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """Scores in [-3, 3], one per text; a ValueError names the index of an empty text."""
        texts = check_texts(texts)
        ids = tokenize(self.tokenizer, texts, self.config)
        order = np.argsort([len(x) for x in ids], kind="stable")
        out = np.empty(len(ids), np.float64)
        step = self.config.predict_batch_size
        self.model.eval()
        with torch.inference_mode():
            for b in range(0, len(order), step):
                idx = order[b : b + step]
                input_ids, mask = pad([ids[i] for i in idx], self.tokenizer.pad_token_id or 0)
                out[idx] = self.model(input_ids, mask).double().numpy()
        return np.clip(out, *SCORE_RANGE)

    def save(self, path: str | Path) -> Path:
        """Write the folder: ``encoder/`` (model + tokenizer), ``head.pt``, ``info.json``."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.model.encoder.save_pretrained(path / ENCODER_DIR)
        self.tokenizer.save_pretrained(path / ENCODER_DIR)
        head = {k: v for k, v in self.model.state_dict().items() if not k.startswith("encoder.")}
        torch.save(head, path / HEAD_FILE)
        blob = {"info": self.info, "config": dataclasses.asdict(self.config)}
        (path / INFO_FILE).write_text(json.dumps(blob, indent=2, default=_json_default))
        return path

    @classmethod
    def load(cls, path: str | Path) -> FineTunedText:
        """The model saved in ``path``; a FileNotFoundError names the folder and what is missing."""
        from transformers import AutoModel, AutoTokenizer

        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"fine-tuned text model folder {path} does not exist")
        need = [ENCODER_DIR + "/config.json", HEAD_FILE, INFO_FILE]
        missing = [n for n in need if not (path / n).is_file()]
        if missing:
            raise FileNotFoundError(
                f"fine-tuned text model folder {path} is incomplete: missing {', '.join(missing)}"
            )
        try:
            blob = json.loads((path / INFO_FILE).read_text())
            config = TextFineTuneConfig(**blob["config"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path / INFO_FILE} is not a fine-tuned text model's info ({exc})"
            ) from exc
        try:
            tokenizer = AutoTokenizer.from_pretrained(path / ENCODER_DIR)
            encoder = AutoModel.from_pretrained(path / ENCODER_DIR)
        except (OSError, ValueError) as exc:
            raise FileNotFoundError(
                f"fine-tuned text model folder {path}: {ENCODER_DIR}/ cannot be loaded ({exc})"
            ) from exc
        model = TextRegressor(encoder, config.head_hidden, config.dropout)
        head = torch.load(path / HEAD_FILE, map_location="cpu", weights_only=True)
        try:
            model.load_state_dict(head, strict=False)
            bad = [k for k in model.state_dict() if not k.startswith("encoder.") and k not in head]
            if bad:
                raise RuntimeError(f"missing {bad}")
        except RuntimeError as exc:
            raise ValueError(
                f"{path / HEAD_FILE} does not fit the model in {path} ({exc})"
            ) from exc
        return cls(model, tokenizer, config, blob["info"])


def _json_default(o: object):
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


# ----------------------------------------------------------------- training
def load_base(config: TextFineTuneConfig, seed: int) -> tuple[TextRegressor, object]:
    """The pretrained encoder with a freshly initialised head (seeded), and its tokenizer."""
    from transformers import AutoModel, AutoTokenizer

    where = resolve_model(config.model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(where)
        encoder = AutoModel.from_pretrained(where)
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"text model '{config.model}' cannot be loaded ({exc})") from exc
    torch.manual_seed(seed)
    return TextRegressor(encoder, config.head_hidden, config.dropout), tokenizer


def param_groups(model: TextRegressor, config: TextFineTuneConfig) -> list[dict]:
    """AdamW groups: head at ``lr_head``; encoder layers at ``lr_encoder`` times the layer decay."""
    enc = model.encoder
    if config.freeze_embeddings:
        enc.embeddings.word_embeddings.weight.requires_grad_(False)
    n_layers = int(enc.config.num_hidden_layers)
    if config.freeze_layers > n_layers:
        raise ValueError(f"freeze_layers {config.freeze_layers} > the model's {n_layers} layers")
    if config.freeze_layers:  # no gradient flows below the first trained layer: faster steps
        for module in (enc.embeddings, *enc.encoder.layer[: config.freeze_layers]):
            module.requires_grad_(False)
    groups: dict[float, list] = {}
    for name, p in enc.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith("encoder.layer."):
            depth = int(name.split(".")[2]) + 1
        elif name.startswith("embeddings."):
            depth = 0
        else:  # pooler and anything above the last layer
            depth = n_layers
        lr = config.lr_encoder * config.layer_decay ** (n_layers - depth)
        groups.setdefault(lr, []).append(p)
    out = [{"params": ps, "lr": lr} for lr, ps in groups.items()]
    head = [p for n, p in model.named_parameters() if not n.startswith("encoder.")]
    return out + [{"params": head, "lr": config.lr_head}]


def pooled(model: TextRegressor, ids: list[list[int]], pad_id: int, step: int) -> np.ndarray:
    """The frozen encoder's mean-pooled states ``[n, dim]`` (eval mode, no gradients)."""
    model.eval()
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.empty((len(ids), int(model.encoder.config.hidden_size)), np.float64)
    with torch.inference_mode():
        for b in range(0, len(order), step):
            idx = order[b : b + step]
            input_ids, mask = pad([ids[i] for i in idx], pad_id)
            hidden = model.encoder(input_ids=input_ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).to(hidden.dtype)
            out[idx] = ((hidden * m).sum(1) / m.sum(1).clamp(min=1.0)).double().numpy()
    return out


PROBE_ALPHAS = (0.01, 0.1, 1.0, 10.0, 100.0)


def probe_head(
    model: TextRegressor,
    ids: list[list[int]],
    y: np.ndarray,
    val_ids: list[list[int]],
    y_val: np.ndarray,
    pad_id: int,
    config: TextFineTuneConfig,
) -> float:
    """Set the linear head to a ridge on the frozen features (penalty of best validation r)."""
    from sklearn.linear_model import Ridge

    x, x_val = (pooled(model, i, pad_id, config.predict_batch_size) for i in (ids, val_ids))
    best, best_r = None, -np.inf
    for alpha in PROBE_ALPHAS:
        fit = Ridge(alpha=alpha).fit(x, y)
        r = metrics(y_val, fit.predict(x_val))["r"]
        if best is None or r > best_r:
            best, best_r = fit, r
    with torch.no_grad():
        model.head.weight.copy_(torch.as_tensor(best.coef_, dtype=torch.float32)[None, :])
        model.head.bias.fill_(float(best.intercept_))
    return float(best.alpha)


def fine_tune_text(
    train_texts: Sequence[str],
    train_labels: Sequence[float],
    val_texts: Sequence[str],
    val_labels: Sequence[float],
    config: TextFineTuneConfig = TextFineTuneConfig(),
    seed: int = 0,
    trained_on: str = "unspecified",
) -> FineTunedText:
    """Fine-tune for ``config.epochs``; keep the epoch of highest validation r (its history in info)."""
    train_texts = check_texts(train_texts, "train_texts")
    val_texts = check_texts(val_texts, "val_texts")
    y = np.asarray(train_labels, np.float32)
    y_val = np.asarray(val_labels, np.float64)
    if len(y) != len(train_texts) or len(y_val) != len(val_texts):
        raise ValueError(
            f"texts and labels differ in length: train {len(train_texts)} vs {len(y)}, "
            f"valid {len(val_texts)} vs {len(y_val)}"
        )
    if not (np.isfinite(y).all() and np.isfinite(y_val).all()):
        raise ValueError("labels must be finite (unlabelled segments filtered out first)")
    if len(y_val) < 2:
        raise ValueError(f"validation needs at least 2 texts, got {len(y_val)}")
    from transformers import get_constant_schedule_with_warmup, get_linear_schedule_with_warmup

    model, tokenizer = load_base(config, seed)
    result = FineTunedText(model, tokenizer, config, {})
    ids = tokenize(tokenizer, train_texts, config)
    if config.probe_init:
        val_ids = tokenize(tokenizer, val_texts, config)
        probe_head(model, ids, y, val_ids, y_val, tokenizer.pad_token_id or 0, config)
    lengths = np.array([len(x) for x in ids])
    rng = np.random.default_rng(seed)
    pad_id = tokenizer.pad_token_id or 0
    optimizer = torch.optim.AdamW(param_groups(model, config), weight_decay=config.weight_decay)
    steps = config.epochs * int(np.ceil(len(ids) / config.batch_size))
    warm = int(round(config.warmup * steps))
    if config.schedule == "linear":
        scheduler = get_linear_schedule_with_warmup(optimizer, warm, steps)
    else:
        scheduler = get_constant_schedule_with_warmup(optimizer, warm)
    target = torch.tensor(y)
    history, best, best_state = [], -np.inf, None
    for epoch in range(1, config.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        losses = []
        for idx in batches(lengths, config.batch_size, rng, config.length_buckets):
            input_ids, mask = pad([ids[i] for i in idx], pad_id)
            loss = nn.functional.l1_loss(model(input_ids, mask), target[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()) * len(idx))
        val = metrics(y_val, result.predict(val_texts))
        history.append(
            {
                "epoch": epoch,
                "train_l1": sum(losses) / len(ids),
                "val_r": val["r"],
                "val_mae": val["mae"],
                "seconds": time.perf_counter() - t0,
            }
        )
        r = val["r"] if np.isfinite(val["r"]) else -np.inf
        if best_state is None or r > best:
            best, best_state = r, copy.deepcopy(model.state_dict())
    model.load_state_dict(best_state)
    chosen = max(history, key=lambda h: h["val_r"] if np.isfinite(h["val_r"]) else -np.inf)
    result.info = {
        "model": config.model,
        "trained_on": trained_on,
        "n_train": len(train_texts),
        "n_valid": len(val_texts),
        "seed": int(seed),
        "epoch": int(chosen["epoch"]),
        "val_r": float(chosen["val_r"]),
        "val_mae": float(chosen["val_mae"]),
        "history": history,
    }
    return result


def history_frame(model: FineTunedText) -> pd.DataFrame:
    """The per-epoch training history recorded in ``model.info``."""
    return pd.DataFrame(model.info.get("history", []))


# ----------------------------------------------------------------- seeds, cache, results
TABLE_NAME = "text_finetuned"
TABLE_METRICS = ("r", "mae", "acc2_non0", "f1_non0", "acc7")
CI_METRICS = ("r", "mae", "acc2_non0")
FOLDS = ("train", "valid", "test")


def trained_on_label(source: str, corpus: str = "mosi") -> str:
    """What a model's ``info['trained_on']`` says for data of this source."""
    name = {"mosi": "CMU-MOSI", "mosei": "CMU-MOSEI"}.get(corpus, corpus)
    if source == "real":
        return f"{name} train fold (real)"
    return (
        f"SYNTHETIC {corpus} corpus train fold (generated bag-of-words transcripts, not real data)"
    )


def text_folds(segments: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The train/valid/test rows (segment_id, text, label) of a segment table, or a clear error."""
    need = {"segment_id", "text", "label", "split"}
    missing = need - set(segments.columns)
    if missing:
        raise ValueError(f"segment table lacks column(s) {sorted(missing)} (has {list(segments)})")
    out = {}
    for fold in FOLDS:
        rows = segments.loc[segments["split"] == fold, ["segment_id", "text", "label"]]
        rows = rows[rows["label"].notna()].reset_index(drop=True)
        if len(rows) < 2:
            raise ValueError(f"segment table has {len(rows)} labelled '{fold}' rows; need >= 2")
        empty = [str(s) for s, t in zip(rows["segment_id"], rows["text"]) if not str(t).strip()]
        if empty or rows["text"].isna().any():
            raise ValueError(f"'{fold}' rows without a transcript: {empty[:5]}")
        out[fold] = rows
    return out


def data_key(folds: dict[str, pd.DataFrame]) -> str:
    """A hash of the folds' ids, transcripts and labels (the cache's data part)."""
    import hashlib

    h = hashlib.sha256()
    for fold, rows in folds.items():
        h.update(fold.encode())
        h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return h.hexdigest()[:20]


def run_key(
    folds: dict[str, pd.DataFrame], config: TextFineTuneConfig, seed: int, code: str
) -> str:
    """A hash of everything one seed's run depends on: data, settings, seed and code."""
    import hashlib

    blob = json.dumps([code, data_key(folds), dataclasses.asdict(config), int(seed)])
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def seed_job(
    folds: dict[str, pd.DataFrame],
    config: TextFineTuneConfig,
    seed: int,
    trained_on: str,
    out_dir: Path,
) -> dict:
    """Train one seed (one torch thread), score valid and test once, save model + scores in ``out_dir``.

    A finished ``out_dir`` (``scores.json`` present) is reused without training.
    """
    done = out_dir / "scores.json"
    if done.is_file():
        return json.loads(done.read_text())
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    tr, va, te = (folds[f] for f in FOLDS)
    model = fine_tune_text(
        tr["text"].tolist(), tr["label"], va["text"].tolist(), va["label"], config, seed, trained_on
    )
    seconds = time.perf_counter() - t0
    pred = model.predict(te["text"].tolist())
    model.info["test"] = metrics(te["label"].to_numpy(), pred)
    tmp = out_dir.with_name(out_dir.name + f".tmp{seed}")
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    model.save(tmp / "model")
    scores = {
        "seed": int(seed),
        "epoch": model.info["epoch"],
        "val_r": model.info["val_r"],
        "val_mae": model.info["val_mae"],
        "seconds": seconds,
        "test_pred": [float(p) for p in pred],
        "history": model.info["history"],
    }
    (tmp / "scores.json").write_text(json.dumps(scores))
    if out_dir.exists():  # a concurrent run finished first: keep its result
        import shutil

        shutil.rmtree(tmp)
        return json.loads(done.read_text())
    tmp.rename(out_dir)
    return scores


def scored_row(name: str, labels: np.ndarray, pred: np.ndarray, n_resamples: int) -> dict:
    """Test metrics of one set of predictions with 95% percentile-bootstrap bounds."""
    from msa_lib.evaluate import bootstrap_ci

    row = {"seed": name, **{m: metrics(labels, pred)[m] for m in TABLE_METRICS}}
    for m in CI_METRICS:
        _, row[f"{m}_lo"], row[f"{m}_hi"] = bootstrap_ci(
            labels, pred, m, n_resamples=n_resamples, method="percentile"
        )
    return row


def results_table(
    labels: np.ndarray, preds: dict[int, np.ndarray], extra: pd.DataFrame, n_resamples: int = 1000
) -> pd.DataFrame:
    """Rows: each seed, ``mean`` (CIs of the seed-mean metric), ``sd``, and ``ensemble``.

    ``ensemble`` scores the seeds' predictions averaged per segment (one model of all seeds, at
    their summed cost); it is left out for a single seed.
    """
    per_seed = pd.DataFrame([scored_row(str(s), labels, p, n_resamples) for s, p in preds.items()])
    mean = {"seed": "mean", **per_seed[list(TABLE_METRICS)].mean().to_dict()}
    sd = {"seed": "sd", **per_seed[list(TABLE_METRICS)].std(ddof=1).to_dict()}
    for m in CI_METRICS:
        _, mean[f"{m}_lo"], mean[f"{m}_hi"] = seed_mean_ci(
            labels, list(preds.values()), m, n_resamples=n_resamples
        )
    rows = [mean, sd]
    if len(preds) > 1:
        ensemble = np.mean(np.stack(list(preds.values())), axis=0)
        rows.append(scored_row("ensemble", labels, ensemble, n_resamples))
    table = pd.concat([per_seed, pd.DataFrame(rows)], ignore_index=True)
    table["n_test"] = len(labels)
    extra = extra.assign(seed=extra["seed"].astype(str)).set_index("seed")
    numeric = extra.select_dtypes("number")
    extra.loc["mean"], extra.loc["sd"] = numeric.mean(), numeric.std(ddof=1)
    return table.merge(extra.reset_index(), on="seed", how="left")


def run_text_finetune(
    data,
    config: TextFineTuneConfig = TextFineTuneConfig(),
    seeds: Sequence[int] = (0, 1, 2, 3, 4),
    n_jobs: int = 1,
    cache_dir: str | Path | None = None,
    results_dir: str | Path | None = None,
    source: str | None = None,
    n_resamples: int = 1000,
) -> tuple[pd.DataFrame, FineTunedText]:
    """Fine-tune one model per seed on MOSI train, choose epochs on valid, score test once per seed.

    ``data``: a :class:`~msa_lib.data.folder.DataFolder` (its MOSI segment table) or a segment
    table (columns segment_id, text, label, split; ``source`` says "real" or "synthetic").
    Seeds run in ``n_jobs`` worker processes (joblib), one torch thread each. Each finished seed
    (model folder + scores) lives under ``cache_dir`` keyed by data, settings, seed and code, so
    a rerun or an interrupted run resumes from whole seeds; without ``cache_dir`` a temporary
    folder holds them. Returns the table (one row per seed, ``mean``, ``sd``, ``ensemble``; CIs,
    validation r, chosen epoch, seconds) and the model of the seed with the highest validation r. With
    ``results_dir`` the table is saved as ``text_finetuned.csv`` (with ``data_source``).
    """
    import shutil
    import tempfile

    from joblib import Parallel, delayed

    from msa_lib.train.codehash import code_fingerprint

    if hasattr(data, "segments"):
        segments, source = data.segments("mosi"), data.source
    else:
        segments = data
    if source not in ("real", "synthetic"):
        raise ValueError(f"source must be 'real' or 'synthetic', got {source!r}")
    seeds = [int(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and not empty, got {seeds}")
    folds = text_folds(segments)
    trained_on = trained_on_label(source)
    scratch = None
    if cache_dir is None:
        scratch = tempfile.mkdtemp(prefix="msa-text-finetune-")
        root, code = Path(scratch), ""
    else:
        root, code = Path(cache_dir), code_fingerprint(__name__)
        root.mkdir(parents=True, exist_ok=True)
    dirs = {s: root / f"text-finetune-{run_key(folds, config, s, code)}" for s in seeds}
    try:
        jobs = (delayed(seed_job)(folds, config, s, trained_on, dirs[s]) for s in seeds)
        done = Parallel(n_jobs=min(n_jobs, len(seeds)))(jobs)
        labels = folds["test"]["label"].to_numpy(np.float64)
        preds = {d["seed"]: np.asarray(d["test_pred"]) for d in done}
        extra = pd.DataFrame(
            [{k: d[k] for k in ("seed", "val_r", "val_mae", "epoch", "seconds")} for d in done]
        )
        table = results_table(labels, preds, extra, n_resamples)
        best_seed = max(done, key=lambda d: d["val_r"])["seed"]
        best = FineTunedText.load(dirs[best_seed] / "model")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    if results_dir is not None:
        from msa_lib.book.display import save_table

        save_table(table, TABLE_NAME, results_dir, source)
    return table, best
