"""``msa import mmsa`` and ``msa export --format mmsa``: a round trip, and one-line errors."""

from __future__ import annotations

import json

import numpy as np

from msa_lib.cli import build_parser, main
from msa_lib.data.featureset import FeatureSet
from msa_lib.data.mmsa import load_mmsa
from tests.data.test_mmsa import mmsa_file


def test_import_export_import_round_trips(tmp_path, capsys):
    src = mmsa_file(tmp_path / "mosi_unaligned_50.pkl")
    out = tmp_path / "imported"
    assert main(["import", "mmsa", src, "--out", str(out), "--text", "glove", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["segments"] == {"test": 6, "train": 12, "valid": 6}
    assert report["extractors"]["text"] == "glove" and report["corpus"] == "mosi"
    assert sorted(p.name for p in out.iterdir()) == [
        "aligned.h5",
        "features.h5",
        "import.json",
        "transcripts.csv",
    ]
    back = tmp_path / "back.pkl"
    args = ["export", str(out / "features.h5"), "--format", "mmsa", "--out", str(back)]
    assert main([*args, "--transcripts", str(out / "transcripts.csv")]) == 0
    again = tmp_path / "again"
    assert main(["import", "mmsa", str(back), "--out", str(again)]) == 0
    a, b = FeatureSet.load(out / "features.h5"), FeatureSet.load(again / "features.h5")
    np.testing.assert_array_equal(a.segment_id, b.segment_id)
    np.testing.assert_array_equal(a.split, b.split)
    for m in a.modalities:
        np.testing.assert_array_equal(a.features[m], b.features[m])
    assert b.meta["text"].extractor == "glove"
    first, second = load_mmsa(src).transcripts, load_mmsa(back).transcripts
    assert first["text"].tolist() == second["text"].tolist()


def test_export_with_a_holdout_makes_the_valid_fold(tmp_path, capsys):
    out = tmp_path / "imported"
    assert (
        main(["import", "mmsa", mmsa_file(tmp_path / "m.pkl"), "--out", str(out), "--no-aligned"])
        == 0
    )
    fs = FeatureSet.load(out / "features.h5")
    no_valid = fs.take(fs.split != "valid")
    no_valid.save(tmp_path / "nv.h5")
    args = ["export", str(tmp_path / "nv.h5"), "--format", "mmsa", "--out", str(tmp_path / "x.pkl")]
    assert main(args) == 2
    assert "no ['valid'] segments" in capsys.readouterr().err
    assert main([*args, "--holdout", "0.3"]) == 0
    assert load_mmsa(tmp_path / "x.pkl").features.split_counts()["valid"] > 0


def test_a_bad_file_is_one_line_naming_it(tmp_path, capsys):
    bad = tmp_path / "features.pkl"
    bad.write_text("not a pickle")
    assert main(["import", "mmsa", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "features.pkl: not a pickle" in err
    assert not (tmp_path / "o").exists()


def test_help_says_that_a_pickle_runs_code():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["import"]
    mmsa = next(a for a in sub._actions if a.dest == "import_format").choices["mmsa"]
    assert "Loading a pickle can run code" in mmsa.format_help().replace("\n", " ")
