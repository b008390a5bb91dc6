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


# ----------------------------------------------------------------- hostile input, round two
def run(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_a_paired_adapter_on_too_few_pairs_is_refused_naming_the_minimum(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    one = FeatureSet.load(featureset(tmp_path / "m.h5", 100, 4, 1, prefix="m"))
    ids = one.segment_id.copy()
    ids[0] = "s0"  # one segment in both sets (a train one)
    import dataclasses

    dataclasses.replace(one, segment_id=ids).save(tmp_path / "model.h5")
    args = ["adapt", "fit", "--source", src, "--target", str(tmp_path / "model.h5"), "--paired"]
    rc, _, err = run([*args, "--out", str(tmp_path / "a")], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert "paired-ridge: 1 pair; fitting needs at least 3" in err
    assert not (tmp_path / "a").exists()


def test_ids_in_messages_are_plain_strings(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1, prefix="m")
    args = ["adapt", "fit", "--source", src, "--target", tgt, "--paired"]
    rc, _, err = run([*args, "--out", str(tmp_path / "a")], capsys)
    assert rc == 2 and "e.g. ['s0', 's1']" in err and "np.str_" not in err


def test_apply_to_features_with_every_row_missing_exits_1_and_writes_nothing(tmp_path, capsys):
    src = featureset(tmp_path / "new.h5", 100, 6, 0)
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1)
    ad = str(tmp_path / "a")
    assert (
        run(
            ["adapt", "fit", "--source", src, "--target", tgt, "--kind", "coral", "--out", ad],
            capsys,
        )[0]
        == 0
    )
    empty = FeatureSet.load(src)
    empty.features["text"][:] = np.nan
    empty.save(tmp_path / "empty.h5")
    out = tmp_path / "mapped.h5"
    args = ["adapt", "apply", "--adapter", ad, "--features", str(tmp_path / "empty.h5")]
    rc, stdout, err = run([*args, "--out", str(out)], capsys)
    assert rc == 1 and not out.exists()
    assert f"{tmp_path / 'empty.h5'}: every 'text' row is missing (0 of 100 rows usable)" in err


def test_fit_on_a_zero_width_modality_names_the_file(tmp_path, capsys):
    src = FeatureSet.load(featureset(tmp_path / "new.h5", 60, 6, 0))
    src.features["text"] = src.features["text"][:, :0]
    src.save(tmp_path / "zero.h5")
    tgt = featureset(tmp_path / "model.h5", 60, 4, 1)
    args = ["adapt", "fit", "--source", str(tmp_path / "zero.h5"), "--target", tgt]
    rc, _, err = run([*args, "--kind", "coral", "--out", str(tmp_path / "a")], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert f"{tmp_path / 'zero.h5'}: modality 'text' has no columns (0-d)" in err


def with_zero_rows(path, rows) -> str:
    """The FeatureSet at ``path`` with ``rows`` set to zeros, flagged as --protocol paper does."""
    fs = FeatureSet.load(path)
    fs.features["text"][rows] = 0.0
    flag = np.zeros(len(fs), bool)
    flag[rows] = True
    fs.flags["no_face"] = flag
    fs.save(path)
    return str(path)


def test_zero_filled_rows_are_counted_and_reported_by_fit_and_apply(tmp_path, capsys):
    src = with_zero_rows(featureset(tmp_path / "new.h5", 100, 6, 0), [0, 1, 2, 5])  # 4 train rows
    tgt = featureset(tmp_path / "model.h5", 100, 4, 1)
    ad = str(tmp_path / "a")
    args = ["adapt", "fit", "--source", src, "--target", tgt, "--kind", "coral", "--json"]
    rc, stdout, err = run([*args, "--out", ad], capsys)
    assert rc == 0
    assert json.loads(stdout)["n_zero_filled"] == {"source": 4, "target": 0}
    assert f"{src}: 4 of 60 'text' rows of fold 'train' are all zeros" in err
    args = ["adapt", "apply", "--adapter", ad, "--features", src, "--json"]
    rc, stdout, err = run([*args, "--out", str(tmp_path / "m.h5")], capsys)
    assert rc == 0 and json.loads(stdout)["n_zero_filled"] == 4
    assert f"{src}: 4 of 100 'text' rows are all zeros" in err


def test_transfer_checks_its_output_before_any_work(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 240, 4, 0, prefix="m")
    tgt = featureset(tmp_path / "new.h5", 200, 6, 1)
    (tmp_path / "file.txt").write_text("a file")
    out = tmp_path / "file.txt" / "t.csv"
    args = ["transfer", "--source", src, "--target", tgt, "--kinds", "coral", "--seeds", "0"]
    rc, stdout, err = run([*args, "--n-jobs", "1", "--out", str(out)], capsys)
    assert rc == 2 and stdout == "" and err.count("\n") == 1
    assert f"{tmp_path / 'file.txt'} is a file, not a folder" in err and "Errno" not in err


def test_transfer_reports_zero_filled_rows(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 240, 4, 0, prefix="m")
    tgt = with_zero_rows(featureset(tmp_path / "new.h5", 200, 6, 1), [0, 4, 9])
    args = ["transfer", "--source", src, "--target", tgt, "--kinds", "coral", "--seeds", "0"]
    rc, _, err = run([*args, "--n-jobs", "1", "--out", str(tmp_path / "t.csv")], capsys)
    assert rc == 0 and f"{tgt}: 3 of 200 'text' rows are all zeros" in err


def test_transfer_with_kind_none_scores_the_unmapped_features(tmp_path, capsys):
    src = featureset(tmp_path / "model.h5", 240, 4, 0, prefix="m")
    tgt = featureset(tmp_path / "new.h5", 200, 4, 1)  # same width: no adapter needed
    args = ["transfer", "--source", src, "--target", tgt, "--kinds", "none", "--seeds", "0"]
    assert main(args + ["--n-jobs", "1", "--out", str(tmp_path / "t.csv"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["setting"], r["adapter"]) for r in rows] == [
        ("source model", "none"),
        ("target only", "none"),
        ("zero-shot", "none"),
        ("zero-shot + AdaBN", "none"),
    ]
