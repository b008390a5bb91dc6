"""The Ray backend: the local backend's features bit for bit, one cache for both, dead workers."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

import numpy as np
import pytest

from msa_lib.cli import main
from msa_lib.config import AudioConfig, ConfigError, RayConfig
from msa_lib.data import FeatureSet
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import ExtractError, Extractor, Outcome, Segment
from msa_lib.extract.run import corpus, worker
from msa_lib.extract.run import local as local_backend
from msa_lib.extract.run.corpus import extract_corpus
from msa_lib.extract.run.ray import ray_pass, ray_session, require_ray


@pytest.fixture(scope="module")
def ray_local():
    """One local Ray instance with 2 CPUs for the module (its start-up is most of the time)."""
    pytest.importorskip("ray")
    tmp = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # Ray's socket paths must stay short
    try:
        with ray_session(2, RayConfig(temp_dir=tmp)) as ray:
            yield ray
        assert not ray.is_initialized()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def segments(face_clip, no_face_clip, long_tone_clip, zero_byte_clip) -> list[Segment]:
    """A face, two windows of one video, a clip with no face, and an empty file (fails)."""
    return [
        Segment("a", "v1", str(face_clip)),
        Segment("b", "v2", str(long_tone_clip), 0.0, 2.0),
        Segment("c", "v2", str(long_tone_clip), 2.0, 4.5),
        Segment("d", "v3", str(no_face_clip)),
        Segment("e", "v4", str(zero_byte_clip)),
    ]


EXTRACTORS = ["audio", "visual"]


@pytest.fixture(scope="module")
def both_runs(ray_local, segments, tmp_path_factory):
    """The segments extracted by each backend, each into its own folder and cache."""
    root = tmp_path_factory.mktemp("runs")
    local = extract_corpus(segments, root / "local", EXTRACTORS, progress=False)
    on_ray = extract_corpus(
        segments, root / "ray", EXTRACTORS, workers=2, progress=False, backend="ray"
    )
    return local, on_ray


def assert_same_sets(a: FeatureSet, b: FeatureSet) -> None:
    """Two sets equal bit for bit: ids, features (NaN where NaN) and flags.

    Every backend runs extraction on one BLAS thread (``worker.one_thread``); with more, librosa's
    matrix products sum in another order and move audio values in the last float32 place.
    """
    assert a.segment_id.tolist() == b.segment_id.tolist() and a.modalities == b.modalities
    for m in a.modalities:
        assert a.features[m].dtype == b.features[m].dtype
        np.testing.assert_array_equal(a.features[m], b.features[m])
    assert sorted(a.flags) == sorted(b.flags)
    for k in a.flags:
        np.testing.assert_array_equal(a.flags[k], b.flags[k])


def test_ray_features_equal_local_bit_for_bit(both_runs):
    local, on_ray = both_runs
    for name in EXTRACTORS:
        assert on_ray.extractors[name]["n_cached"] == 0
        assert on_ray.extractors[name]["n_failed"] == local.extractors[name]["n_failed"] == 1
        assert_same_sets(
            FeatureSet.load(local.extractors[name]["file"]),
            FeatureSet.load(on_ray.extractors[name]["file"]),
        )
    assert_same_sets(FeatureSet.load(local.merged), FeatureSet.load(on_ray.merged))
    # per-segment failures are reported as the local backend reports them
    errors = on_ray.errors_log.read_text()
    assert errors == local.errors_log.read_text() and '"e"' in errors


def partial_cache(run, keep: set[str], dst) -> str:
    """A copy of a run's cache holding only the segments in ``keep`` (a run stopped half-way)."""
    for folder in (run.out_dir / "cache").iterdir():
        (dst / folder.name).mkdir(parents=True)
        for f in folder.glob("*.npz"):
            if f.stem.rsplit("-", 1)[0] in keep:  # <segment>-<input key>.npz
                shutil.copy(f, dst / folder.name / f.name)
    return dst


def test_ray_cache_resumed_locally(both_runs, segments, tmp_path, monkeypatch):
    local, on_ray = both_runs
    computed: list[str] = []  # segments computed by the local backend (in this process)
    real = worker.run_segment
    monkeypatch.setattr(
        local_backend, "run_segment", lambda s, e: computed.append(s.segment_id) or real(s, e)
    )
    cache = partial_cache(on_ray, {"a", "b"}, tmp_path / "cache")
    rep = extract_corpus(segments, tmp_path / "out", EXTRACTORS, progress=False, cache_dir=cache)
    # a, b came from Ray's cache; e failed under Ray, so it is tried again
    assert computed == ["c", "d", "e"] and rep.extractors["visual"]["n_cached"] == 2
    assert_same_sets(FeatureSet.load(local.merged), FeatureSet.load(rep.merged))


