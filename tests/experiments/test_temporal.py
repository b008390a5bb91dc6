import numpy as np
import pandas as pd
import pytest
import torch

import msa_lib.experiments.temporal as temporal_mod
from msa_lib.config import ConfigError, ModelConfig, TrainConfig
from msa_lib.data.align import (
    adaptive_pool,
    align,
    aligned_features,
    clean_frames,
    frame_width,
    linear_resample,
    time_average,
)
from msa_lib.data.csd import write_csd
from msa_lib.data.featureset import FeatureSetError
from msa_lib.data.folder import DataFolder
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.temporal import (
    TemporalConfig,
    TemporalVerdict,
    compare_temporal,
    run_temporal,
    summarise_comparison,
    temporal_verdict,
    trend_task,
)
from msa_lib.models.temporal import TemporalModel


def test_adaptive_pool_of_a_known_sequence():
    x = np.arange(6, dtype=np.float32)[:, None]  # frames 0..5
    np.testing.assert_allclose(adaptive_pool(x, 3), [[0.5], [2.5], [4.5]])
    # 5 -> 2: bins [0, 3) and [2, 5) overlap by one frame
    np.testing.assert_allclose(adaptive_pool(x[:5], 2), [[1.0], [3.0]])
    # fewer frames than steps: frames repeat, in order
    np.testing.assert_allclose(adaptive_pool(x[:2], 4), [[0], [0], [1], [1]])
    # 60 frames to 30: pairs averaged, every column on its own
    y = np.column_stack([np.arange(60.0), -np.arange(60.0)])
    np.testing.assert_allclose(adaptive_pool(y, 30)[:, 0], np.arange(30) * 2 + 0.5)
    np.testing.assert_allclose(adaptive_pool(y, 30)[:, 1], -(np.arange(30) * 2 + 0.5))


def test_linear_interpolation_of_a_ramp():
    ramp = np.linspace(0, 1, 4)[:, None] * np.array([[1.0, -2.0]])
    out = linear_resample(ramp, 30)
    assert out.shape == (30, 2)
    np.testing.assert_allclose(out, np.linspace(0, 1, 30)[:, None] * [[1.0, -2.0]], atol=1e-6)
    np.testing.assert_allclose(
        linear_resample(np.array([[0.0], [10.0]]), 6)[:, 0], [0, 2, 4, 6, 8, 10]
    )
    np.testing.assert_allclose(linear_resample(np.array([[3.0, 4.0]]), 3), [[3, 4]] * 3)


def test_defective_frames_follow_the_averaging_rules():
    x = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, -np.inf], [5.0, 6.0]])
    np.testing.assert_allclose(clean_frames(x), [[1, 2], [3, 4], [5, 6]])
    assert align(np.full((3, 2), np.nan), 30, "pool") is None
    assert align(np.zeros((0, 2)), 30, "interpolate") is None
    assert align(x, 30, "pool").shape == (30, 2)
    with pytest.raises(ValueError, match="unknown alignment"):
        align(x, 30, "nearest")


@pytest.fixture
def csd_folder(tmp_path):
    """A data folder with real-named MOSI .csd files: video 'a' by intervals, segment 'b_1' by key."""
    pd.DataFrame(
        {
            "segment_id": ["a_1", "a_2", "b_1", "c_1"],
            "video_id": ["a", "a", "b", "c"],
            "start": [0.0, 2.0, 0.0, 0.0],
            "end": [2.0, 3.0, 1.0, 1.0],
            "label": [1.0, -2.0, 0.4, 0.0],
            "split": ["train", "valid", "test", "test"],
        }
    ).to_csv((tmp_path / "mosi").mkdir() or tmp_path / "mosi" / "segments.csv", index=False)
    t = np.arange(12) * 0.25  # 12 frames of video 'a', 0.25 s each
    ivals = np.column_stack([t, t + 0.25])
    frames = {  # visual: frame index; audio: -frame index; text: 4 "tokens" of segment b_1
        "CMU_MOSI_Visual_OpenFace_2.csd": {"a": (np.arange(12.0)[:, None], ivals)},
        "CMU_MOSI_COVAREP.csd": {"a": (-np.arange(12.0)[:, None] * [1, 2], ivals)},
        "CMU_MOSI_TimestampedWordVectors.csd": {
            "a": (np.ones((3, 3)), ivals[[0, 4, 8]]),
            "b_1": (np.linspace(0, 3, 4)[:, None] * [1, 0, -1], np.array([[0, 0.25]] * 4)),
        },
    }
    for name, entries in frames.items():
        if name != "CMU_MOSI_TimestampedWordVectors.csd":
            entries["b_1"] = (
                np.full((2, entries["a"][0].shape[1]), 7.0),
                np.array([[0, 0.5], [0.5, 1]]),
            )
        write_csd(tmp_path / "csd" / name, entries, root_name=name[:-4])
    return DataFolder.open(tmp_path)


