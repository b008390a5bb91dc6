"""``msa train`` / ``msa evaluate``: features in, checkpoint out, every bad input one clear line."""

import dataclasses
import json

import numpy as np
import pytest

from msa_lib.cli import main
from tests.train.problem import make_problem


def strict_json(text: str):
    """Parse JSON, refusing bare NaN/Infinity (which json.loads accepts by default)."""

    def refuse(token):
        raise AssertionError(f"bare {token} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The linear problem as one merged file and as one file per modality."""
    d = tmp_path_factory.mktemp("features")
    fs = make_problem()
    out = {"merged": fs.save(d / "all.h5")}
    for m in fs.modalities:
        out[m] = fs.with_modalities([m]).save(d / f"{m}.h5")
    return out


FAST = ["--max-epochs", "2", "--threads", "1"]


def last_line(err: str) -> str:
    lines = [x for x in err.strip().splitlines() if x]
    assert not any("Traceback" in x for x in lines), err
    return lines[-1]


def test_train_then_evaluate(files, tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    args = ["--features", str(files["merged"]), *FAST]
    assert main(["train", *args, "--modalities", "text", "audio", "--out", str(ckpt)]) == 0
    trained = strict_json(capsys.readouterr().out)
    assert trained["modalities"] == ["text", "audio"] and trained["epochs"] == 2
    assert trained["configs"]["train"]["max_epochs"] == 2
    assert set(trained["scores"]) == {"train", "valid"}  # the test split is not scored by training
    ev = ["evaluate", "--features", str(files["merged"]), "--model", str(ckpt)]
    assert main([*ev, "--resamples", "100"]) == 0
    scored = strict_json(capsys.readouterr().out)
    assert scored["split"] == "test" and scored["n"] == 60
    assert scored["r_lo"] <= scored["r"] <= scored["r_hi"]


def test_single_modality_files_are_merged(files, tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    feats = ["--features", str(files["text"]), str(files["audio"]), str(files["visual"])]
    assert main(["train", *feats, *FAST, "--out", str(ckpt)]) == 0
    assert sorted(strict_json(capsys.readouterr().out)["modalities"]) == ["audio", "text", "visual"]
    assert main(["evaluate", *feats, "--model", str(ckpt), "--resamples", "50"]) == 0
    assert strict_json(capsys.readouterr().out)["n"] == 60


def test_unknown_modality_lists_the_available_ones(files, tmp_path, capsys):
    out = ["--out", str(tmp_path / "m.pt")]
    feats = ["--features", str(files["text"]), str(files["audio"])]
    assert main(["train", *feats, *FAST, "--modalities", "text", "face", *out]) == 2
    line = last_line(capsys.readouterr().err)
    assert line == (
        "msa train: error: --modalities: unknown modality 'face'; the features have text, audio"
    )
    assert not (tmp_path / "m.pt").exists()


def test_max_epochs_zero_is_a_usage_error(files, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--features", str(files["merged"]), "--max-epochs", "0", "--out", "x.pt"])
    assert exit_.value.code == 2
    assert "argument --max-epochs: must be >= 1, got 0" in last_line(capsys.readouterr().err)


def test_max_epochs_zero_in_a_config_file_names_file_and_key(files, tmp_path, capsys):
    cfg = tmp_path / "train.yaml"
    cfg.write_text("train:\n  max_epochs: 0\n")
    args = ["--features", str(files["merged"]), "--config", str(cfg), "--out", str(tmp_path / "m")]
    assert main(["train", *args]) == 2
    line = last_line(capsys.readouterr().err)
    assert "train.yaml [train]" in line and "max_epochs must be >= 1, got 0" in line


@pytest.mark.parametrize("value", ["1.5", "0", "-0.2", "half"])
def test_holdout_outside_zero_one_names_holdout(files, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--features", str(files["merged"]), "--holdout", value, "--out", "x.pt"])
    assert exit_.value.code == 2
    assert "argument --holdout:" in last_line(capsys.readouterr().err)


def test_a_full_training_config_file_with_flags_on_top(files, tmp_path, capsys):
    cfg = tmp_path / "run.yaml"
    cfg.write_text(
        "model:\n  hidden: 32\n  token_dim: 16\n  n_classes: 3\n"
        "train:\n  max_epochs: 3\n  batch_size: 16\n  seed: 4\n  num_threads: 1\n"
        "loss:\n  kind: multitask\n  alpha_mse: 2.0\n"
    )
    ckpt = tmp_path / "m.pt"
    base = ["train", "--features", str(files["merged"]), "--config", str(cfg), "--out", str(ckpt)]
    assert main(base) == 0
    out = strict_json(capsys.readouterr().out)
    assert out["epochs"] == 3 and out["configs"]["model"]["hidden"] == 32
    assert out["configs"]["loss"] == {
        **out["configs"]["loss"],
        "kind": "multitask",
        "alpha_mse": 2.0,
    }
    assert out["scores"]["train"]["loss"] is None  # the multi-task split loss is not defined: null
    assert main([*base, "--max-epochs", "1", "--seed", "7"]) == 0  # flags override the file
    out = strict_json(capsys.readouterr().out)
    assert out["epochs"] == 1 and out["configs"]["train"]["seed"] == 7
    assert out["configs"]["train"]["batch_size"] == 16  # the rest of the file still applies
    cfg.write_text("train:\n  max_epochs: '3'\n")
    assert main(base) == 2
    assert "run.yaml [train]: max_epochs: expected an integer" in capsys.readouterr().err
    cfg.write_text("optimiser:\n  lr: 0.1\n")
    assert main(base) == 2
    assert "unknown section(s) ['optimiser']" in capsys.readouterr().err


def test_evaluate_checkpoint_missing_a_file(files, tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    assert main(["train", "--features", str(files["merged"]), *FAST, "--out", str(ckpt)]) == 0
    capsys.readouterr()
    (ckpt / "scaler.pt").unlink()
    assert main(["evaluate", "--features", str(files["merged"]), "--model", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"msa evaluate: error: {ckpt}: checkpoint has no scaler.pt"


def test_out_is_a_checkpoint_folder_replaced_but_nothing_else(files, tmp_path, capsys):
    ckpt = tmp_path / "model.pt"  # a file-like name makes a folder of that name
    train = ["train", "--features", str(files["merged"]), *FAST]
    assert main([*train, "--out", str(ckpt)]) == 0
    assert strict_json(capsys.readouterr().out)["checkpoint"] == str(ckpt)
    assert sorted(p.name for p in ckpt.iterdir()) == ["config.json", "scaler.pt", "weights.pt"]
    # training again into a checkpoint replaces it (here: one modality instead of three)
    assert main([*train, "--modalities", "text", "--out", str(ckpt)]) == 0
    capsys.readouterr()
    assert json.loads((ckpt / "config.json").read_text())["config"]["modalities"] == ["text"]
    # a file (such as an old single-file checkpoint) or a folder of other things: refused
    # before training
    (tmp_path / "old.pt").write_bytes(b"a single-file checkpoint")
    mine = tmp_path / "results"
    mine.mkdir()
    (mine / "table.csv").write_text("a,b\n")
    for target, reason in ((tmp_path / "old.pt", "exists and is not a folder"),
                           (mine, "a folder that is not a checkpoint")):  # fmt: skip
        assert main([*train, "--max-epochs", "1000", "--out", str(target)]) == 2
        assert f"msa train: error: {target}: {reason}" in last_line(capsys.readouterr().err)
    assert (tmp_path / "old.pt").read_bytes() == b"a single-file checkpoint"
    assert sorted(p.name for p in mine.iterdir()) == ["table.csv"]
    # evaluate names the problem with a path that is not a checkpoint folder
    assert main(["evaluate", "--features", str(files["merged"]), "--model", str(mine)]) == 2
    assert "results: not a checkpoint (no config.json)" in last_line(capsys.readouterr().err)


def test_constant_labels_are_a_clear_error(tmp_path, capsys):
    fs = make_problem()
    flat = dataclasses.replace(fs, label=np.where(fs.split == "train", 1.0, fs.label))
    path = flat.save(tmp_path / "flat.h5")
    assert main(["train", "--features", str(path), *FAST, "--out", str(tmp_path / "m.pt")]) == 2
    line = last_line(capsys.readouterr().err)
    assert "linear-test (train split): every usable label is 1" in line
    assert "cannot select a model by r" in line


def test_evaluate_json_has_null_not_nan(files, tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    assert main(["train", "--features", str(files["merged"]), *FAST, "--out", str(ckpt)]) == 0
    capsys.readouterr()
    fs = make_problem()
    zero_test = dataclasses.replace(fs, label=np.where(fs.split == "test", 0.0, fs.label))
    path = zero_test.save(tmp_path / "zero.h5")
    args = ["evaluate", "--features", str(path), "--model", str(ckpt), "--resamples", "50"]
    assert main(args) == 0
    out = capsys.readouterr().out
    scored = strict_json(out)  # labels all 0: r and the non-0 accuracy are undefined
    assert scored["r"] is None and scored["acc2_non0"] is None and scored["mae"] > 0


def test_train_and_evaluate_on_the_real_bclstm_corpus(real_data_dir, tmp_path, capsys):
    ckpt = tmp_path / "m.pt"
    data = ["--data-dir", str(real_data_dir), "--corpus", "mosi-bclstm"]
    assert main(["train", *data, *FAST, "--modalities", "text", "--out", str(ckpt)]) == 0
    trained = strict_json(capsys.readouterr().out)
    assert trained["modalities"] == ["text"] and trained["epochs"] == 2
    # the bc-LSTM split has no valid fold: whole train videos are held out for validation
    counts = trained["input_counts"]
    assert counts["train"]["n_rows"] > counts["valid"]["n_rows"] > 0
    assert main(["evaluate", *data, "--model", str(ckpt), "--resamples", "50"]) == 0
    scored = strict_json(capsys.readouterr().out)
    assert scored["n"] > 0 and scored["r"] > 0.3  # the text features carry sentiment


def test_zero_filled_rows_are_counted_and_reported(tmp_path, capsys):
    fs = make_problem()
    visual = fs.features["visual"].copy()
    visual[:7] = 0.0  # as --protocol paper gives clips with no face
    path = dataclasses.replace(fs, features={**fs.features, "visual": visual}).save(
        tmp_path / "zeros.h5"
    )
    args = ["train", "--features", str(path), *FAST, "--out", str(tmp_path / "m")]
    assert main(args) == 0
    cap = capsys.readouterr()
    assert strict_json(cap.out)["n_zero_filled"] == {"text": 0, "audio": 0, "visual": 7}
    assert f"{path}: 7 of {len(fs)} 'visual' rows are all zeros" in cap.err
