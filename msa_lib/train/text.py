"""A text encoder fine-tuned end to end: a MiniLM encoder, mean-pooled, with a small head.

The frozen-encoder path of chapter 4 (MiniLM vectors + ridge) leaves the encoder as it was
pretrained; here its weights move too. Recipe (:class:`~msa_lib.config.TextFineTuneConfig`): the
last hidden states averaged over the tokens the attention mask keeps, a linear head (or a
one-hidden-layer MLP) to one score, L1 loss, AdamW with a small learning rate for the encoder and a
larger one for the head, warmup then linear decay, and the epoch of highest validation Pearson r
kept. Transcripts are lowercased (MOSI's are upper case; the default model is uncased). Word
embeddings can be frozen: AdamW over the 30k x 384 embedding matrix costs time and a few thousand
sentences cannot move it usefully. Batches group sentences of similar length (shuffled within and
across groups), so little padding is computed. :class:`FineTunedText` is the model users hold.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from msa_lib.config import TextFineTuneConfig, config_from_dict
from msa_lib.evaluate import metrics
from msa_lib.extract.features.text import resolve_model
from msa_lib.io.checkpoint import WEIGHTS_FILE, CheckpointError, load_checkpoint, save_checkpoint
from msa_lib.models.text import TextRegressor

SCORE_RANGE = (-3.0, 3.0)
CHECKPOINT_KIND = "text"
ENCODER_DIR = "encoder"  # the encoder's and tokenizer's own save_pretrained folder


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

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint folder (:mod:`msa_lib.io.checkpoint`, kind ``text``): settings and
        ``info`` in ``config.json``, the head in ``weights.pt``, ``encoder/`` (model + tokenizer,
        their own ``save_pretrained`` folder)."""

        def encoder(folder: Path) -> None:
            self.model.encoder.save_pretrained(folder / ENCODER_DIR)
            self.tokenizer.save_pretrained(folder / ENCODER_DIR)

        head = {k: v for k, v in self.model.state_dict().items() if not k.startswith("encoder.")}
        config = {"config": self.config, "info": self.info}
        return save_checkpoint(path, CHECKPOINT_KIND, config, weights=head, extra=encoder)

    @classmethod
    def load(cls, path: str | os.PathLike) -> FineTunedText:
        """The model saved in ``path``; a CheckpointError (a ValueError) or ConfigError names the
        folder and what is missing or wrong."""
        from transformers import AutoModel, AutoTokenizer

        ck = load_checkpoint(path, CHECKPOINT_KIND)
        ck.require("config", "info")
        config = config_from_dict(
            TextFineTuneConfig, ck.config["config"], f"{ck.config_file} [config]"
        )
        info = ck.config["info"]
        if not isinstance(info, dict):
            raise CheckpointError(f"{ck.config_file}: checkpoint key 'info' is not a mapping")
        head = ck.tensors("weights")
        enc = ck.path / ENCODER_DIR
        if not (enc / "config.json").is_file():
            raise CheckpointError(
                f"{ck.path}: checkpoint has no {ENCODER_DIR}/config.json (the encoder's folder)"
            )
        from safetensors import SafetensorError

        try:
            tokenizer = AutoTokenizer.from_pretrained(enc)
            encoder = AutoModel.from_pretrained(enc)
        except (OSError, ValueError, SafetensorError) as exc:  # SafetensorError: a corrupt file
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"{enc}: the encoder cannot be loaded ({first})") from exc
        model = TextRegressor(encoder, config.head_hidden, config.dropout)
        own = [k for k in model.state_dict() if not k.startswith("encoder.")]
        absent, foreign = [k for k in own if k not in head], [k for k in head if k not in own]
        if absent or foreign:
            raise CheckpointError(
                f"{ck.path / WEIGHTS_FILE}: does not fit the model's head (missing {absent}, "
                f"unexpected {foreign})"
            )
        try:
            model.load_state_dict(head, strict=False)
        except RuntimeError as exc:  # a shape that does not fit
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(
                f"{ck.path / WEIGHTS_FILE}: does not fit the model's head ({first})"
            ) from exc
        return cls(model, tokenizer, config, info)


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
