"""msa adapt and msa transfer on FeatureSet files made in the test."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
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
    ad = str(tmp_path / "coral")
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
    config = json.loads((tmp_path / "coral" / "config.json").read_text())["config"]
    assert (config["adapter"], config["in_dim"], config["out_dim"]) == ("coral", 6, 4)
    out = tmp_path / "mapped.h5"
    assert (
        main(["adapt", "apply", "--adapter", ad, "--features", src, "--out", str(out), "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["mapped"] == 200
    mapped = FeatureSet.load(out)
    assert mapped.dims == {"text": 4} and mapped.meta["text"].extractor == "adapter:coral"


def test_paired_fit_uses_the_shared_segments(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 200, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 200, 4, 0)  # same ids and labels, another space
    ad = str(tmp_path / "ridge")
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
                str(tmp_path / "a"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("msa adapt: error: paired training: no segment id is in both sets")
    assert len(err.splitlines()) == 1 and not (tmp_path / "a").exists()


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
    args = ["adapt", "fit", "--source", src, "--target", tgt, "--out", str(tmp_path / "a")]
    assert main(args + extra) == 2
    assert message in capsys.readouterr().err


def test_applying_an_adapter_to_features_of_the_wrong_width_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1)
    other = featureset(tmp_path / "other.h5", 50, 5, 2)
    ad = str(tmp_path / "a")
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
    written = pd.read_csv(out)
    assert list(zip(written["setting"], written["adapter"])) == settings
    assert written["n"].tolist() == [r["n"] for r in rows]
    np.testing.assert_allclose(written["r"], [r["r"] for r in rows])
    assert written["data_source"].eq("synthetic").all()


def test_transfer_without_a_target_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 60, 4, 0)
    assert main(["transfer", "--source", src, "--out", str(tmp_path / "t.csv")]) == 2
    assert "--source needs --target" in capsys.readouterr().err


def test_an_adapter_file_that_is_not_an_adapter_folder_is_one_line(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 40, 6, 0)
    old = tmp_path / "adapter.pt"  # earlier versions wrote one file; adapters are folders now
    old.write_bytes(b"\x80not a checkpoint")
    args = ["adapt", "apply", "--adapter", str(old), "--features", src]
    assert main(args + ["--out", str(tmp_path / "m.h5")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{old}: not a checkpoint" in err
