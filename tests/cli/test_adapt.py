"""msa adapt and msa transfer on FeatureSet files made in the test."""

from __future__ import annotations

import json

import numpy as np
import pytest

from msa_lib.cli import main
from msa_lib.data.featureset import FeatureSet


def featureset(path, n: int, width: int, seed: int, prefix: str = "s") -> str:
    """A labelled FeatureSet whose 'text' features are a linear image of the label, saved."""
    rng = np.random.default_rng(seed)
    label = np.clip(rng.normal(0, 1.2, n), -3, 3).astype(np.float32)
    x = np.column_stack([label, rng.normal(size=(n, 2))]) @ rng.normal(size=(3, width))
    fs = FeatureSet(
        segment_id=[f"{prefix}{i}" for i in range(n)],
        video_id=[f"{prefix}v{i // 4}" for i in range(n)],
        split=np.array(["train", "train", "train", "valid", "test"])[(np.arange(n) // 4) % 5],
        label=label,
        features={"text": (x + 0.1 * rng.normal(size=x.shape)).astype(np.float32)},
        corpus=prefix,
        source="synthetic",
    )
    fs.save(path)
    return str(path)


def test_fit_then_apply_writes_a_featureset_in_the_target_width(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 200, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 200, 4, 1, prefix="m")
    ad = str(tmp_path / "coral.pt")
    assert (
        main(
            [
                "adapt",
                "fit",
                "--source",
                src,
                "--target",
                tgt,
                "--kind",
                "coral",
                "--out",
                ad,
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert (report["kind"], report["in_dim"], report["out_dim"]) == ("coral", 6, 4)
    out = tmp_path / "mapped.h5"
    assert (
        main(["adapt", "apply", "--adapter", ad, "--features", src, "--out", str(out), "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["mapped"] == 200
    assert FeatureSet.load(out).dims == {"text": 4}


def test_paired_fit_uses_the_shared_segments(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 200, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 200, 4, 0)  # same ids and labels, another space
    ad = str(tmp_path / "ridge.pt")
    assert (
        main(["adapt", "fit", "--source", src, "--target", tgt, "--paired", "--out", ad, "--json"])
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "paired-ridge" and report["n_pairs"] == report["n_source"]


def test_paired_fit_without_shared_ids_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1, prefix="m")
    assert (
        main(
            [
                "adapt",
                "fit",
                "--source",
                src,
                "--target",
                tgt,
                "--paired",
                "--out",
                str(tmp_path / "a.pt"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("msa adapt: error: paired training: no segment id is in both sets")
    assert len(err.splitlines()) == 1 and not (tmp_path / "a.pt").exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--kind", "paired-mlp"], "needs --paired"),
        (["--paired", "--kind", "coral"], "--paired fits a paired kind"),
        (["--modality", "audio"], "no modality 'audio'"),
    ],
)
def test_contradictory_or_missing_choices_are_one_line(tmp_path, capsys, extra, message):
    src = featureset(tmp_path / "new.h5", 60, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 60, 4, 1)
    args = ["adapt", "fit", "--source", src, "--target", tgt, "--out", str(tmp_path / "a.pt")]
    assert main(args + extra) == 2
    assert message in capsys.readouterr().err


def test_applying_an_adapter_to_features_of_the_wrong_width_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1)
    other = featureset(tmp_path / "other.h5", 50, 5, 2)
    ad = str(tmp_path / "a.pt")
    assert (
        main(["adapt", "fit", "--source", src, "--target", tgt, "--kind", "coral", "--out", ad])
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "adapt",
                "apply",
                "--adapter",
                ad,
                "--features",
                other,
                "--out",
                str(tmp_path / "m.h5"),
            ]
        )
        == 2
    )
    assert "expects 6-d features, got 5-d" in capsys.readouterr().err


def test_transfer_writes_one_row_per_setting(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 240, 4, 0, prefix="m")
    tgt = featureset(tmp_path / "new.h5", 200, 6, 1)
    out = tmp_path / "transfer.csv"
    args = ["transfer", "--source", src, "--target", tgt, "--kinds", "coral", "--seeds", "0"]
    assert main(args + ["--n-jobs", "1", "--out", str(out), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    settings = [(r["setting"], r["adapter"]) for r in rows]
    assert settings == [
        ("source model", "none"),
        ("target only", "none"),
        ("zero-shot", "coral"),
        ("zero-shot + AdaBN", "coral"),
        ("fine-tuned", "coral"),
    ]
    assert out.is_file()


def test_transfer_without_a_target_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 60, 4, 0)
    assert main(["transfer", "--source", src, "--out", str(tmp_path / "t.csv")]) == 2
    assert "--source needs --target" in capsys.readouterr().err
