import numpy as np
import pandas as pd
import pytest

from msa_lib.config import ConfigError, ModelConfig
from msa_lib.data.folder import DataFolder
from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import metrics, spread_ratio
from msa_lib.experiments.ablation import (
    CORRELATION,
    ERROR_ONLY,
    AblationConfig,
    ablation_data,
    bclstm_data,
    calibrate,
    calibration_sentence,
    correlation_effect,
    difference_ci,
    direction,
    epochs_sentence,
    fit_calibration,
    loss_names,
    loss_variants,
    loss_verdict,
    multitask_name,
    run_ablation,
    seed_mean_ci,
    summarise,
    variant_alpha,
)
from tests.train.problem import FAST, make_problem


def test_variants_are_the_paper_losses_and_its_alpha_grid():
    v = loss_variants()
    assert list(v) == [
        "MSE",
        ERROR_ONLY,
        CORRELATION,
        *(multitask_name(a) for a in (1, 5, 10, 20)),
    ]
    assert v["MSE"][0].kind == "mse" and v[ERROR_ONLY][0].kind == "mse_mae"
    corr = v[CORRELATION][0]
    assert (corr.kind, corr.w_regression, corr.w_correlation) == ("correlation", 0.3, 0.7)
    for a in (1, 5, 10, 20):
        loss, n_classes = v[multitask_name(a)]
        assert (loss.kind, loss.alpha_mse, loss.beta_ce, n_classes) == ("multitask", a, 1.0, 7)
    with pytest.raises(ConfigError, match="calibration"):
        AblationConfig(calibration="isotonic")


def test_affine_calibration_recovers_a_line_and_scale_matches_spread():
    rng = np.random.default_rng(0)
    p = rng.normal(size=200)
    a, b = fit_calibration(p, 2.5 * p - 0.4)
    assert (a, b) == pytest.approx((2.5, -0.4))
    y = 0.3 * p + rng.normal(size=200)  # noisy: least squares shrinks, sd matching does not
    a_ls, _ = fit_calibration(p, y, "affine")
    a_sd, b_sd = fit_calibration(p, y, "scale")
    assert a_ls == pytest.approx(np.polyfit(p, y, 1)[0])
    assert np.std(a_sd * p + b_sd) == pytest.approx(np.std(y))
    assert np.mean(a_sd * p + b_sd) == pytest.approx(np.mean(y))
    assert fit_calibration(np.ones(5), np.arange(5.0)) == (0.0, 2.0)
    with pytest.raises(ValueError, match="length"):
        fit_calibration(np.ones(3), np.ones(4))


def _predictions(rng: np.random.Generator) -> pd.DataFrame:
    """Two variants x two seeds, 40 valid and 60 test rows each, predictions a shrunk label."""
    parts = []
    for variant in ("A", "B"):
        for seed in (0, 1):
            for split, n in (("valid", 40), ("test", 60)):
                y = rng.uniform(-3, 3, n)
                parts.append(
                    pd.DataFrame(
                        {
                            "variant": variant,
                            "seed": seed,
                            "split": split,
                            "segment_id": [f"{split}{i}" for i in range(n)],
                            "label": y,
                            "pred": 0.2 * y + rng.normal(0, 0.2, n),
                        }
                    )
                )
    return pd.concat(parts, ignore_index=True)


