"""The result cache: a hit is read back without computing, a miss computes once, writes are whole."""

import pickle

import numpy as np
import pytest

from msa_lib.io.cache import ResultCache, cache_key, digest


def never(*args):
    raise AssertionError("computed although the result was cached")


def test_a_key_changes_with_any_part_and_not_otherwise():
    assert cache_key("data", {"lr": 1e-3}, 0) == cache_key("data", {"lr": 1e-3}, 0)
    assert cache_key("data", {"lr": 1e-3}, 0) != cache_key("data", {"lr": 2e-3}, 0)
    assert cache_key("data", {"lr": 1e-3}, 0) != cache_key("data", {"lr": 1e-3}, 1)
    assert len(cache_key("x")) == 20


def test_a_result_is_computed_once_then_read_back(tmp_path):
    cache = ResultCache(tmp_path, "run")
    calls = []
    assert cache.cached("k", lambda: calls.append(1) or {"r": 0.5}) == {"r": 0.5}
    assert cache.cached("k", never) == {"r": 0.5} and calls == [1]
    assert (tmp_path / "run-k.pkl").is_file() and "k" in cache and "other" not in cache
    with pytest.raises(KeyError, match="no result for key other"):
        cache.load("other")


def test_without_a_folder_nothing_is_kept(tmp_path):
    cache = ResultCache(None, "run")
    calls = []
    cache.cached("k", lambda: calls.append(1))
    cache.cached("k", lambda: calls.append(1))
    assert calls == [1, 1] and not cache.enabled and cache.path("k") is None


def test_a_failed_computation_leaves_nothing_behind(tmp_path):
    cache = ResultCache(tmp_path, "run")

    def fails():
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        cache.cached("k", fails)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_result_is_built_once_and_moved_into_place(tmp_path):
    cache = ResultCache(tmp_path, "model")

    def build(folder):
        (folder / "weights.bin").write_bytes(b"abc")
        return "built"

    assert cache.cached_folder("k", build, lambda f: "read") == "built"
    assert (tmp_path / "model-k" / "weights.bin").read_bytes() == b"abc"
    assert cache.cached_folder("k", never, lambda f: (f / "weights.bin").read_bytes()) == b"abc"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-k"]  # no temp folder left


def test_a_failed_folder_build_leaves_nothing(tmp_path):
    cache = ResultCache(tmp_path, "model")

    def build(folder):
        (folder / "half").write_text("x")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        cache.cached_folder("k", build, never)
    assert list(tmp_path.iterdir()) == []


def test_stored_results_are_plain_pickles(tmp_path):
    ResultCache(tmp_path, "run").store("k", [1, 2])
    assert pickle.loads((tmp_path / "run-k.pkl").read_bytes()) == [1, 2]


def test_a_digest_follows_values_dtype_shape_and_order():
    a = np.arange(6, dtype=np.float32)
    assert digest("train", a) == digest("train", a.copy())
    assert digest("train", a) != digest("valid", a)
    assert digest("train", a) != digest("train", a.astype(np.float64))  # same values, other dtype
    assert digest("train", a) != digest("train", a.reshape(2, 3))  # same bytes, other shape
    b = a.copy()
    b[5] += 1
    assert digest("train", a) != digest("train", b)
    assert digest("x", "y") != digest("xy") and digest(a, b) != digest(b, a)
    assert digest(np.array(["s1", "s2"])) != digest(np.array(["s1", "s3"]))
    with pytest.raises(TypeError, match="object array"):
        digest(np.array(["s1", None], dtype=object))


def test_a_folder_result_of_another_run_is_kept_when_it_finished_first(tmp_path):
    cache = ResultCache(tmp_path, "model")

    def build(folder):  # while this run builds, another one finishes the same key
        (folder / "mine").write_text("mine")
        cache.cached_folder("k", lambda f: (f / "theirs").write_text("theirs"), never)
        return "mine"

    assert cache.cached_folder("k", build, lambda f: sorted(p.name for p in f.iterdir())) == [
        "theirs"
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-k"]


def test_without_a_folder_a_folder_result_is_built_in_a_temporary_one(tmp_path):
    seen = []
    cache = ResultCache(None, "model")
    assert cache.cached_folder("k", lambda f: seen.append(f) or f.is_dir(), never) is True
    assert not seen[0].exists()  # removed afterwards