def test_aligned_features_from_csd_files(csd_folder):
    cfg = TemporalConfig(steps=4)
    fs, counts = aligned_features(csd_folder, "mosi", config=cfg)
    assert fs.segment_id.tolist() == ["a_1", "a_2", "b_1", "c_1"]
    assert fs.dims == {"visual": 4, "audio": 8, "text": 12}
    assert fs.meta["audio"].params == {"steps": 4, "width": 2, "alignment": "pool"}
    # a_1 = frames 0..7 of video a (intervals overlapping [0, 2]): pooled in pairs
    np.testing.assert_allclose(fs.features["visual"][0], [0.5, 2.5, 4.5, 6.5])
    np.testing.assert_allclose(fs.features["audio"][0].reshape(4, 2)[:, 1], [-1, -5, -9, -13])
    # a_2 = frames 8..11: one frame per step
    np.testing.assert_allclose(fs.features["visual"][1], [8, 9, 10, 11])
    # b_1's own text entry, 4 token states on a ramp, interpolated to 4 steps: unchanged
    np.testing.assert_allclose(fs.features["text"][2].reshape(4, 3)[:, 0], [0, 1, 2, 3])
    # c_1 has no entry anywhere: a missing modality (NaN row), counted
    assert all(fs.missing(m)[3] for m in fs.modalities)
    assert counts.set_index("modality").loc["visual", "missing"] == 1
    assert counts.set_index("modality").loc["visual", "frames max"] == 8
    # the same segments, in the same order, as the averaged features
    avg, _ = csd_folder.features("mosi")
    assert np.array_equal(avg.segment_id, fs.segment_id)
    np.testing.assert_allclose(
        time_average(fs, 4).features["visual"][:3], avg.features["visual"][:3]
    )


def test_missing_csd_file_is_named(tmp_path, csd_folder):
    (csd_folder.root / "csd" / "CMU_MOSI_COVAREP.csd").unlink()
    with pytest.raises(FileNotFoundError, match=r"no \.csd file for mosi modality \['audio'\]"):
        aligned_features(csd_folder, "mosi")


def test_time_average_and_frame_width():
    fs = trend_task(n=20, steps=5, widths={"audio": 3})
    x = fs.features["audio"].reshape(20, 5, 3)
    np.testing.assert_allclose(time_average(fs, 5).features["audio"], x.mean(axis=1), rtol=1e-6)
    assert frame_width(fs, "audio", 5) == 3
    with pytest.raises(FeatureSetError, match="not a multiple of 4 steps"):
        frame_width(fs, "audio", 4)


@pytest.mark.parametrize("architecture", ["bilstm", "transformer"])
def test_model_shapes_and_attention_pooling(architecture):
    cfg = TemporalConfig(steps=6, architecture=architecture, hidden=8, heads=2, projection=4)
    model = TemporalModel({"audio": 3, "text": 5}, 6, cfg).eval()
    x = {"audio": torch.randn(7, 18), "text": torch.randn(7, 30)}
    out = model(x)
    assert out.score.shape == (7,) and out.logits is None
    h, w = model.attention(x)
    assert h.shape == (7, 6, 16) and torch.allclose(w.sum(dim=1), torch.ones(7))
    with pytest.raises(ValueError, match=r"expected input \[batch, 6 x 5\]"):
        model({"audio": x["audio"], "text": torch.randn(7, 29)})
    with pytest.raises(ConfigError, match="architecture"):
        TemporalConfig(architecture="gru")