def test_calibration_is_fitted_on_validation_only():
    rng = np.random.default_rng(1)
    preds = _predictions(rng)
    cal = calibrate(preds)
    test = preds["split"] == "test"
    # test labels replaced by anything: the calibrated predictions do not move
    leaked = preds.copy()
    leaked.loc[test, "label"] = rng.normal(0, 10, test.sum())
    assert np.array_equal(calibrate(leaked)["pred_cal"], cal["pred_cal"])
    # validation labels changed: they do (the fit uses them)
    moved = preds.copy()
    moved.loc[~test, "label"] *= 2
    assert not np.allclose(calibrate(moved)["pred_cal"], cal["pred_cal"])
    # each (variant, seed) has its own line, the one fitted on its validation rows
    g = preds[(preds["variant"] == "B") & (preds["seed"] == 1)]
    v = g[g["split"] == "valid"]
    a, b = fit_calibration(v["pred"].to_numpy(), v["label"].to_numpy())
    assert np.allclose(cal.loc[g.index, "pred_cal"], a * g["pred"] + b)
    # the shrunk predictions are spread out again (sd ratio ~0.2 -> near 1 for r ~ 0.95)
    t = cal[test]
    assert spread_ratio(t["pred"], t["label"]) < 0.3 < 0.8 < spread_ratio(t["pred_cal"], t["label"])


def test_seed_mean_ci_is_the_mean_of_per_seed_metrics():
    rng = np.random.default_rng(2)
    y = rng.normal(size=120)
    preds = [y + rng.normal(0, s, 120) for s in (0.5, 1.0, 1.5)]
    for metric in ("r", "mae", "acc2_non0"):
        est, lo, hi = seed_mean_ci(y, preds, metric, AblationConfig(n_resamples=200))
        assert est == pytest.approx(np.mean([metrics(y, p)[metric] for p in preds]))
        assert lo < est < hi
    est, lo, hi = difference_ci(y, preds[:1], preds[2:], "r", AblationConfig(n_resamples=200))
    assert est == pytest.approx(metrics(y, preds[0])["r"] - metrics(y, preds[2])["r"])
    assert 0 < lo < est < hi  # noise 0.5 against 1.5 on 120 segments: clearly better
    same = difference_ci(y, preds, preds, "mae", AblationConfig(n_resamples=50))
    assert same == pytest.approx((0.0, 0.0, 0.0))


@pytest.fixture(scope="module")
def small_ablation():
    splits = fold_splits(make_problem())
    config = AblationConfig(alphas=(1.0, 10.0), n_resamples=100)
    return run_ablation(
        splits, ("text", "audio"), "linear", "synthetic", (0, 1), ModelConfig(), FAST, config
    )


def test_run_ablation_trains_every_variant_and_reads_test_once(small_ablation):
    res = small_ablation
    names = ["MSE", ERROR_ONLY, CORRELATION, multitask_name(1), multitask_name(10)]
    assert res.runs["variant"].unique().tolist() == names
    test = res.runs[res.runs["split"] == "test"]
    assert test.groupby(["variant", "seed"]).size().eq(1).all() and len(test) == 10
    p = res.predictions
    assert p["pred_cal"].notna().all()
    assert not p.duplicated(["variant", "seed", "segment_id"]).any()


def test_summary_marks_the_alpha_chosen_on_validation(small_ablation):
    res = small_ablation
    s = summarise(res)
    assert s["loss"].tolist() == res.runs["variant"].unique().tolist()
    assert s["chosen_on_valid"].sum() == 1
    valid = res.runs[(res.runs["split"] == "valid") & res.runs["variant"].str.startswith("multi")]
    best = valid.groupby("variant")["r"].mean().idxmax()
    assert s.loc[s["chosen_on_valid"], "loss"].item() == best
    assert (s["r_lo"] <= s["r"]).all() and (s["r"] <= s["r_hi"]).all()
    # calibration never flips r (least-squares slopes here are positive) and the spread is
    # the mean over seeds of sd(pred) / sd(label) on test
    assert np.allclose(s["r_cal"], s["r"])
    p = res.predictions
    t = p[(p["variant"] == "MSE") & (p["split"] == "test")]
    expected = np.mean([spread_ratio(g["pred"], g["label"]) for _, g in t.groupby("seed")])
    assert s.loc[s["loss"] == "MSE", "spread"].item() == pytest.approx(expected)
    effect = correlation_effect(res)
    row = s.set_index("loss")
    assert effect["d_r"] == pytest.approx(row.loc[CORRELATION, "r"] - row.loc[ERROR_ONLY, "r"])
    assert effect["d_mae_lo"] <= effect["d_mae"] <= effect["d_mae_hi"]


