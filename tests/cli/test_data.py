import json

from msa_lib.cli import main


def test_synth_then_summary(tmp_path, capsys):
    out = tmp_path / "syn"
    assert (
        main(
            ["data", "synth", "--out", str(out), "--mosei-segments", "60", "--mosi-segments", "40"]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["data", "summary", "--data-dir", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["source"] == "synthetic"
    assert sum(summary["corpora"]["mosei"]["splits"].values()) == 60
    assert sum(summary["corpora"]["mosi"]["splits"].values()) == 40


def test_summary_on_real_data(real_data_dir, capsys):
    assert main(["data", "summary", "--data-dir", str(real_data_dir), "--json"]) == 0
    corpora = json.loads(capsys.readouterr().out)["corpora"]
    assert corpora["mosi"]["source"] == "real"
    assert [corpora["mosi"]["splits"][s] for s in ("train", "valid", "test")] == [1284, 229, 686]
    assert [corpora["mosei"]["splits"][s] for s in ("train", "valid", "test", "unassigned")] == [
        16331,
        1871,
        4662,
        395,
    ]


def test_missing_folder_is_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["data", "summary", "--data-dir", str(tmp_path / "nope")]) == 2
    assert "nope does not exist" in capsys.readouterr().err


def test_synth_with_too_few_segments_is_one_line(tmp_path, capsys):
    assert main(["data", "synth", "--out", str(tmp_path / "s"), "--mosei-segments", "5"]) == 2
    err = capsys.readouterr().err
    assert "mosei_segments must be >= 30" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()
