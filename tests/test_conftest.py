"""The test suite's own machinery (tests/conftest.py), run on small suites with pytester.

Tests that need a real data folder or espeak-ng carry a marker, skip saying how to run them, fail
instead under MSA_REQUIRE_DATA=1 / MSA_REQUIRE_ESPEAK=1, and the run ends with one line per reason.
"""

from __future__ import annotations

import pytest

INNER_CONFTEST = """
import pytest

from tests.conftest import (
    pytest_collection_modifyitems,
    pytest_runtest_setup,
    pytest_terminal_summary,
    real_data_dir,
)
from tests.media import speech_samples


@pytest.fixture
def spoken(speech_samples):
    return speech_samples
"""

INNER_TESTS = """
import pytest


def test_data(real_data_dir):
    assert real_data_dir.is_dir()


def test_speech_through_another_fixture(spoken):
    assert len(spoken) > 0


@pytest.mark.espeak
def test_marked_without_the_fixture():
    pass


def test_plain():
    pass
"""


@pytest.fixture
def suite(pytester, monkeypatch, tmp_path):
    """A small suite using the fixtures, run where neither real data nor espeak-ng exists."""
    pytester.makeini(
        "[pytest]\nmarkers =\n    real_data: needs real data\n    espeak: needs espeak-ng\n"
    )
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)
    for name in ("MSA_DATA_DIR", "MSA_REQUIRE_DATA", "MSA_REQUIRE_ESPEAK"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no program at all, so no espeak-ng
    return pytester


def test_missing_needs_skip_with_how_to_run_them_and_a_last_summary(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "-ra")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(
        [
            "*short test summary info*",
            "*skipped, and how to run them*",
            "2 skipped: espeak-ng is not installed (apt-get install espeak-ng)",
            "1 skipped: MSA_DATA_DIR is not set (export MSA_DATA_DIR=<data folder>; README:*)",
            "*1 passed, 3 skipped*",
        ]
    )


def test_every_user_of_a_fixture_carries_its_marker(suite):
    result = suite.runpytest("-p", "no:cacheprovider", "-m", "not espeak and not real_data")
    result.assert_outcomes(passed=1, deselected=3)
    result = suite.runpytest("-p", "no:cacheprovider", "-q", "--co", "-m", "espeak")
    result.stdout.fnmatch_lines(
        ["*test_speech_through_another_fixture", "*test_marked_without_the_fixture"]
    )
    assert "test_data" not in result.stdout.str()


def test_required_needs_fail_instead_of_skipping(suite, monkeypatch):
    monkeypatch.setenv("MSA_REQUIRE_DATA", "1")
    monkeypatch.setenv("MSA_REQUIRE_ESPEAK", "1")
    result = suite.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=3)  # failed in setup: the run fails
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        [
            "*MSA_DATA_DIR is not set, and MSA_REQUIRE_DATA=1 requires it*",
            "*espeak-ng is not installed, and MSA_REQUIRE_ESPEAK=1 requires it*",
        ],
        consecutive=False,
    )


def test_a_data_folder_that_is_not_there_is_named(suite, monkeypatch, tmp_path):
    monkeypatch.setenv("MSA_DATA_DIR", str(tmp_path / "absent"))
    result = suite.runpytest("-p", "no:cacheprovider", "-k", "test_data")
    result.assert_outcomes(skipped=1, deselected=3)
    result.stdout.fnmatch_lines([f"1 skipped: MSA_DATA_DIR={tmp_path / 'absent'} is not a folder*"])
    monkeypatch.setenv("MSA_DATA_DIR", str(tmp_path))
    suite.runpytest("-p", "no:cacheprovider", "-k", "test_data").assert_outcomes(
        passed=1, deselected=3
    )
