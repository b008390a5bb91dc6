"""``msa predict``: the report, JSON, a folder to CSV, and one-line errors with exit status 2."""
# ruff: noqa: F811  (the bundle fixtures are imported from the library tests and named as arguments)

from __future__ import annotations

import json

import pandas as pd
import pytest

from msa_lib.cli import main
from msa_lib.predict.predictor import Predictor
from tests.predict.test_predictor import (  # noqa: F401  (session fixtures shared with the library tests)
    NOT_TRAINED,
    both_bundle,
    fusion_bundle,
    fusion_model,
    text_bundle,
    text_model,
)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_report_names_score_transcript_modalities_and_training_data(
    speech_clip, text_bundle, capsys
):
    rc, out, err = run(["predict", str(speech_clip), "--model", str(text_bundle)], capsys)
    assert rc == 0, err
    assert "sentiment: " in out and "in [-3, 3]" in out
    assert 'transcript (speech recognition (Whisper base)): "' in out
    assert f"audio   not used: the model has no audio part: {NOT_TRAINED['audio']}" in out
    assert "trained on ten test sentences (SYNTHETIC data)" in out


def test_json_output(speech_clip, text_bundle, capsys):
    rc, out, _ = run(
        [
            "predict",
            str(speech_clip),
            "--model",
            str(text_bundle),
            "--text",
            "i loved it",
            "--json",
        ],
        capsys,
    )
    assert rc == 0
    d = json.loads(out)
    assert d["transcript"] == "i loved it" and d["transcript_source"] == "given"
    assert -3 <= d["score"] <= 3 and d["polarity"] in ("positive", "negative", "neutral")
    assert d["modalities"]["text"]["used"] and d["model"] == "text"


def test_missing_model_is_one_line_naming_make_book(speech_clip, tmp_path, capsys):
    rc, out, err = run(["predict", str(speech_clip), "--model", str(tmp_path / "none")], capsys)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "`make book`" in err and "msa predict: error:" in err


def test_bad_input_is_one_line(tmp_path, speech_clip, no_audio_clip, text_bundle, capsys):
    cases = [
        ([str(tmp_path / "gone.mp4")], "gone.mp4: file not found"),
        ([str(speech_clip), "--text", ""], "--text is empty"),
        ([str(no_audio_clip)], "no audio track"),
        ([str(tmp_path)], "needs --out"),
        ([str(speech_clip), "--out", str(tmp_path / "x.csv")], "--out is for a folder"),
        ([str(speech_clip), "--asr-model", str(tmp_path)], "no model.bin"),
        ([str(speech_clip), "--transcript", str(tmp_path)], "is a folder, not a transcript file"),
    ]
    for args, message in cases:
        rc, _, err = run(["predict", *args, "--model", str(text_bundle)], capsys)
        assert rc == 2 and message in err and err.count("\n") == 1, (args, err)


def test_folder_to_csv(clip_folder, fusion_bundle, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    rc, stdout, err = run(
        ["predict", str(clip_folder), "--model", str(fusion_bundle), "--out", str(out)], capsys
    )
    assert rc == 0, err
    df = pd.read_csv(out).set_index("clip")
    assert sorted(df.index) == ["empty.mp4", "good.mp4", "mute.mp4", "noface.mp4"]
    assert df.loc["good.mp4", "model"] == "fusion"
    # the CSV holds the score the library gives the same clip and transcript (to 4 decimals)
    good = Predictor(fusion_bundle).predict(clip_folder / "good.mp4", "what a wonderful film")
    assert df.loc["good.mp4", "score"] == pytest.approx(round(good.score, 4), abs=1e-9)
    assert "file is empty" in df.loc["empty.mp4", "error"]
    assert df.loc["mute.mp4", "model"] == "fusion (partial)"  # no audio: text and face used
    assert "2 of 4 clips scored" in stdout or "3 of 4 clips scored" in stdout


def test_a_folder_where_every_clip_fails_exits_1(tmp_path, zero_byte_clip, text_bundle, capsys):
    import shutil

    d = tmp_path / "bad"
    d.mkdir()
    shutil.copy(zero_byte_clip, d / "x.mp4")
    rc, out, err = run(
        ["predict", str(d), "--model", str(text_bundle), "--out", str(tmp_path / "s.csv")], capsys
    )
    assert rc == 1 and "0 of 1 clips scored" in out
    # the errors are on stderr too, not only in the CSV and on stdout
    assert "x.mp4: error: " in err and "file is empty" in err
    assert "every one of the 1 clips failed" in err


def test_out_onto_an_existing_file_is_refused_without_overwrite(
    clip_folder, text_bundle, tmp_path, capsys
):
    out = tmp_path / "scores.csv"
    out.write_text("clip,score\nearlier.mp4,1.5\n")  # clips scored before
    args = ["predict", str(clip_folder), "--model", str(text_bundle), "--out", str(out)]
    rc, stdout, err = run(args, capsys)
    assert rc == 2 and stdout == "" and err.count("\n") == 1
    assert f"{out} exists (1 row)" in err and "--overwrite" in err
    assert out.read_text() == "clip,score\nearlier.mp4,1.5\n"
    rc, _, err = run([*args, "--overwrite"], capsys)
    assert rc == 0, err
    assert "good.mp4" in pd.read_csv(out)["clip"].tolist()


def test_a_failing_rerun_never_replaces_good_scores(clip_folder, both_bundle, tmp_path, capsys):
    import shutil

    out = tmp_path / "scores.csv"
    args = ["predict", str(clip_folder), "--out", str(out)]
    rc, _, err = run([*args, "--model", str(both_bundle)], capsys)
    assert rc == 0, err
    good = out.read_bytes()
    broken = tmp_path / "broken"
    shutil.copytree(both_bundle, broken)
    manifest = json.loads((broken / "manifest.json").read_text())
    manifest["parts"]["fusion"]["extractor_settings"]["audio"]["duration"] = -1
    (broken / "manifest.json").write_text(json.dumps(manifest))
    rc, stdout, err = run([*args, "--model", str(broken)], capsys)  # without --overwrite
    assert rc == 2 and "exists" in err and out.read_bytes() == good
    # told to overwrite: the broken bundle is found when it loads, before any clip is heard
    rc, stdout, err = run([*args, "--model", str(broken), "--overwrite"], capsys)
    assert rc == 2 and stdout == "" and err.count("\n") == 1
    assert "manifest.json" in err and "duration must be > 0" in err
    assert out.read_bytes() == good


def test_an_unwritable_out_is_refused_naming_the_folder(clip_folder, text_bundle, capsys):
    from pathlib import Path

    read_only = Path("/sys/kernel")  # read-only even for root
    if not read_only.is_dir():
        pytest.skip("no /sys (not Linux)")
    args = ["predict", str(clip_folder), "--model", str(text_bundle)]
    rc, stdout, err = run([*args, "--out", str(read_only / "scores.csv")], capsys)
    assert rc == 2 and stdout == "" and err.count("\n") == 1
    assert "cannot write in /sys/kernel" in err and "scores.csv." not in err  # no temp file named


def test_help_says_what_out_does_with_an_existing_file(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "an existing file is refused unless --overwrite" in text
