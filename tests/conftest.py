"""Shared fixtures: the real data folder (when MSA_DATA_DIR is set) and a small synthetic one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from msa_lib.config import SynthConfig

# generated clips (speech, a face video, broken files) for extraction and command tests
pytest_plugins = ["tests.media"]


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real data folder from MSA_DATA_DIR; tests using it skip when it is absent."""
    value = os.environ.get("MSA_DATA_DIR")
    if not value or not Path(value).is_dir():
        pytest.skip("MSA_DATA_DIR is not set to a real data folder")
    return Path(value)


SMALL_SYNTH = SynthConfig(mosei_segments=240, mosi_segments=120, max_frames=6)


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory) -> Path:
    """A small synthetic data folder, generated once per test session."""
    from msa_lib.data.synthetic import generate

    return generate(tmp_path_factory.mktemp("synthetic"), SMALL_SYNTH)
