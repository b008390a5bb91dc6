"""Corpus runs: plans, config files, cache and resume, error log, pool, CLI, bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msa_lib.cli import main
from msa_lib.data import FeatureSet
from msa_lib.extract import corpus
from msa_lib.extract.corpus import (
    ExtractError,
    Segment,
    extract_corpus,
    load_settings,
    plan,
    read_table,
)


@pytest.fixture()
def clip_folder(tmp_path, face_clip, no_face_clip, zero_byte_clip, no_audio_clip) -> Path:
    """A folder of clips with sidecar transcripts: good, no face, empty file, no audio."""
    d = tmp_path / "clips"
    d.mkdir()
    for name, src in [
        ("good", face_clip),
        ("noface", no_face_clip),
        ("empty", zero_byte_clip),
        ("mute", no_audio_clip),
    ]:
        shutil.copy(src, d / f"{name}.mp4")
    (d / "good.txt").write_text("what a wonderful film")
    (d / "noface.txt").write_text("   ")
    return d


def test_config_typo_is_an_error(tmp_path):
    cfg = tmp_path / "extract.yaml"
    cfg.write_text("audio:\n  hop_lenth: 256\n")
    with pytest.raises(ValueError, match=r"hop_lenth") as err:
        load_settings(cfg)
    assert str(cfg) in str(err.value)
    cfg.write_text("audoi:\n  hop_length: 256\n")
    with pytest.raises(ExtractError, match="unknown section"):
        load_settings(cfg)


def test_config_file_values(tmp_path):
    cfg = tmp_path / "extract.json"
    cfg.write_text(
        json.dumps(
            {
                "audio": {"hop_length": 256},
                "visual": {"width_landmarks": "cheeks", "protocol": "sampled"},
            }
        )
    )
    s = load_settings(cfg)
    assert s.audio.hop_length == 256 and s.audio.n_fft == 2048
    assert s.visual.width_landmarks == (234, 454) and s.visual.protocol == "sampled"


def test_folder_run_with_bad_clips(clip_folder, tmp_path):
    segs, name = plan(clip_folder)
    assert [s.segment_id for s in segs] == ["empty", "good", "mute", "noface"] and name == "clips"
    out = tmp_path / "out"
    rep = extract_corpus(segs, out, ["audio", "visual", "glove"], progress=False)
    info = rep.extractors
    assert info["audio"]["dim"] == 74 and info["visual"]["dim"] == 65 and info["glove"]["dim"] == 50
    audio = FeatureSet.load(out / "audio.h5")
    visual = FeatureSet.load(out / "visual.h5")
    row = {s: i for i, s in enumerate(audio.segment_id)}
    # the zero-byte clip failed in both media extractors, named in the error log
    assert info["audio"]["n_failed"] == info["visual"]["n_failed"] == 1
    assert audio.flags["failed"][row["empty"]] and visual.missing("visual")[row["empty"]]
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert {e["segment_id"] for e in errors} == {"empty"}
    assert all("empty (0 bytes)" in e["error"] and "empty.mp4" in e["error"] for e in errors)
    # a clip with no face: NaN visual row and the flag; its audio is fine
    assert visual.flags["no_face"][row["noface"]] and visual.missing("visual")[row["noface"]]
    assert not audio.missing("audio")[row["noface"]]
    # a clip with no audio track: NaN audio row and the flag; its face is fine
    assert audio.flags["no_audio"][row["mute"]] and audio.missing("audio")[row["mute"]]
    assert not visual.missing("visual")[row["mute"]]
    assert np.isfinite(visual.features["visual"][row["good"]]).all()
    assert visual.flags["n_face_frames"][row["good"]] == 30
    # transcripts from sidecars: only two clips have one, one of them is whitespace
    glove = FeatureSet.load(out / "glove.h5")
    assert sorted(glove.segment_id) == ["good", "noface"] and rep.n_skipped["glove"] == 2
    assert glove.missing("text").tolist() == [False, True]
    assert glove.flags["empty_text"].tolist() == [False, True]
    assert set(audio.split) == {"unassigned"} and np.isnan(audio.label).all()


def test_rerun_uses_cache_and_resumes_after_interrupt(
    tmp_path, face_clip, long_tone_clip, monkeypatch
):
    segs = [
        Segment("a", "v", str(face_clip)),
        Segment("b", "v", str(long_tone_clip), 0.0, 2.0),
        Segment("c", "v", str(long_tone_clip), 2.0, 4.5),
    ]
    calls = []
    interrupt = ["c"]  # Ctrl-C once, when segment c starts
    real = corpus.run_media

    def flaky(seg, names, settings):
        calls.append(seg.segment_id)
        if seg.segment_id in interrupt:
            interrupt.clear()
            raise KeyboardInterrupt
        return real(seg, names, settings)

    monkeypatch.setattr(corpus, "run_media", flaky)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        extract_corpus(segs, out, ["audio"], progress=False)
    assert not (out / "audio.h5").exists()
    calls.clear()
    rep = extract_corpus(segs, out, ["audio"], progress=False)
    assert calls == ["c"]  # a and b came from the cache
    assert rep.extractors["audio"]["n_cached"] == 2
    calls.clear()
    extract_corpus(segs, out, ["audio"], progress=False)
    assert calls == []
    # changing a setting starts a fresh cache
    from msa_lib.config import AudioConfig

    extract_corpus(
        segs, out, ["audio"], corpus.Settings(audio=AudioConfig(duration=None)), progress=False
    )
    assert calls == ["a", "b", "c"]


def test_segments_table_cut_and_times_outside(tmp_path, long_tone_clip):
    media = tmp_path / "raw" / "toy"
    media.mkdir(parents=True)
    shutil.copy(long_tone_clip, media / "vid.mp4")
    table = pd.DataFrame(
        {
            "segment_id": ["vid_0", "vid_1", "vid_2", "gone_0"],
            "video_id": ["vid", "vid", "vid", "gone"],
            "start": [0.0, 2.5, 30.0, 0.0],
            "end": [2.5, 5.0, 40.0, 1.0],
            "label": [1.0, -0.5, 2.0, 0.0],
            "split": ["train", "test", "valid", "train"],
        }
    )
    (tmp_path / "toy").mkdir()
    csv = tmp_path / "toy" / "segments.csv"
    table.to_csv(csv, index=False)
    segs, name = plan(csv)  # media folder found at ROOT/raw/<corpus>
    assert name == "toy" and [s.media is not None for s in segs] == [True, True, True, False]
    rep = extract_corpus(segs, tmp_path / "out", ["audio"], progress=False)
    assert rep.n_skipped["audio"] == 1 and rep.extractors["audio"]["n_failed"] == 1
    fs = FeatureSet.load(tmp_path / "out" / "audio.h5")
    assert fs.segment_id.tolist() == ["vid_0", "vid_1", "vid_2"]
    assert fs.label.tolist() == [1.0, -0.5, 2.0] and fs.split.tolist() == ["train", "test", "valid"]
    assert np.isfinite(fs.features["audio"][:2]).all() and fs.flags["failed"].tolist() == [0, 0, 1]
    assert not np.allclose(fs.features["audio"][0], fs.features["audio"][1])
    err = json.loads((tmp_path / "out" / "errors.jsonl").read_text().splitlines()[0])
    assert err["segment_id"] == "vid_2" and "beyond the end" in err["error"]


def test_bad_table_rows_name_the_row(tmp_path):
    csv = tmp_path / "segments.csv"
    csv.write_text("segment_id,start,end,label\na,0,1,5.0\n")
    with pytest.raises(ExtractError, match=r"'a' \(row 2\) has label 5.0"):
        read_table(csv)
    csv.write_text("segment_id,start,end\na,zero,1\n")
    with pytest.raises(ExtractError, match="not a number"):
        read_table(csv)


def test_pool_matches_single_process(tmp_path, face_clip, no_face_clip):
    segs = [Segment("a", "v", str(face_clip)), Segment("b", "v", str(no_face_clip))]
    one = extract_corpus(segs, tmp_path / "one", ["audio", "visual"], progress=False)
    two = extract_corpus(segs, tmp_path / "two", ["audio", "visual"], workers=2, progress=False)
    for n in ("audio", "visual"):
        a = FeatureSet.load(one.extractors[n]["file"]).features[n]
        b = FeatureSet.load(two.extractors[n]["file"]).features[n]
        np.testing.assert_allclose(a, b, rtol=1e-5, equal_nan=True)


def test_cli_json_summary(clip_folder, tmp_path, capsys):
    rc = main(
        [
            "extract",
            str(clip_folder),
            "--out",
            str(tmp_path / "o"),
            "--extractors",
            "audio",
            "--json",
            "--no-progress",
        ]
    )
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    a = summary["extractors"]["audio"]
    assert {k: a[k] for k in ("dim", "n_segments", "n_failed", "n_nan_rows")} == {
        "dim": 74,
        "n_segments": 4,
        "n_failed": 1,
        "n_nan_rows": 2,  # the empty file and the clip without audio
    }
    assert Path(a["file"]).is_file()


def test_cli_config_typo_fails(clip_folder, tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("visual:\n  max_frame: 10\n")
    rc = main(["extract", str(clip_folder), "--out", str(tmp_path / "o"), "--config", str(cfg)])
    assert rc == 2 and "max_frame" in capsys.readouterr().err


@pytest.mark.real_data
def test_real_mosi_clips(real_data_dir, tmp_path, capsys):
    rc = main(
        [
            "extract",
            str(real_data_dir / "raw" / "mosi"),
            "--out",
            str(tmp_path),
            "--extractors",
            "audio",
            "visual",
            "text",
            "--json",
            "--no-progress",
        ]
    )
    assert rc == 0
    s = json.loads(capsys.readouterr().out)["extractors"]
    assert {n: s[n]["dim"] for n in s} == {"audio": 74, "visual": 65, "text": 384}
    assert all(s[n]["n_segments"] == 3 and s[n]["n_nan_rows"] == 0 for n in s)
    text = FeatureSet.load(s["text"]["file"])
    assert set(text.split) == {"train"} and np.isfinite(text.label).all()  # from segments.csv
