import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msa_lib.train.grid as grid_mod
from msa_lib.config import ModelConfig
from msa_lib.train import run_grid, run_key
from msa_lib.train.baselines import late_fusion_runs
from msa_lib.train.codehash import code_fingerprint, import_closure
from tests.train.problem import FAST


def test_grid_is_the_same_in_parallel(problem):
    subsets = {"T": ("text",), "A+T": ("audio", "text")}
    cfg = dataclasses.replace(FAST, max_epochs=2)
    serial = run_grid(problem, subsets, [0, 1], train_config=cfg, n_jobs=1, progress=False)
    parallel = run_grid(problem, subsets, [0, 1], train_config=cfg, n_jobs=2, progress=False)
    assert len(serial.runs) == 2 * 2 * 3  # subsets x seeds x splits
    cols = ["model", "subset", "seed", "split", "loss", "mae", "r", "n"]
    pd.testing.assert_frame_equal(serial.runs[cols], parallel.runs[cols])
    pd.testing.assert_frame_equal(serial.predictions, parallel.predictions)
    assert serial.runs["subset"].tolist()[:6] == ["T"] * 6  # in the order of `subsets`
    assert set(serial.histories["subset"]) == {"T", "A+T"}
    assert late_fusion_runs(serial.predictions, {**subsets, "A": ("audio",)}).empty


