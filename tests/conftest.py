"""Shared fixtures and what some tests need from outside the repository.

Fixtures: the real data folder (when MSA_DATA_DIR is set) and a small synthetic one; generated
clips come from ``tests/media.py``.

Two things a test may need that a fresh clone lacks, each with a marker that every test needing
it carries (added at collection to every test using the fixture that provides it):

- ``real_data``: a real data folder in ``MSA_DATA_DIR`` (fixture ``real_data_dir``);
- ``espeak``: the ``espeak-ng`` program, for generated speech (fixture ``speech_samples``).

Without it such a test skips, saying how to provide it, unless ``MSA_REQUIRE_DATA=1`` /
``MSA_REQUIRE_ESPEAK=1`` (set by CI) turns the skip into a failure. The run ends with one line
per skip reason: how many tests skipped and how to run them.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from msa_lib.config import SynthConfig
from msa_lib.extract.generate import espeak_available

# generated clips (speech, a face video, broken files) for extraction and command tests;
# pytester runs pytest inside a test (tests/test_conftest.py checks the hooks below with it)
pytest_plugins = ["tests.media", "pytester"]


def data_dir_problem() -> str | None:
    """Why MSA_DATA_DIR names no usable data folder, or None when it does."""
    value = os.environ.get("MSA_DATA_DIR")
    if not value:
        return "MSA_DATA_DIR is not set"
    if not Path(value).is_dir():
        return f"MSA_DATA_DIR={value} is not a folder"
    return None


def espeak_problem() -> str | None:
    """Why generated speech is unavailable, or None when espeak-ng is installed."""
    return None if espeak_available() else "espeak-ng is not installed"


@dataclass(frozen=True)
class Need:
    """Something from outside the repository that some tests need, and how to provide it."""

    marker: str
    fixture: str  # the fixture that provides it: every test using it gets the marker
    problem: Callable[[], str | None]  # why it is missing now, None when present
    require: str  # environment variable that, set to 1, fails instead of skipping
    fix: str  # how a user provides it


NEEDS = (
    Need(
        "real_data",
        "real_data_dir",
        data_dir_problem,
        "MSA_REQUIRE_DATA",
        "export MSA_DATA_DIR=<data folder>; README: Real data or synthetic data",
    ),
    Need(
        "espeak",
        "speech_samples",
        espeak_problem,
        "MSA_REQUIRE_ESPEAK",
        "apt-get install espeak-ng",
    ),
)
NEED = {need.marker: need for need in NEEDS}


def unavailable(need: Need, problem: str) -> None:
    """Skip the test with the reason and its fix, or fail it when ``need.require`` is 1."""
    if os.environ.get(need.require) == "1":
        pytest.fail(f"{problem}, and {need.require}=1 requires it ({need.fix})", pytrace=False)
    pytest.skip(f"{problem} ({need.fix})")


def check(need: Need) -> None:
    """Skip or fail (see :func:`unavailable`) when ``need`` is missing; nothing when present."""
    problem = need.problem()
    if problem is not None:
        unavailable(need, problem)


def pytest_configure(config: pytest.Config) -> None:
    """In the process that starts the xdist workers (or the only one), before any test: librosa's
    numba kernels are compiled into their on-disk cache once, so that the workers, which import
    librosa at once while collecting, only read it (processes writing it together can corrupt it)."""
    if not hasattr(config, "workerinput"):
        from msa_lib.extract.base import build

        build(["audio"])[0].before_workers()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses a need's fixture, directly or through another fixture."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        for need in NEEDS:
            if need.fixture in used:
                item.add_marker(need.marker)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before any fixture: skip (or fail) a marked test whose need is missing."""
    for need in NEEDS:
        if item.get_closest_marker(need.marker) is not None:
            check(need)


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a skipped test gave."""
    if isinstance(report.longrepr, tuple):
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    """After pytest's own summary, one line per skip reason: how many tests, and why."""
    result = yield
    reasons = Counter(skip_reason(r) for r in terminalreporter.stats.get("skipped", []))
    if reasons:
        terminalreporter.write_sep("-", "skipped, and how to run them")
        for reason, n in reasons.most_common():
            terminalreporter.write_line(f"{n} skipped: {reason}")
    return result


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """The real data folder from MSA_DATA_DIR (tests using it are marked ``real_data``)."""
    check(NEED["real_data"])
    return Path(os.environ["MSA_DATA_DIR"])


SMALL_SYNTH = SynthConfig(mosei_segments=240, mosi_segments=120, max_frames=6)


@pytest.fixture(scope="session")
def small_synthetic(tmp_path_factory) -> Path:
    """A small synthetic data folder, generated once per test session."""
    from msa_lib.data.synthetic import generate

    return generate(tmp_path_factory.mktemp("synthetic"), SMALL_SYNTH)