class Crashing(Extractor):
    """Ends its worker process on segment 'boom' (as a crash in native code would)."""

    name = "crashing"
    modality = "crashing"
    section = "audio"
    needs = "media"

    def dim(self) -> int:
        """One value."""
        return 1

    def metadata(self) -> ModalityMeta:
        """Nothing to record."""
        return ModalityMeta("crashing", "", {}, ["pid"])

    def run(self, seg: Segment) -> Outcome:
        """The worker's process id, or the end of the worker."""
        if seg.segment_id.startswith("boom"):
            os._exit(1)
        return Outcome(np.array([os.getpid()], np.float32))


def test_a_dead_worker_fails_only_its_segment(ray_local):
    # two actors, two segments queued on each: the first actor dies on 'boom', 's1' waits behind it
    segs = [Segment(sid, "v", "unused.mp4") for sid in ("boom", "s1", "s2", "s3", "s4")]
    got: dict[str, dict[str, Outcome]] = {}

    def on_done(seg, outcomes):
        assert seg.segment_id not in got  # each segment is reported once
        got[seg.segment_id] = outcomes

    ray_pass(segs, [Crashing(AudioConfig())], 2, False, on_done, RayConfig(in_flight=2))
    assert sorted(got) == ["boom", "s1", "s2", "s3", "s4"]
    assert got["boom"]["crashing"].vector is None
    assert got["boom"]["crashing"].error.startswith("worker failed: ")
    assert all(got[s]["crashing"].error is None for s in ("s1", "s2", "s3", "s4"))


def test_workers_that_keep_dying_stop_the_run(ray_local):
    segs = [Segment(f"boom{i}", "v", "unused.mp4") for i in range(4)]
    cfg = RayConfig(max_deaths=1)
    with pytest.raises(ExtractError, match="2 Ray workers died in a row"):
        ray_pass(segs, [Crashing(AudioConfig())], 1, False, lambda s, o: None, cfg)


def test_local_cache_resumed_on_ray_from_the_cli(
    both_runs, face_clip, no_face_clip, tmp_path, monkeypatch, capsys
):
    local, _ = both_runs
    clips = tmp_path / "clips"  # clips 'a' and 'd' of the segments, as a folder (same content)
    clips.mkdir()
    shutil.copy(face_clip, clips / "a.mp4")
    shutil.copy(no_face_clip, clips / "d.mp4")
    out = tmp_path / "out"
    partial_cache(local, {"a"}, out / "cache")  # the local run stopped after 'a'
    sent: list[str] = []  # segments sent to Ray

    def recording_pass(todo, *args, **kwargs):
        sent.extend(s.segment_id for s in todo)
        return ray_pass(todo, *args, **kwargs)

    monkeypatch.setattr(corpus, "ray_pass", recording_pass)
    args = ["extract", str(clips), "--out", str(out), "--extractors", "audio", "--no-progress"]
    assert main([*args, "--backend", "ray", "--workers", "1", "--json"]) == 0
    assert sent == ["d"] and '"n_cached": 1' in capsys.readouterr().out
    want, got = (
        FeatureSet.load(local.extractors["audio"]["file"]),
        FeatureSet.load(out / "audio.h5"),
    )
    for sid in ("a", "d"):
        np.testing.assert_array_equal(
            want.features["audio"][want.segment_id.tolist().index(sid)],
            got.features["audio"][got.segment_id.tolist().index(sid)],
        )
    assert main([*args, "--address", "head:6379"]) == 2  # refused before any connection
    assert "add --backend ray" in capsys.readouterr().err


def test_without_ray_one_line_says_how_to_install(tmp_path, face_clip, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as when it is absent
    with pytest.raises(ExtractError, match=r"pip install -e \.\[ray\]"):
        require_ray()
    out = tmp_path / "out"
    with pytest.raises(ExtractError, match=r"pip install -e \.\[ray\]"):
        extract_corpus([Segment("a", "v", str(face_clip))], out, ["audio"], backend="ray")
    assert not out.exists()  # refused before any work


def test_bad_settings():
    with pytest.raises(ConfigError, match="object_store_mb"):
        RayConfig(object_store_mb=10)
    with pytest.raises(ConfigError, match="in_flight"):
        RayConfig(in_flight=0)
    with pytest.raises(ConfigError, match="max_deaths"):
        RayConfig(max_deaths=0)
    with pytest.raises(ConfigError, match="address is empty"):
        RayConfig(address=" ")
    with pytest.raises(ExtractError, match="unknown backend"):
        extract_corpus([], "unused", ["audio"], backend="spark")
