"""Transfer settings on a tiny two-domain problem whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

import msa_lib.experiments.transfer as transfer_mod
from msa_lib.config import AdapterConfig, ModelConfig, SynthConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.transfer import (
    TransferData,
    TransferError,
    oracle_r,
    run_transfer,
    summarise,
)

FAST_ADAPTER = AdapterConfig(epochs=2, hidden=16, n_target_samples=64, components=3)
FAST_TRAIN = TrainConfig(max_epochs=3, patience=3, batch_size=16)
SMALL_MODEL = ModelConfig(hidden=16, token_dim=8, heads=2)


def domain(n: int, width: int, seed: int, prefix: str) -> FeatureSet:
    """Labelled segments whose features are a random linear image of [label, noise]."""
    rng = np.random.default_rng(seed)
    label = np.clip(rng.normal(0, 1.2, n), -3, 3).astype(np.float32)
    latent = np.column_stack([label, rng.normal(size=(n, 2))])
    x = latent @ rng.normal(size=(3, width)) + 0.1 * rng.normal(size=(n, width))
    split = np.array(["train", "train", "train", "valid", "test"])[(np.arange(n) // 4) % 5]
    return FeatureSet(
        segment_id=[f"{prefix}{i}" for i in range(n)],
        video_id=[f"{prefix}v{i // 4}" for i in range(n)],
        split=split,
        label=label,
        features={"text": x.astype(np.float32)},
        corpus=prefix,
    )


def test_oracle_r_of_one_modality_is_its_signal_correlation():
    cfg = SynthConfig(signal={"visual": 0.3, "audio": 0.0, "text": 0.6})
    assert oracle_r(cfg, ["text"]) == pytest.approx(0.6)
    s = 0.09 / 0.91 + 0.36 / 0.64
    assert oracle_r(cfg) == pytest.approx(math.sqrt(s / (1 + s)))
    assert oracle_r(cfg) > 0.6


def test_a_domain_without_a_test_fold_is_one_clear_error():
    src = fold_splits(domain(100, 5, 0, "s"))
    tgt = dict(fold_splits(domain(100, 4, 1, "t")))
    tgt["test"] = tgt["test"].take(np.array([], dtype=int))
    with pytest.raises(TransferError, match="the target domain has no test segments"):
        TransferData("x", "synthetic", src, tgt, ["text"])


def test_every_setting_is_its_own_row_scored_on_the_target_test_fold():
    src = fold_splits(domain(200, 5, 0, "s"))
    tgt = fold_splits(domain(150, 4, 1, "t"))
    data = TransferData("toy", "synthetic", src, tgt, ["text"])
    # paired kinds need pairs, "none" equal widths: neither applies here
    assert data.kinds(["none", "paper", "paired-ridge", "coral"]) == ["paper", "coral"]
    rows, tuned = run_transfer(
        data,
        seeds=(0, 1),
        kinds=("none", "paper", "paired-ridge", "coral"),
        adapter_config=FAST_ADAPTER,
        model_config=SMALL_MODEL,
        train_config=FAST_TRAIN,
        fine_tune_config=FAST_TRAIN,
        fine_tune_kinds=["coral"],
    )
    assert tuned == ["coral"]
    table = summarise(rows.to_dict("records"), "toy", "synthetic", n_resamples=200)
    keys = list(zip(table["setting"], table["adapter"]))
    assert keys == [
        ("source model", "none"),
        ("target only", "none"),
        ("zero-shot", "paper"),
        ("zero-shot + AdaBN", "paper"),
        ("zero-shot", "coral"),
        ("zero-shot + AdaBN", "coral"),
        ("fine-tuned", "coral"),
    ]
    n_test = int((tgt["test"].split == "test").sum())
    assert table.loc[table["setting"] != "source model", "n"].eq(n_test).all()
    assert table.loc[0, "n"] == len(src["test"])
    assert table["seeds"].eq(2).all()
    assert (table["r_lo"] <= table["r"] + 1e-9).all() and (table["r"] <= table["r_hi"] + 1e-9).all()


def test_paired_kinds_run_where_both_extractors_saw_the_same_segments():
    base = domain(150, 4, 1, "t")
    rng = np.random.default_rng(3)
    other = FeatureSet(
        segment_id=base.segment_id,
        video_id=base.video_id,
        split=base.split,
        label=base.label,
        features={"text": (base.features["text"] @ rng.normal(size=(4, 6))).astype(np.float32)},
    )
    src, tgt = fold_splits(other), fold_splits(base)
    data = TransferData(
        "pairs", "synthetic", src, tgt, ["text"], pairs=(tgt["train"], src["train"])
    )
    rows, _ = run_transfer(
        data,
        seeds=(0,),
        kinds=("paper", "paired-ridge"),
        adapter_config=FAST_ADAPTER,
        model_config=SMALL_MODEL,
        train_config=FAST_TRAIN,
        fine_tune_config=FAST_TRAIN,
        fine_tune_kinds=[],
    )
    zs = rows[(rows["setting"] == "zero-shot") & ~rows["adabn"]].set_index("adapter")
    own = rows[rows["setting"] == "source model"].iloc[0]
    r_paired = np.corrcoef(zs.loc["paired-ridge", "label"], zs.loc["paired-ridge", "pred"])[0, 1]
    r_own = np.corrcoef(own["label"], own["pred"])[0, 1]
    # a paired linear map of an exactly linear relation reproduces the source model's inputs
    assert r_paired == pytest.approx(r_own, abs=0.05)


def test_a_cached_run_resumes_with_the_same_predictions_and_trains_nothing(tmp_path, monkeypatch):
    src = fold_splits(domain(160, 5, 0, "s"))
    tgt = fold_splits(domain(150, 4, 1, "t"))
    data = TransferData("toy", "synthetic", src, tgt, ["text"])
    kwargs = dict(
        seeds=(0,),
        kinds=("coral",),
        adapter_config=FAST_ADAPTER,
        model_config=SMALL_MODEL,
        train_config=FAST_TRAIN,
        fine_tune_config=FAST_TRAIN,
        fine_tune_kinds=["coral"],
        cache_dir=str(tmp_path),
    )
    first, _ = run_transfer(data, **kwargs)
    files = sorted(p.name.split("-")[1] for p in tmp_path.iterdir())
    # source model, target-only model, coral adapters, fine-tuned row
    assert files == ["adapters", "finetuned", "model", "model"]

    def no_training(*args, **kwargs):
        raise AssertionError("a cached job ran again")

    for job in ("train_job", "adapter_job", "fine_tune_job"):
        monkeypatch.setattr(transfer_mod, job, no_training)
    again, _ = run_transfer(data, **kwargs)
    assert len(list(tmp_path.iterdir())) == 4
    for a, b in zip(first["pred"], again["pred"]):
        np.testing.assert_array_equal(a, b)
    # another seed is other jobs: they run (here: fail loudly)
    with pytest.raises(AssertionError, match="ran again"):
        run_transfer(data, **{**kwargs, "seeds": (1,)})
    # so are the same jobs after an edit to the code they run
    monkeypatch.setattr(transfer_mod, "transfer_code", lambda: "edited")
    with pytest.raises(AssertionError, match="ran again"):
        run_transfer(data, **kwargs)


def test_the_code_fingerprint_covers_the_adapter_kinds_loaded_by_name(monkeypatch):
    from msa_lib.adapters import BUILTIN
    from msa_lib.train import codehash

    seen = []
    real = codehash.code_fingerprint
    monkeypatch.setattr(transfer_mod, "code_fingerprint", lambda m: seen.append(m) or real(m))
    transfer_mod.transfer_code()
    assert seen[0] == "msa_lib.experiments.transfer" and set(BUILTIN.values()) <= set(seen)
