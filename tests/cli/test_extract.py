"""``msa extract``: exit status, JSON summary, config errors before any work, workers and SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from msa_lib.cli import main
from msa_lib.data import FeatureSet


def run(args: list[str], capsys) -> tuple[int, str, str]:
    rc = main(args)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_json_summary_and_merged_file(clip_folder, tmp_path, capsys):
    out = tmp_path / "o"
    rc, stdout, _ = run(
        [
            "extract",
            str(clip_folder),
            "--out",
            str(out),
            "--extractors",
            "audio",
            "glove",
            "--json",
            "--no-progress",
        ],
        capsys,
    )
    assert rc == 0
    summary = json.loads(stdout)
    a = summary["extractors"]["audio"]
    assert {k: a[k] for k in ("dim", "n_segments", "n_failed", "n_nan_rows")} == {
        "dim": 74,
        "n_segments": 4,
        "n_failed": 1,
        "n_nan_rows": 2,  # the empty file and the clip without audio
    }
    assert summary["extractors"]["glove"]["modality"] == "glove"
    merged = FeatureSet.load(summary["merged"])
    assert sorted(merged.modalities) == ["audio", "glove"] and len(merged) == 4


def test_every_segment_failed_exits_1(tmp_path, zero_byte_clip, capsys):
    d = tmp_path / "bad"
    d.mkdir()
    shutil.copy(zero_byte_clip, d / "x.mp4")
    shutil.copy(zero_byte_clip, d / "y.mp4")
    rc, stdout, _ = run(
        ["extract", str(d), "--out", str(tmp_path / "o"), "--extractors", "audio", "--json"],
        capsys,
    )
    assert rc == 1
    summary = json.loads(stdout)
    assert summary["all_failed"] == ["audio"]
    assert summary["extractors"]["audio"]["n_failed"] == 2


@pytest.mark.parametrize(
    "text,message",
    [
        ("audio:\n  duration: -1\n", "duration must be > 0"),
        ('audio:\n  hop_length: "512"\n', "hop_length"),
        ("visual:\n  max_frame: 10\n", "max_frame"),
        ("visual:\n  width_landmarks: chin\n", "width_landmarks 'chin' unknown"),
    ],
)
def test_bad_config_is_one_line_before_any_work(clip_folder, tmp_path, capsys, text, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    out = tmp_path / "o"
    rc, _, err = run(["extract", str(clip_folder), "--out", str(out), "--config", str(cfg)], capsys)
    assert rc == 2 and message in err and str(cfg) in err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()  # nothing ran


def test_named_face_width_in_config(clip_folder, tmp_path, capsys):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"visual": {"width_landmarks": "cheeks", "protocol": "sampled"}}))
    out = tmp_path / "o"
    rc, _, _ = run(
        [
            "extract",
            str(clip_folder / "good.mp4"),
            "--out",
            str(out),
            "--config",
            str(cfg),
            "--extractors",
            "visual",
            "--no-progress",
        ],
        capsys,
    )
    assert rc == 0
    params = FeatureSet.load(out / "visual.h5").meta["visual"].params
    assert params["width_landmarks"] == [234, 454] and params["protocol"] == "sampled"


def test_negative_workers_is_an_error(clip_folder, tmp_path, capsys):
    rc, _, err = run(
        ["extract", str(clip_folder), "--out", str(tmp_path / "o"), "--workers", "-1"], capsys
    )
    assert rc == 2 and "--workers" in err


def test_transcript_encoding_option(clip_folder, tmp_path, capsys):
    (clip_folder / "good.txt").write_bytes("très bon".encode("latin-1"))
    args = ["extract", str(clip_folder / "good.mp4"), "--extractors", "glove", "--json"]
    rc, stdout, _ = run([*args, "--out", str(tmp_path / "a")], capsys)
    assert rc == 1 and json.loads(stdout)["extractors"]["glove"]["n_failed"] == 1
    err = (tmp_path / "a" / "errors.jsonl").read_text()
    assert "byte 2" in err and "--transcript-encoding latin-1" in err
    rc, stdout, _ = run(
        [*args, "--out", str(tmp_path / "b"), "--transcript-encoding", "latin-1"], capsys
    )
    assert rc == 0 and json.loads(stdout)["extractors"]["glove"]["n_good_rows"] == 1


def _children(pid: int) -> list[int]:
    """Pids of all descendants of ``pid``."""
    import psutil

    try:
        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pids: list[int]) -> list[int]:
    import psutil

    out = []
    for p in pids:
        try:
            if psutil.Process(p).status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process tree via /proc")
def test_sigkill_leaves_no_worker_alive(tmp_path, long_tone_clip, face_clip):
    pytest.importorskip("psutil")
    d = tmp_path / "many"
    d.mkdir()
    for i in range(6):
        shutil.copy(long_tone_clip if i % 2 else face_clip, d / f"c{i}.mp4")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from msa_lib.cli import main; sys.exit(main())",
            "extract",
            str(d),
            "--out",
            str(tmp_path / "o"),
            "--extractors",
            "audio",
            "visual",
            "--workers",
            "2",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: list[int] = []
    deadline = time.time() + 60
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        time.sleep(0.2)
        workers = [p for p in _children(proc.pid)]
    assert proc.poll() is None and len(workers) >= 2, "workers did not start"
    time.sleep(1.0)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and _alive(workers):
        time.sleep(0.2)
    assert _alive(workers) == []


@pytest.mark.real_data
def test_real_mosi_clips(real_data_dir, tmp_path, capsys):
    rc, stdout, _ = run(
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
        ],
        capsys,
    )
    assert rc == 0
    s = json.loads(stdout)["extractors"]
    assert {n: s[n]["dim"] for n in s} == {"audio": 74, "visual": 65, "text": 384}
    assert all(s[n]["n_segments"] == 3 and s[n]["n_nan_rows"] == 0 for n in s)
    assert all(s[n]["n_truncated"] == 0 for n in ("audio", "visual"))
    text = FeatureSet.load(s["text"]["file"])
    assert set(text.split) == {"train"} and np.isfinite(text.label).all()  # from segments.csv
    merged = FeatureSet.load(tmp_path / "features.h5")
    assert sorted(merged.modalities) == ["audio", "text", "visual"] and len(merged) == 3
