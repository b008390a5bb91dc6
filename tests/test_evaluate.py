import numpy as np
import pandas as pd
import pytest

from msa_lib.evaluate import (
    aggregate_seeds,
    bootstrap_ci,
    by_split,
    mean_sd,
    metrics,
    metrics_with_ci,
    pearson,
    r_difference_p,
    r_interval,
    scale_diagnostics,
    seed_mean_ci,
    seed_mean_cis,
    seed_sd,
    side_of,
    table1,
    two_level_ci,
)

Y_TRUE = np.array([-2, -1, 0, 1, 2, 3], dtype=float)
Y_PRED = np.array([-1.6, 0.4, 0.2, 1.4, 2.6, 2.4])


def test_metrics_against_hand_computation():
    m = metrics(Y_TRUE, Y_PRED)
    assert m["mae"] == pytest.approx(3.6 / 6)
    tc, pc = Y_TRUE - Y_TRUE.mean(), Y_PRED - Y_PRED.mean()
    assert m["r"] == pytest.approx((tc @ pc) / np.sqrt((tc @ tc) * (pc @ pc)))
    # has-0: y >= 0 vs p >= 0 -> only segment 1 (-1 vs 0.4) is wrong
    assert m["acc2_has0"] == pytest.approx(5 / 6)
    # non-0: segment 2 (label 0) left out; 4 of 5 right
    assert m["acc2_non0"] == pytest.approx(4 / 5)
    # weighted F1 (non-0): negatives F1 2/3 (support 2), positives 6/7 (support 3)
    assert m["f1_non0"] == pytest.approx((2 * 2 / 3 + 3 * 6 / 7) / 5)
    # Acc-7: rounded predictions [-2, 0, 0, 1, 3, 2] against [-2, -1, 0, 1, 2, 3]
    assert m["acc7"] == pytest.approx(3 / 6)


def test_has0_f1_and_all_zero_labels_by_hand():
    m = metrics(Y_TRUE, Y_PRED)
    # has-0 classes: negative {-2, -1} vs non-negative {0, 1, 2, 3}; only segment 1 is wrong
    # negatives: precision 1, recall 1/2 -> F1 2/3; non-negatives: precision 4/5, recall 1 -> 8/9
    assert m["f1_has0"] == pytest.approx((2 * 2 / 3 + 4 * 8 / 9) / 6)
    zero = metrics(np.zeros(4), np.array([0.5, -0.5, 1.0, 2.0]))
    assert np.isnan(zero["acc2_non0"]) and np.isnan(zero["f1_non0"]) and np.isnan(zero["r"])
    assert zero["acc2_has0"] == 0.75 and zero["mae"] == 1.0


def test_acc7_clips_to_range():
    m = metrics(np.array([3.0, -3.0]), np.array([5.2, -4.0]))
    assert m["acc7"] == 1.0


def test_constant_prediction_r_is_nan_not_error():
    m = metrics(Y_TRUE, np.zeros(6))
    assert np.isnan(m["r"]) and m["mae"] == pytest.approx(np.abs(Y_TRUE).mean())
    assert np.isnan(pearson(Y_TRUE, np.ones(6)))


def test_bad_metric_inputs():
    with pytest.raises(ValueError, match="6 values, y_pred 5"):
        metrics(Y_TRUE, Y_PRED[:5])
    with pytest.raises(ValueError, match="finite"):
        metrics(Y_TRUE, np.r_[Y_PRED[:5], np.nan])
    with pytest.raises(ValueError, match="at least 2"):
        metrics([1.0], [1.0])


def test_bootstrap_ci_brackets_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    y = rng.uniform(-3, 3, 300)
    p = y + rng.normal(0, 1.0, 300)
    est, lo, hi = bootstrap_ci(y, p, "r", n_resamples=500, seed=1)
    assert lo < est < hi and 0.7 < lo and hi < 0.95
    assert est == pytest.approx(np.corrcoef(y, p)[0, 1])
    assert bootstrap_ci(y, p, "r", n_resamples=500, seed=1) == (est, lo, hi)
    est, lo, hi = bootstrap_ci(y, p, "mae", n_resamples=500)
    assert lo < est < hi and est == pytest.approx(np.abs(y - p).mean())
    # a bigger sample gives a narrower interval
    y2 = rng.uniform(-3, 3, 3000)
    _, lo2, hi2 = bootstrap_ci(y2, y2 + rng.normal(0, 1.0, 3000), "mae", n_resamples=500)
    assert hi2 - lo2 < hi - lo
    with pytest.raises(ValueError, match="no bootstrap statistic for 'f1'"):
        bootstrap_ci(y, p, "f1")