def interval(value: float, lo: float, hi: float, sign: bool = False, **kwargs) -> str:
    """The chapter's interval writer, as a plain stand-in: ``+v [+lo, +hi]``."""
    f = "{:+.3f}" if sign else "{:.3f}"
    return f"{f.format(value)} [{f.format(lo)}, {f.format(hi)}]"


def test_the_verdict_states_what_the_runs_show(small_ablation):
    res = small_ablation
    s = summarise(res)
    v = loss_verdict(res, s)
    row = s.set_index("loss")
    assert (v.r_with, v.r_without) == (row.loc[CORRELATION, "r"], row.loc[ERROR_ONLY, "r"])
    assert v.chosen == row.index[row["chosen_on_valid"]][0]
    assert v.chosen_alpha == variant_alpha(v.chosen) and v.paper_alpha == 10
    assert v.best == row["r"].idxmax() and v.best_r == row["r"].max()
    assert v.mae_cal_range == (row["mae_cal"].min(), row["mae_cal"].max())
    assert v.effect == pytest.approx(correlation_effect(res))
    text = v.sentence(interval)
    e = v.effect
    assert text.startswith(f"- **linear.** The correlation term {v.term_buys_r}: ")
    assert interval(e["d_r"], e["d_r_lo"], e["d_r_hi"], sign=True) in text
    assert f"Validation picks α = {v.chosen_alpha:g}" in text
    assert "the paper reports α = 10, §3.7" in text
    with pytest.raises(ValueError, match="not a multi-task variant"):
        variant_alpha(CORRELATION)
    names = loss_names(s)
    assert names.str.endswith(" *").sum() == 1 and names[s["chosen_on_valid"]].item().endswith(" *")


def test_direction_words_follow_the_interval():
    assert direction(0.01, 0.05, "up", "down", "none") == "up"
    assert direction(-0.05, -0.01, "up", "down", "none") == "down"
    assert direction(-0.01, 0.05, "up", "down", "none") == "none"


def test_calibration_and_epoch_sentences(small_ablation):
    s = pd.DataFrame({"r": [0.5, 0.6], "r_cal": [0.5, 0.6], "cal_slope": [1.37, 2.0]})
    assert "the smallest is 1.37" in calibration_sentence(s)
    flipped = s.assign(r_cal=[-0.5, 0.6])
    assert "negative" in calibration_sentence(flipped)
    kept = small_ablation.runs.query("split == 'test'")["best_epoch"].mean()
    late = epochs_sentence([small_ablation], max_epochs=int(kept))  # kept near the budget's end
    assert f"{kept:.1f} on linear" in late and "still rising" in late
    early = epochs_sentence([small_ablation], max_epochs=int(10 * kept) + 1)
    assert "still rising" not in early


def test_ablation_data_on_the_synthetic_corpus(small_synthetic):
    (data,) = ablation_data(DataFolder.open(small_synthetic))
    assert data.source == "synthetic" and data.modalities == ("text", "visual", "audio")
    assert set(data.splits) == {"train", "valid", "test"}
    ids = [set(fs.video_id) for fs in data.splits.values()]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_bclstm_data_keeps_its_own_split(real_data_dir):
    folder = DataFolder.open(real_data_dir)
    if not folder.has_bclstm:
        pytest.skip("no bc-LSTM features in this data folder")
    data = bclstm_data(folder)
    full = folder.bclstm()
    assert np.array_equal(
        np.sort(data.splits["test"].segment_id), np.sort(full.select("test").segment_id)
    )
    train_ids = set(full.select("train").segment_id)
    assert set(data.splits["valid"].segment_id) <= train_ids
    assert not set(data.splits["valid"].video_id) & set(data.splits["train"].video_id)
