"""The msa command's shared behaviour: one-line errors, the config-file loader."""

import pytest

from msa_lib.cli import describe_error, main
from msa_lib.cli.common import read_config_file
from tests.imports import loaded_after


def test_config_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("audio: [unclosed\n")
    with pytest.raises(ValueError, match="bad.yaml: not valid YAML/JSON"):
        read_config_file(bad)
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="list.yaml: expected a mapping of settings, got list"):
        read_config_file(listed)
    with pytest.raises(FileNotFoundError, match="absent.yaml: config file not found"):
        read_config_file(tmp_path / "absent.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    assert read_config_file(empty) == {}


def test_an_unexpected_exception_is_one_line_with_its_type():
    assert describe_error(KeyError("state_dict")) == "KeyError: 'state_dict'"
    assert describe_error(ValueError("f.h5: bad\nmore")) == "f.h5: bad"
    assert describe_error(RuntimeError()) == "RuntimeError"


def test_a_command_error_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["data", "summary", "--data-dir", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("msa data: error: ") and "nope" in err[0]


def test_the_parser_loads_no_heavy_library():
    # `msa --help` and every command's options must not wait for torch, pandas, librosa or
    # MediaPipe: a fresh interpreter builds the whole parser and lists what it imported
    loaded = loaded_after("from msa_lib.cli import build_parser; build_parser()")
    assert "msa_lib" in loaded
    assert not loaded & {"torch", "pandas", "librosa", "mediapipe", "transformers", "sklearn", "av"}


def test_cpu_counts_below_zero_are_one_line_errors_naming_the_option(tmp_path, capsys):
    clip = str(tmp_path / "clip.mp4")
    assert main(["predict", clip, "--threads", "-1"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "msa predict: error: --threads must be >= 0 (0: one per core), got -1"
    args = ["extract", clip, "--backend", "ray", "--address", "auto", "--workers", "-3"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("--workers must be >= 0 (0: every CPU of the cluster), got -3")