def test_seed_mean_ci_against_per_seed_metrics_and_by_hand():
    rng = np.random.default_rng(3)
    y = rng.uniform(-3, 3, 200)
    preds = [y + rng.normal(0, s, 200) for s in (0.5, 1.0, 1.5)]
    for metric in ("r", "mae", "acc2_non0", "acc7"):
        est, lo, hi = seed_mean_ci(y, preds, metric, n_resamples=400)
        assert est == pytest.approx(np.mean([metrics(y, p)[metric] for p in preds]))
        assert lo <= est <= hi and lo < hi
    # the same empirical distribution four times over: the interval is about half as wide
    _, lo, hi = seed_mean_ci(y, preds, "r", n_resamples=2000)
    _, lo4, hi4 = seed_mean_ci(np.tile(y, 4), [np.tile(p, 4) for p in preds], "r", n_resamples=2000)
    assert 0.35 < (hi4 - lo4) / (hi - lo) < 0.65
    # a seed with constant predictions has no r: the mean is over the others
    est, _, _ = seed_mean_ci(y, [preds[0], np.full(200, 0.5), preds[2]], "r", n_resamples=50)
    assert est == pytest.approx((metrics(y, preds[0])["r"] + metrics(y, preds[2])["r"]) / 2)
    # every |error| the same within each seed: every resample has the same MAE, 2 then 2 - 0.5
    x = np.arange(10.0)
    assert seed_mean_ci(x, [x + 1, x - 3], "mae", n_resamples=50) == (2.0, 2.0, 2.0)
    est, lo, hi = seed_mean_ci(x, [x + 1, x - 3], "mae", minus=[x + 0.5], n_resamples=50)
    assert (est, lo, hi) == pytest.approx((1.5, 1.5, 1.5))
    # a difference: estimate of the two seed means' difference, zero against itself
    est, lo, hi = seed_mean_ci(y, preds[:1], "r", minus=preds[2:], n_resamples=400)
    assert est == pytest.approx(metrics(y, preds[0])["r"] - metrics(y, preds[2])["r"])
    assert 0 < lo < est < hi
    assert seed_mean_ci(y, preds, "mae", minus=preds, n_resamples=50) == (0.0, 0.0, 0.0)
    assert seed_mean_ci(y, preds, "r", n_resamples=100, seed=4) == seed_mean_ci(
        y, preds, "r", n_resamples=100, seed=4
    )
    with pytest.raises(ValueError, match="no bootstrap statistic for 'f1'"):
        seed_mean_ci(y, preds, "f1")
    cols = seed_mean_cis(y, preds, ("mae", "acc7"), suffix="_cal", n_resamples=100)
    assert list(cols) == [f"{m}_cal{s}" for m in ("mae", "acc7") for s in ("", "_lo", "_hi")]
    assert cols["mae_cal"] == pytest.approx(np.mean([np.abs(y - p).mean() for p in preds]))
    assert cols["mae_cal_lo"] < cols["mae_cal"] < cols["mae_cal_hi"]


def test_metrics_with_ci_keys():
    rng = np.random.default_rng(0)
    y = rng.uniform(-3, 3, 100)
    m = metrics_with_ci(y, y + rng.normal(0, 1, 100), ("r", "acc7"), n_resamples=200)
    assert m["r_lo"] < m["r"] < m["r_hi"]
    assert m["acc7_lo"] <= m["acc7"] <= m["acc7_hi"]


def runs_frame():
    rows = []
    for seed, (tr, te) in enumerate([(1.0, 4.0), (2.0, 5.0), (3.0, 9.0)]):
        rows.append({"model": "fusion", "subset": "T", "seed": seed, "split": "train", "r": tr})
        rows.append({"model": "fusion", "subset": "T", "seed": seed, "split": "test", "r": te})
    rows.append({"model": "ridge", "subset": "T", "seed": 0, "split": "train", "r": 0.5})
    rows.append({"model": "ridge", "subset": "T", "seed": 0, "split": "test", "r": 0.25})
    return pd.DataFrame(rows)


def test_aggregate_over_seeds_mean_and_sd():
    wide = by_split(runs_frame(), ("r",))
    assert list(wide.columns) == ["model", "subset", "seed", "train_r", "test_r"]
    agg = aggregate_seeds(wide, ["model", "subset"]).set_index("model")
    assert agg.loc["fusion", "train_r_mean"] == 2.0
    assert agg.loc["fusion", "train_r_sd"] == pytest.approx(1.0)
    assert agg.loc["fusion", "test_r_mean"] == 6.0
    assert agg.loc["fusion", "test_r_sd"] == pytest.approx(np.sqrt(7.0))
    assert agg.loc["fusion", "n_seeds"] == 3 and agg.loc["ridge", "n_seeds"] == 1
    assert np.isnan(agg.loc["ridge", "test_r_sd"])


def test_table1_layout_and_reference_columns():
    paper = pd.DataFrame(
        {"subset": ["T"], "valid_loss": [0.2], "valid_mae": [0.4], "valid_r": [0.65]}
    )
    tab = table1(runs_frame(), values=("r",), digits=2, paper=paper)
    fusion = tab[tab.model == "fusion"].iloc[0]
    assert fusion["train_r"] == "2.00 ± 1.00" and fusion["test_r"] == "6.00 ± 2.65"
    assert fusion["n_seeds"] == 3
    assert fusion["paper valid_r"] == 0.65  # put beside the fusion rows of the same subset
    ridge = tab[tab.model == "ridge"].iloc[0]
    assert ridge["test_r"] == "0.25" and np.isnan(ridge["paper valid_r"])  # one seed: no sd


