"""Transfer settings on a tiny two-domain problem whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import msa_lib.experiments.transfer as transfer_mod
from msa_lib.book.format import ci_text
from msa_lib.config import AdapterConfig, ModelConfig, SynthConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.transfer import (
    Score,
    TransferData,
    TransferError,
    closing_text,
    oracle_r,
    run_transfer,
    summarise,
    transfer_verdict,
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
    verdict = transfer_verdict(table, "toy")
    zs = table[table["setting"] == "zero-shot"].set_index("adapter")
    # the headline kind is fixed in advance; the kind of best validation r is reported apart
    assert verdict.headline == "coral" and verdict.n == n_test
    assert verdict.selected == zs["valid_r"].idxmax()
    assert (
        verdict.paired == () and verdict.aligned == ("coral",) and list(verdict.tuned) == ["coral"]
    )
    assert f"n = {n_test} target test segments" in verdict.line(ci_text)
    # every row says which target labels it used; the paper's adapter has the paper's text width
    labels = dict(zip(table["setting"], table["target_labels"]))
    assert labels["zero-shot"] == labels["zero-shot + AdaBN"] == labels["source model"] == "none"
    assert labels["fine-tuned"] == labels["target only"] == "train, valid"
    assert table.loc[table["adapter"] == "paper", "widths"].eq("text 4→384→384→5").all()
    assert table.loc[table["adapter"] == "coral", "widths"].eq("text 4→5").all()


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


def summary_rows(name: str, source: str, rows: list[tuple]) -> pd.DataFrame:
    """A :func:`summarise`-like table from (setting, adapter, r, lo, hi, valid_r) rows."""
    return pd.DataFrame(
        [
            {"setting": st, "adapter": k, "data": name, "data_source": source, "n": 686,
             "r": r, "r_lo": lo, "r_hi": hi, "valid_r": v}
            for st, k, r, lo, hi, v in rows
        ]
    )  # fmt: skip


TEXT_ROWS = [
    ("source model", "none", 0.39, 0.33, 0.45, np.nan),
    ("target only", "none", 0.73, 0.69, 0.76, np.nan),
    ("zero-shot", "paper", 0.02, -0.02, 0.05, 0.01),
    ("zero-shot + AdaBN", "paper", 0.01, -0.02, 0.04, 0.02),
    ("zero-shot", "paired-mlp", 0.46, 0.41, 0.51, 0.49),
    ("zero-shot", "paired-ridge", 0.461, 0.41, 0.52, 0.48),
    ("zero-shot", "coral", 0.17, 0.10, 0.24, 0.22),
    ("fine-tuned", "paper", 0.20, 0.16, 0.24, 0.29),
]


def test_the_verdict_answers_from_the_rows():
    v = transfer_verdict(summary_rows("text", "real", TEXT_ROWS), "text")
    # the headline kind is fixed in advance (paired-ridge where pairs exist), not chosen on
    # target labels; the kind of best target-validation r is named apart
    assert v.headline == "paired-ridge" and v.selected == "paired-mlp"
    assert v.paired == ("paired-mlp", "paired-ridge") and v.aligned == ("coral",)
    assert (
        v.zero_shot["paper"].chance == "at chance" and v.zero_shot["coral"].chance == "above chance"
    )
    line = v.line(ci_text)
    assert line.startswith("**text** (real, n = 686 target test segments)")
    assert (
        "fixed in advance, `paired-ridge`: test r 0.461 [0.410, 0.520] (above chance), against "
        "0.020 [-0.020, 0.050]" in line
    )
    assert "(+0.441)" in line and "fine-tuned after adaptation: `paper` 0.200" in line
    assert "Chosen with target validation labels, the kind would be `paired-mlp`" in line
    assert "(test r 0.460 [0.410, 0.510], -0.001)" in line
    assert "oracle" not in line
    text = closing_text([v], ci_text)
    assert "does not transfer in any of the measurements here" in text
    assert "through every paired kind the model reads the target features better than its" in text
    assert "`paired-mlp` r 0.460 [0.410, 0.510] (above chance, above that interval)" in text
    assert "`coral` r 0.170 [0.100, 0.240] (above chance), all below the interval" in text
    assert "training on them is the stronger baseline" in text
    assert "headline zero-shot setting (`paired-ridge`)" in text
    with pytest.raises(ValueError, match="no rows of 'other'"):
        transfer_verdict(summary_rows("text", "real", TEXT_ROWS), "other")
    with pytest.raises(ValueError, match="target only"):
        transfer_verdict(summary_rows("text", "real", TEXT_ROWS[:1] + TEXT_ROWS[2:]), "text")


def test_the_closing_text_changes_with_the_numbers():
    rows = [list(r) for r in TEXT_ROWS]
    rows[2][2:5] = (0.12, 0.05, 0.19)  # the paper's adapter above chance zero-shot
    rows[1][2:5] = (0.32, 0.27, 0.37)  # the target-only model inside the headline interval
    rows[4][2:5] = (0.30, 0.25, 0.35)  # paired kinds below the own-domain interval
    rows[5][2:5] = (0.29, 0.24, 0.34)
    v = transfer_verdict(summary_rows("text", "real", [tuple(r) for r in rows]), "text", 0.83)
    text = closing_text([v], ci_text)
    assert "is not at chance in every zero-shot row" in text
    assert "less well than its own inputs" in text
    assert "is not above the headline zero-shot setting in every transfer" in text
    assert "the oracle bound is 0.830" in v.line(ci_text)


def test_a_score_against_chance_and_another_interval():
    s = Score(0.46, 0.41, 0.51)
    assert s.chance == "above chance" and Score(-0.3, -0.35, -0.2).chance == "below chance"
    assert s.against(Score(0.39, 0.33, 0.45)) == "above"
    assert s.against(Score(0.47, 0.40, 0.52)) == "inside"
    assert s.text(ci_text) == "0.460 [0.410, 0.510]"


def test_the_kind_chosen_on_target_labels_is_a_row_of_its_own_labelled_so():
    table = pd.concat(
        [summary_rows("text", "real", TEXT_ROWS), summary_rows("other", "synthetic", TEXT_ROWS)]
    ).reset_index(drop=True)
    table["target_labels"] = "none"
    chosen = transfer_mod.label_selected_rows(table)
    assert chosen["data"].tolist() == ["text", "other"]
    assert chosen["adapter"].eq("paired-mlp").all()  # highest validation r, not highest test r
    assert chosen["setting"].eq(transfer_mod.SELECTED).all()
    assert chosen["target_labels"].eq(transfer_mod.SELECTED_LABELS).all()
    # the verdict never takes its headline from such a row
    v = transfer_verdict(pd.concat([table, chosen]), "text")
    assert v.headline == "paired-ridge" and "zero-shot, kind chosen" not in v.zero_shot


def test_the_headline_kind_is_fixed_in_advance():
    headline = transfer_mod.headline_kind
    assert headline(["paper", "paired-mlp", "paired-ridge", "coral"]) == "paired-ridge"
    assert headline(["none", "paper", "coral", "ot"]) == "coral"
    assert headline(["none", "paper"]) == "paper" and headline(["none"]) is None


def test_rows_are_laid_out_by_group_and_widths_per_modality():
    table = summary_rows("text", "real", TEXT_ROWS)
    table["widths"] = ""
    table.loc[table["adapter"] == "paper", "widths"] = "visual 65→512→512→713; text 4→384→384→5"
    table.loc[table["adapter"] == "coral", "widths"] = "visual 65→713; text 4→5"
    chosen = transfer_mod.label_selected_rows(table)
    shown = transfer_mod.display_order(pd.concat([chosen, table]))
    assert shown["setting"].tolist() == [
        "source model",
        *["zero-shot"] * 4,
        "zero-shot + AdaBN",
        "fine-tuned",
        "target only",
        transfer_mod.SELECTED,
    ]
    w = transfer_mod.widths_table(table).set_index("adapter")
    assert w.loc["paper", "visual"] == "65→512→512→713" and w.loc["coral", "text"] == "4→5"
    assert list(w.index) == ["paper", "coral"]  # the paper's fine-tuned row adds no line