def test_grid_resumes_from_its_cache(problem, tmp_path, monkeypatch):
    subsets = {"T": ("text",)}
    cfg = dataclasses.replace(FAST, max_epochs=1)
    first = run_grid(problem, subsets, [0], train_config=cfg, progress=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("run-*.pkl"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(grid_mod, "_train_and_score", no_training)
    monkeypatch.setattr(grid_mod, "_train_and_score_seeds", no_training)
    again = run_grid(problem, subsets, [0], train_config=cfg, progress=False, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first.runs, again.runs)
    # a different seed is a different run: it trains (here: fails loudly)
    with pytest.raises(AssertionError, match="trained again"):
        run_grid(problem, subsets, [1], train_config=cfg, progress=False, cache_dir=tmp_path)
    # so is the same run after an edit to the code it runs
    monkeypatch.setattr(grid_mod, "grid_code", lambda: "edited")
    with pytest.raises(AssertionError, match="trained again"):
        run_grid(problem, subsets, [0], train_config=cfg, progress=False, cache_dir=tmp_path)


def test_grid_ensemble_and_separate_runs_agree_without_dropout(problem):
    """The ways differ by their dropout masks only: without dropout, the same runs up to rounding.

    Rounding grows in training: Adam turns a gradient that one way computes as 0 and the other
    as 1e-10 into a step of the learning rate either way, hence tolerances of 1e-2.
    """
    subsets = {"T": ("text",), "T+V+A": ("text", "visual", "audio")}
    cfg = dataclasses.replace(FAST, max_epochs=3)
    model = ModelConfig(encoder_dropout=0.0, attention_dropout=0.0)
    together = run_grid(problem, subsets, [0, 1, 2], model, cfg, progress=False)
    alone = run_grid(problem, subsets, [0, 1, 2], model, cfg, progress=False, ensemble=False)
    cols = ["model", "subset", "seed", "split", "n", "best_epoch", "epochs"]
    pd.testing.assert_frame_equal(together.runs[cols], alone.runs[cols])
    scores = ["loss", "mae", "r", "acc2_has0", "acc7"]
    np.testing.assert_allclose(together.runs[scores], alone.runs[scores], atol=1e-2)
    keys = ["model", "subset", "seed", "split", "segment_id", "label"]
    pd.testing.assert_frame_equal(together.predictions[keys], alone.predictions[keys])
    np.testing.assert_allclose(together.predictions["pred"], alone.predictions["pred"], atol=1e-2)
    hist = ["subset", "seed", "epoch", "lr", "train_loss", "valid_loss", "valid_r", "best"]
    pd.testing.assert_frame_equal(
        together.histories[hist], alone.histories[hist], check_exact=False, atol=1e-2, rtol=0
    )


def test_grid_ensemble_resumes_from_per_seed_caches(problem, tmp_path, monkeypatch):
    subsets = {"A": ("audio",)}
    cfg = dataclasses.replace(FAST, max_epochs=1)
    first = run_grid(problem, subsets, [0, 1], train_config=cfg, progress=False, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("run-*.pkl"))) == 2  # one file per seed, as separate runs

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(grid_mod, "_train_and_score_seeds", no_training)
    monkeypatch.setattr(grid_mod, "_train_and_score", no_training)
    again = run_grid(problem, subsets, [0, 1], train_config=cfg, progress=False, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(first.runs, again.runs)
    # separate runs are other runs (their own dropout masks): cached apart, so they train
    with pytest.raises(AssertionError, match="trained again"):
        run_grid(
            problem,
            subsets,
            [0],
            train_config=cfg,
            progress=False,
            cache_dir=tmp_path,
            ensemble=False,
        )
    # a new seed beside cached ones trains as an ensemble of one, here: fails loudly
    with pytest.raises(AssertionError, match="trained again"):
        run_grid(problem, subsets, [0, 1, 2], train_config=cfg, progress=False, cache_dir=tmp_path)


def test_a_resumed_ensemble_grid_gives_the_runs_of_an_uninterrupted_one(problem, tmp_path):
    subsets = {"A": ("audio",)}
    cfg = dataclasses.replace(FAST, max_epochs=3)
    whole = run_grid(problem, subsets, [0, 1, 2], train_config=cfg, progress=False)
    run_grid(problem, subsets, [1], train_config=cfg, progress=False, cache_dir=tmp_path)
    resumed = run_grid(
        problem, subsets, [0, 1, 2], train_config=cfg, progress=False, cache_dir=tmp_path
    )
    scores = ["loss", "mae", "r"]  # up to rounding: batched kernels round by the members' count
    np.testing.assert_allclose(resumed.runs[scores], whole.runs[scores], atol=2e-3)
    pd.testing.assert_frame_equal(resumed.runs[["seed", "split"]], whole.runs[["seed", "split"]])


def test_run_key_follows_data_settings_seed_and_code(problem):
    args = (ModelConfig(), FAST)
    key = run_key(problem, ["text"], 0, args, "code")
    assert key == run_key(problem, ["text"], 0, args, "code")
    assert key != run_key(problem, ["text"], 1, args, "code")
    assert key != run_key(problem, ["text", "audio"], 0, args, "code")
    assert key != run_key(problem, ["text"], 0, (ModelConfig(hidden=64), FAST), "code")
    assert key != run_key(problem, ["text"], 0, args, "other code")
    assert key != run_key(problem, ["text"], 0, args, "code", "ensemble")
    moved = dict(problem)
    label = problem["valid"].label.copy()
    label[0] += 0.5
    moved["valid"] = dataclasses.replace(problem["valid"], label=label)
    assert key != run_key(moved, ["text"], 0, args, "code")


def test_grid_code_covers_every_module_it_imports():
    closure = import_closure("msa_lib.train.grid")
    for name in (
        "msa_lib.train.grid",
        "msa_lib.train.fusion",
        "msa_lib.train.loop",
        "msa_lib.train.inputs",
        "msa_lib.models.fusion",
        "msa_lib.losses",
        "msa_lib.evaluate",
        "msa_lib.config",
        "msa_lib.data.featureset",
    ):
        assert name in closure, name
    assert not any(n.startswith(("msa_lib.extract", "msa_lib.cli")) for n in closure)
    assert grid_mod.grid_code() == code_fingerprint("msa_lib.train.grid")


def test_grid_code_changes_with_a_dependency_and_only_then():
    models = Path(import_closure("msa_lib.train.grid")["msa_lib.models.fusion"])
    unrelated = Path(grid_mod.__file__).parents[1] / "plots.py"

    def edited(target: Path):
        def read(path: Path) -> bytes:
            data = Path(path).read_bytes()
            return data + b"\n# edited\n" if Path(path) == target else data

        return read

    base = grid_mod.grid_code()
    assert code_fingerprint("msa_lib.train.grid", read=edited(models)) != base
    assert code_fingerprint("msa_lib.train.grid", read=edited(unrelated)) == base
    assert code_fingerprint("msa_lib.train.grid", read=Path.read_bytes) == base


def test_import_closure_of_a_package_on_disk(tmp_path, monkeypatch):
    import importlib

    pkg = tmp_path / "closurepkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "import os\nfrom closurepkg import b\nfrom .c import thing\n",
        "b.py": "import closurepkg.sub.d\n",
        "c.py": "thing = 1\n",
        "sub/__init__.py": "",
        "sub/d.py": "from ..c import thing\n",
        "e.py": "import closurepkg.a\n",  # imports a, but a does not import it
    }
    for name, text in files.items():
        (pkg / name).write_text(text)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    closure = import_closure("closurepkg.a")
    assert set(closure) == {
        "closurepkg",
        "closurepkg.a",
        "closurepkg.b",
        "closurepkg.c",
        "closurepkg.sub.d",
    }  # a parent package counts only where it is imported by name (``from closurepkg import b``)
    before = code_fingerprint("closurepkg.a")
    (pkg / "e.py").write_text("import closurepkg.a\nx = 2\n")
    assert code_fingerprint("closurepkg.a") == before  # not imported by a
    (pkg / "sub" / "d.py").write_text("from ..c import thing\nchanged = True\n")
    assert code_fingerprint("closurepkg.a") != before  # imported through b
    with pytest.raises(ModuleNotFoundError, match="closurepkg.nope"):
        import_closure("closurepkg.nope")
    assert np.all([p.is_file() for p in closure.values()])