def test_mean_sd_format():
    f = pd.DataFrame({"x_mean": [1.23456, np.nan, 2.0], "x_sd": [0.1, np.nan, np.nan]})
    assert mean_sd(f, "x", 2).tolist() == ["1.23 ± 0.10", "", "2.00"]


def test_scale_diagnostics_recovers_a_compressed_scale():
    rng = np.random.default_rng(0)
    y = rng.uniform(-3, 3, 400)
    p = 0.5 * y + 0.2 + rng.normal(0, 0.05, 400)  # right order, half the spread, shifted
    d = scale_diagnostics(y[:200], p[:200], y[200:], p[200:])
    assert d["slope"] == pytest.approx(2.0, rel=0.05) and d["intercept"] == pytest.approx(
        -0.4, abs=0.05
    )
    assert d["sd_ratio"] == pytest.approx(0.5, rel=0.05)
    assert d["mae_rescaled"] < 0.2 < d["mae"]


def test_r_interval_is_scipys_fisher_interval_and_undefined_without_enough_pairs():
    from scipy import stats

    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    res = stats.pearsonr(x, x + rng.normal(size=50))
    ci = res.confidence_interval(0.95)
    assert r_interval(res.statistic, 50) == pytest.approx((ci.low, ci.high))
    assert all(np.isnan(r_interval(np.nan, 50))) and all(np.isnan(r_interval(0.5, 3)))


def test_r_difference_p_by_hand():
    # z = (atanh 0.5 - atanh 0.3) / sqrt(2 / 100) = 1.6955: two-sided p 0.090
    assert r_difference_p(0.5, 103, 0.3, 103) == pytest.approx(0.0900, abs=1e-4)
    assert r_difference_p(0.4, 200, 0.4, 50) == pytest.approx(1.0)
    assert np.isnan(r_difference_p(np.nan, 100, 0.3, 100))


def test_side_of_an_interval():
    assert side_of(0.0, 0.1, 0.3) == "below" and side_of(0.5, 0.1, 0.3) == "above"
    assert side_of(0.2, 0.1, 0.3) == "inside" and side_of(0.1, 0.1, 0.3) == "inside"
    assert side_of(0.2, np.nan, 0.3) == "undefined"


def test_two_level_ci_covers_the_spread_between_seeds():
    rng = np.random.default_rng(5)
    y = rng.uniform(-3, 3, 300)
    # seeds that disagree: each seed's r differs by far more than one seed's segment noise
    preds = [y * w + rng.normal(0, 1.0, 300) for w in (0.2, 0.6, 1.0, 1.4, 1.8)]
    est, lo, hi = two_level_ci(y, preds, "r", n_resamples=1000)
    est1, lo1, hi1 = seed_mean_ci(y, preds, "r", n_resamples=1000)
    assert est == pytest.approx(est1)
    assert lo < lo1 and hi > hi1  # wider: the seeds' own spread is in it
    # seeds that agree exactly: only the segments vary, as with one seed
    same = [preds[2]] * 5
    _, lo2, hi2 = two_level_ci(y, same, "r", n_resamples=1000)
    _, lo3, hi3 = bootstrap_ci(y, preds[2], "r", n_resamples=1000, method="percentile")
    assert abs((hi2 - lo2) - (hi3 - lo3)) < 0.02
    # a difference of paired seeds equal by construction is exactly zero in every replicate
    assert two_level_ci(y, preds, "mae", minus=preds, n_resamples=50) == (0.0, 0.0, 0.0)
    # unpaired (5 against 1): the estimate is the difference of the means
    d, dlo, dhi = two_level_ci(y, preds, "r", minus=preds[:1], n_resamples=300)
    assert d == pytest.approx(est - metrics(y, preds[0])["r"])
    assert dlo < d < dhi
    assert two_level_ci(y, preds, "r", n_resamples=100, seed=1) == two_level_ci(
        y, preds, "r", n_resamples=100, seed=1
    )
    with pytest.raises(ValueError, match="300 labels"):
        two_level_ci(y, [preds[0][:10]], "r")


def test_seed_sd_of_a_metric_and_of_a_paired_difference():
    y = np.arange(20.0)
    preds = [y + 1, y + 3]
    assert seed_sd(y, preds, "mae") == pytest.approx(np.std([1, 3], ddof=1))
    assert seed_sd(y, preds, "mae", minus=[y + 0.5, y + 0.5]) == pytest.approx(
        np.std([0.5, 2.5], ddof=1)
    )
    assert np.isnan(seed_sd(y, preds[:1], "mae"))
