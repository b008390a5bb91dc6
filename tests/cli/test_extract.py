"""``msa extract``: exit status, JSON summary, config errors before any work, workers and SIGKILL."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

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
            "from msa_lib.cli import run; run()",
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


# ----------------------------------------------------------------- two runs at once
MSA = [sys.executable, "-c", "from msa_lib.cli import run; run()"]


@pytest.fixture(scope="module")
def many_clips(tmp_path_factory) -> Path:
    """Six different generated clips (2 s, a moving face and a tone each): real work for two runs."""
    from msa_lib.extract.engines.media import write_media
    from msa_lib.extract.generate import face_frames, tone

    d = tmp_path_factory.mktemp("many")
    for i in range(6):
        write_media(
            d / f"c{i}.mp4",
            face_frames(20, 128, seed=i),
            fps=10,
            audio=tone(2.0, 22050, f0=120.0 + 15 * i, seed=i),
            sample_rate=22050,
        )
    return d


def start_extract(clips, out, *extra: str) -> subprocess.Popen:
    """``msa extract`` of the clips' audio and visual features, as its own process."""
    cmd = [*MSA, "extract", str(clips), "--out", str(out), "--extractors", "audio", "visual"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.Popen(
        [*cmd, "--no-progress", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def assert_same_sets(a: Path, b: Path) -> None:
    """Two FeatureSet files hold the same segments, values and flags."""
    fa, fb = FeatureSet.load(a), FeatureSet.load(b)
    assert fa.segment_id.tolist() == fb.segment_id.tolist()
    for m in fa.modalities:
        np.testing.assert_array_equal(fa.features[m], fb.features[m])
    assert sorted(fa.flags) == sorted(fb.flags)
    for k in fa.flags:
        np.testing.assert_array_equal(fa.flags[k], fb.flags[k])


def test_a_run_into_an_out_in_use_is_refused_naming_the_other(many_clips, tmp_path):
    out = tmp_path / "o"
    hold = (
        "import sys\nfrom msa_lib.io.lock import folder_lock\n"
        "with folder_lock(sys.argv[1]):\n    print('held', flush=True)\n    sys.stdin.readline()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", hold, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        t0 = time.perf_counter()
        proc = start_extract(many_clips, out)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and time.perf_counter() - t0 < 60
        line = err.strip().splitlines()[-1]
        assert line.startswith(f"msa extract: error: {out} is in use by another run: ")
        assert f"pid {holder.pid} (" in line and "or write to another --out" in line
        assert not (out / "audio.h5").exists() and not (out / "cache").exists()  # nothing done
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_two_runs_into_one_out_are_one_refusal_or_two_identical_results(many_clips, tmp_path):
    out = tmp_path / "o"
    procs = [start_extract(many_clips, out, "--json") for _ in range(2)]
    results = [(p, *p.communicate(timeout=300)) for p in procs]
    codes = sorted(p.returncode for p, _, _ in results)
    assert codes in ([0, 0], [0, 2]), [(p.returncode, err[-500:]) for p, _, err in results]
    if codes == [0, 2]:  # the usual case: the second found the first at work
        (winner, _, _), (loser, _, err) = sorted(results, key=lambda r: r[0].returncode)
        assert f"is in use by another run: pid {winner.pid} (" in err
    summaries = [json.loads(o) for p, o, _ in results if p.returncode == 0]
    for s in summaries:
        assert s["extractors"]["audio"]["n_good_rows"] == 6
        assert s["extractors"]["visual"]["n_good_rows"] == 6
    assert not list(out.rglob("*.tmp*")) and not list(out.rglob("*.npz.*"))  # no temp files


def test_two_runs_sharing_a_cache_finish_with_identical_files(many_clips, tmp_path):
    cache = tmp_path / "shared-cache"
    outs = [tmp_path / "a", tmp_path / "b"]
    procs = [start_extract(many_clips, o, "--cache", str(cache), "--json") for o in outs]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    for name in ("audio.h5", "visual.h5", "features.h5"):
        assert_same_sets(outs[0] / name, outs[1] / name)
    # one whole, content-keyed entry per segment and extractor: nothing torn, nothing mixed
    entries = sorted(cache.rglob("*.npz"))
    assert len(entries) == 12 and not [p for p in cache.rglob("*") if ".tmp" in p.name]
    for p in entries:
        with np.load(p, allow_pickle=False) as z:
            assert p.stem.endswith("-" + str(z["key"])[:16]) and np.isfinite(z["vector"]).all()
    assert not (outs[0] / "cache").exists()  # the shared cache was used, not a private one


def test_an_out_that_is_a_file_is_refused_before_any_work(clip_folder, tmp_path, capsys):
    out = tmp_path / "features.txt"
    out.write_text("a file")
    rc, stdout, err = run(["extract", str(clip_folder), "--out", str(out), "--no-progress"], capsys)
    assert rc == 2 and stdout == "" and err.count("\n") == 1
    assert f"--out {out}: {out} is a file, not a folder" in err
