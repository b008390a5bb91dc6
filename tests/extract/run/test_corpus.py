"""Corpus runs: bad clips, cache and resume, tables cut into windows, the pool, output files."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pandas as pd
import pytest

from msa_lib.config import AudioConfig
from msa_lib.data import FeatureSet
from msa_lib.extract.base import ExtractError, Segment
from msa_lib.extract.plan import plan
from msa_lib.extract.run import local, worker
from msa_lib.extract.run.corpus import extract_corpus
from msa_lib.extract.run.worker import resolve_workers
from msa_lib.extract.transcripts import transcript_features
from msa_lib.io.jsonio import dumps


def strict_json(line: str):
    """Parse JSON refusing NaN/Infinity."""

    def refuse(name):
        raise ValueError(f"bare {name} in JSON")

    return json.loads(line, parse_constant=refuse)


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
    assert info["audio"]["n_failed"] == info["visual"]["n_failed"] == 1 and not rep.all_failed
    assert audio.flags["failed"][row["empty"]] and visual.missing("visual")[row["empty"]]
    errors = [strict_json(line) for line in (out / "errors.jsonl").read_text().splitlines()]
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
    assert glove.modalities == ["glove"]  # GloVe has its own modality, not "text"
    assert sorted(glove.segment_id) == ["good", "noface"] and rep.n_skipped["glove"] == 2
    assert glove.missing("glove").tolist() == [False, True]
    assert glove.flags["empty_text"].tolist() == [False, True]
    assert set(audio.split) == {"unassigned"} and np.isnan(audio.label).all()
    # the merged set: every modality, every segment, NaN rows where a modality is absent
    merged = FeatureSet.load(rep.merged)
    assert sorted(merged.modalities) == ["audio", "glove", "visual"] and len(merged) == 4
    m = {s: i for i, s in enumerate(merged.segment_id)}
    assert merged.missing("glove")[m["empty"]] and not merged.missing("glove")[m["good"]]
    np.testing.assert_array_equal(
        merged.features["audio"][m["good"]], audio.features["audio"][row["good"]]
    )
    assert "audio.failed" in merged.flags and "visual.no_face" in merged.flags


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
    real = worker.run_segment

    def flaky(seg, extractors):
        calls.append(seg.segment_id)
        if seg.segment_id in interrupt:
            interrupt.clear()
            raise KeyboardInterrupt
        return real(seg, extractors)

    monkeypatch.setattr(local, "run_segment", flaky)
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
    extract_corpus(segs, out, ["audio"], {"audio": AudioConfig(duration=None)}, progress=False)
    assert calls == ["a", "b", "c"]


def test_cache_follows_content_not_size_and_mtime(tmp_path, monkeypatch):
    import os

    import soundfile

    from msa_lib.extract.generate import tone

    clip = tmp_path / "clip.wav"
    soundfile.write(clip, tone(1.0, 22050, f0=120.0), 22050, subtype="PCM_16")
    size, mtime = clip.stat().st_size, clip.stat().st_mtime_ns
    segs = [Segment("a", "a", str(clip))]
    first = extract_corpus(segs, tmp_path / "out", ["audio"], progress=False)
    assert first.extractors["audio"]["n_cached"] == 0
    before = FeatureSet.load(tmp_path / "out" / "audio.h5").features["audio"][0]
    # the same size and modification time, other sound
    soundfile.write(clip, tone(1.0, 22050, f0=300.0, seed=5), 22050, subtype="PCM_16")
    os.utime(clip, ns=(mtime, mtime))
    assert (clip.stat().st_size, clip.stat().st_mtime_ns) == (size, mtime)
    again = extract_corpus(segs, tmp_path / "out", ["audio"], progress=False, overwrite=True)
    assert again.extractors["audio"]["n_cached"] == 0
    after = FeatureSet.load(tmp_path / "out" / "audio.h5").features["audio"][0]
    assert not np.allclose(before, after)


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
    err = strict_json((tmp_path / "out" / "errors.jsonl").read_text().splitlines()[0])
    assert err["segment_id"] == "vid_2" and "beyond the end" in err["error"]


def test_error_log_has_no_bare_nan(tmp_path, face_clip):
    segs = [Segment("a", "v", str(face_clip), float("nan"), 1.0)]
    rep = extract_corpus(segs, tmp_path / "out", ["audio"], progress=False)
    text = rep.errors_log.read_text()
    assert "NaN" not in text
    err = strict_json(text.splitlines()[0])
    assert err["start"] is None and "non-finite" in err["error"]
    strict_json(dumps(rep.as_dict()))


def test_pool_matches_single_process(tmp_path, face_clip, no_face_clip):
    segs = [Segment("a", "v", str(face_clip)), Segment("b", "v", str(no_face_clip))]
    one = extract_corpus(segs, tmp_path / "one", ["audio", "visual"], progress=False)
    two = extract_corpus(segs, tmp_path / "two", ["audio", "visual"], workers=2, progress=False)
    for n in ("audio", "visual"):
        a = FeatureSet.load(one.extractors[n]["file"]).features[n]
        b = FeatureSet.load(two.extractors[n]["file"]).features[n]
        np.testing.assert_allclose(a, b, rtol=1e-5, equal_nan=True)


def test_workers_below_zero_and_above_cores(caplog, monkeypatch):
    with pytest.raises(ExtractError, match="--workers must be >= 0"):
        resolve_workers(-1)
    monkeypatch.setattr(worker, "available_cores", lambda: 2)
    assert resolve_workers(0) == 2 and resolve_workers(1) == 1
    with caplog.at_level(logging.WARNING):
        assert resolve_workers(64) == 2
    assert "--workers 64 is more than the 2 cores" in caplog.text


def test_fewer_good_rows_never_replace_a_file(tmp_path, face_clip, caplog):
    segs = [Segment("a", "v", str(face_clip)), Segment("b", "v", str(face_clip), 0.0, 1.0)]
    out = tmp_path / "out"
    extract_corpus(segs, out, ["audio"], progress=False)
    good = FeatureSet.load(out / "audio.h5")
    assert not good.missing("audio").any()
    # settings under which every row is NaN (a frame longer than the clips)
    broken = {"audio": AudioConfig(n_fft=1 << 17, hop_length=512)}
    with caplog.at_level(logging.WARNING):
        rep = extract_corpus(segs, out, ["audio"], broken, progress=False)
    assert rep.extractors["audio"]["kept_existing"]
    assert f"{out / 'audio.h5'}: kept the existing file (2 good rows)" in caplog.text
    assert "only 0 good rows" in caplog.text and "--overwrite" in caplog.text
    kept = FeatureSet.load(out / "audio.h5")
    np.testing.assert_array_equal(kept.features["audio"], good.features["audio"])
    assert not FeatureSet.load(out / "features.h5").missing("audio").any()
    rep = extract_corpus(segs, out, ["audio"], broken, progress=False, overwrite=True)
    assert not rep.extractors["audio"]["kept_existing"]
    assert FeatureSet.load(out / "audio.h5").missing("audio").all()


def test_truncated_clip_is_flagged(tmp_path, truncated_clip, ten_second_clip, caplog):
    segs = [Segment("cut", "cut", str(truncated_clip)), Segment("whole", "w", str(ten_second_clip))]
    whole = {"audio": AudioConfig(duration=None)}
    with caplog.at_level(logging.WARNING):
        rep = extract_corpus(segs, tmp_path / "out", ["audio"], whole, progress=False)
    fs = FeatureSet.load(tmp_path / "out" / "audio.h5")
    assert fs.flags["truncated"].tolist() == [True, False]
    assert rep.extractors["audio"]["n_truncated"] == 1
    assert str(truncated_clip) in caplog.text and "declares 10.00 s" in caplog.text
    assert "the settings need media up to 10.00 s" in caplog.text


def test_transcript_features_in_table_order_and_cached(tmp_path):
    table = pd.DataFrame(
        {
            "segment_id": ["b_1", "a_0", "c_2"],
            "video_id": ["b", "a", "c"],
            "label": np.array([1.0, -2.0, 0.5], np.float32),
            "split": ["train", "valid", "test"],
            "text": ["a great film", "awful", "it was fine"],
            "has_text": True,
        }
    )
    fs = transcript_features(table, tmp_path / "t", ["glove"], corpus="toy")
    assert fs.segment_id.tolist() == ["b_1", "a_0", "c_2"]
    assert fs.modalities == ["glove"] and fs.split.tolist() == ["train", "valid", "test"]
    np.testing.assert_array_equal(fs.label, table["label"])
    cached = {p: p.stat().st_mtime_ns for p in (tmp_path / "t" / "cache").rglob("*.npz")}
    assert len(cached) == 3
    again = transcript_features(table, tmp_path / "t", ["glove"], corpus="toy")
    np.testing.assert_array_equal(again.features["glove"], fs.features["glove"])
    # nothing encoded again: the cached results are read, not rewritten
    assert {p: p.stat().st_mtime_ns for p in cached} == cached


def test_text_models_load_in_a_thread_while_worker_processes_extract_media(
    tmp_path, long_tone_clip, monkeypatch
):
    import threading

    from msa_lib.extract.features.glove import GloveExtractor

    events = []
    prepare, run_batch = GloveExtractor.prepare, GloveExtractor.run_batch

    def recorded_prepare(self):
        events.append(("prepare", threading.current_thread().name))
        prepare(self)

    def recorded_run_batch(self, segs, progress=False):
        events.append(("run_batch", self._glove is not None))  # loaded before it runs
        return run_batch(self, segs, progress)

    monkeypatch.setattr(GloveExtractor, "prepare", recorded_prepare)
    monkeypatch.setattr(GloveExtractor, "run_batch", recorded_run_batch)
    segs = [Segment(f"a_{i}", "a", str(long_tone_clip), text="a great film") for i in range(2)]
    rep = extract_corpus(segs, tmp_path / "out", ["audio", "glove"], workers=2, progress=False)
    assert events == [("prepare", "msa-preload"), ("run_batch", True)]
    assert rep.extractors["glove"]["n_good_rows"] == 2
    # a second run finds both in the cache: nothing to run, nothing loaded ahead
    events.clear()
    extract_corpus(segs, tmp_path / "out", ["audio", "glove"], workers=2, overwrite=True)
    assert events == []
    # the media extractors in this process: the models load when their extractor runs
    extract_corpus(segs[:1], tmp_path / "one", ["audio", "glove"], progress=False)
    assert events == [("run_batch", False)]


def test_load_ahead_runs_one_clip_in_a_worker_while_this_process_loads_models(
    tmp_path, long_tone_clip, monkeypatch
):
    import threading

    import msa_lib.extract.run.corpus as corpus
    from msa_lib.extract.features.glove import GloveExtractor

    threads = []
    prepare = GloveExtractor.prepare

    def recorded_prepare(self):
        threads.append(threading.current_thread().name)
        prepare(self)

    monkeypatch.setattr(GloveExtractor, "prepare", recorded_prepare)
    seg = [Segment("a", "a", str(long_tone_clip), text="a great film")]
    here = extract_corpus(seg, tmp_path / "here", ["audio", "glove"], progress=False)
    assert threads == []  # one worker, one clip, no load_ahead: all of it in this process
    monkeypatch.setattr(corpus, "available_cores", lambda: 2)
    ahead = extract_corpus(
        seg, tmp_path / "ahead", ["audio", "glove"], progress=False, load_ahead=True
    )
    assert threads == ["msa-preload"]
    for n in ("audio", "glove"):  # the same features, bit for bit, wherever they were computed
        np.testing.assert_array_equal(
            FeatureSet.load(ahead.extractors[n]["file"]).features[n],
            FeatureSet.load(here.extractors[n]["file"]).features[n],
        )
    # one core: nothing to overlap, so the clip is extracted here and nothing loads ahead
    threads.clear()
    monkeypatch.setattr(corpus, "available_cores", lambda: 1)
    extract_corpus(seg, tmp_path / "one", ["audio", "glove"], progress=False, load_ahead=True)
    assert threads == []


def test_a_model_that_fails_to_load_ahead_fails_where_it_runs(tmp_path, long_tone_clip):
    from msa_lib.config import TextConfig

    segs = [Segment(f"a_{i}", "a", str(long_tone_clip), text="a great film") for i in range(2)]
    settings = {"text": TextConfig(glove="no-such-glove-package")}
    with pytest.raises(FileNotFoundError, match="GloVe vectors .no-such-glove-package. not found"):
        extract_corpus(segs, tmp_path / "out", ["audio", "glove"], settings, workers=2)
    # the media were extracted, and cached, before the error: a rerun finds them
    assert len(list((tmp_path / "out" / "cache").rglob("*.npz"))) == 2