def test_run_temporal_caches_and_compare_checks_segments(tmp_path, monkeypatch):
    fs = trend_task(n=200, steps=5, widths={"audio": 3, "text": 4}, seed=1)
    splits = fold_splits(fs)
    cfg = TemporalConfig(steps=5, hidden=8, projection=4)
    train = TrainConfig(max_epochs=2, patience=2, num_threads=1)
    runs, preds = run_temporal(splits, ["audio", "text"], (0, 1), cfg, train, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("temporal-*.pkl"))) == 2
    assert runs.groupby(["seed", "split"]).size().eq(1).all() and len(runs) == 6

    def no_training(*args, **kwargs):
        raise AssertionError("a cached seed was trained again")

    with monkeypatch.context() as patch:
        patch.setattr(temporal_mod, "fit_temporal", no_training)
        runs2, preds2 = run_temporal(
            splits, ["audio", "text"], (0, 1), cfg, train, cache_dir=tmp_path
        )
        pd.testing.assert_frame_equal(preds, preds2)
        pd.testing.assert_frame_equal(runs, runs2)
        # another seed, or other settings, is another key: it trains (here: fails loudly)
        with pytest.raises(AssertionError, match="trained again"):
            run_temporal(splits, ["audio", "text"], (2,), cfg, train, cache_dir=tmp_path)
        with pytest.raises(AssertionError, match="trained again"):
            run_temporal(
                splits, ["audio", "text"], (0,), TemporalConfig(steps=5, hidden=4, projection=4),
                train, cache_dir=tmp_path,
            )  # fmt: skip
        # so is the same run after an edit to the code it runs
        patch.setattr(temporal_mod, "code_fingerprint", lambda name: "edited")
        with pytest.raises(AssertionError, match="trained again"):
            run_temporal(splits, ["audio", "text"], (0,), cfg, train, cache_dir=tmp_path)
    avg = {k: time_average(v, 5) for k, v in splits.items()}
    shuffled = dict(avg, test=avg["test"].take(np.arange(len(avg["test"]))[::-1]))
    with pytest.raises(ValueError, match="different segments"):
        compare_temporal(
            splits, shuffled, ["audio", "text"], "trend", "synthetic", (0,), cfg, train
        )
    both = compare_temporal(
        splits,
        avg,
        ["audio", "text"],
        "trend",
        "synthetic",
        (0,),
        cfg,
        train,
        ModelConfig(),
    )
    assert set(both.runs["model"]) == {"temporal", "averaged"}
    assert set(both.predictions.groupby("model")["segment_id"].nunique()) == {len(fs)}
    table, effect = summarise_comparison(both, n_resamples=50)
    assert table["model"].tolist() == ["temporal", "averaged"]
    row = table.set_index("model")
    assert effect["d_r"] == pytest.approx(row.loc["temporal", "r"] - row.loc["averaged", "r"])
    test = both.runs[both.runs["split"] == "test"].set_index("model")
    assert row.loc["averaged", "mae"] == pytest.approx(test.loc["averaged", "mae"])
    v = temporal_verdict(both, table, effect)
    assert (v.r_temporal, v.r_averaged) == (row.loc["temporal", "r"], row.loc["averaged", "r"])
    assert (v.n_seeds, v.n_test) == (1, len(splits["test"]))
    assert v.seconds == both.seconds
    with pytest.raises(ValueError, match="no 'averaged' row"):
        temporal_verdict(both, table.iloc[:1], effect)


def interval(value: float, lo: float, hi: float, sign: bool = False, **kwargs) -> str:
    """The chapter's interval writer, as a plain stand-in: ``+v [+lo, +hi]``."""
    return f"{value:+.3f} [{lo:+.3f}, {hi:+.3f}]"


@pytest.mark.parametrize(
    "d_r, lo, hi, outcome",
    [
        (0.9, 0.8, 1.0, "the sequence model's r is higher, resolved over seeds and test segments"),
        (
            -0.2,
            -0.3,
            -0.1,
            "the averaged model's r is higher, resolved over seeds and test segments",
        ),
        (0.01, -0.02, 0.04, "no difference resolved"),
    ],
)
def test_the_verdict_says_which_model_reads_more(d_r, lo, hi, outcome):
    effect = {"d_r": d_r, "d_r_lo": lo, "d_r_hi": hi, "d_mae": -0.1, "d_mae_lo": -0.2,
              "d_mae_hi": 0.0}  # fmt: skip
    v = TemporalVerdict("trend", 0.9, 0.9 - d_r, effect, {"temporal": 23, "averaged": 4}, 5, 120)
    assert v.outcome == outcome
    text = v.sentence(interval, side_by_side=2)
    assert text.startswith("- **trend** (n = 120 test segments): the sequence model's test r is")
    assert (
        f"a difference of {interval(d_r, lo, hi)} (95% CI over seeds and test segments; {outcome})"
        in text
    )
    with_sd = TemporalVerdict(
        "trend",
        0.9,
        0.9 - d_r,
        {**effect, "d_r_sd": 0.012},
        {"temporal": 23, "averaged": 4},
        5,
        120,
    )
    assert "(95% CI over seeds and test segments, seed sd 0.012; " in with_sd.sentence(interval)
    assert text.endswith(
        "23 s for the sequence model and 4 s for the averaged one (5 seeds, 2 side by side)."
    )
    assert "side by side" not in v.sentence(interval)
