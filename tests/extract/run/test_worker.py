"""One segment through every extractor, and the one check of CPU-count options."""

import pytest

from msa_lib.extract.base import ExtractError
from msa_lib.extract.run import worker


def test_cpu_counts_below_zero_are_one_line_errors_naming_the_option():
    assert worker.check_cpus(0, "--workers") == 0 and worker.check_cpus(3, "--threads") == 3
    with pytest.raises(ExtractError, match=r"--threads must be >= 0 \(0: one per core\), got -2"):
        worker.check_cpus(-2, "--threads")
    with pytest.raises(ExtractError, match=r"--workers must be >= 0 \(0: one per CPU\), got -1"):
        worker.check_cpus(-1, zero="one per CPU")


def test_zero_workers_is_one_per_core_and_more_than_the_cores_is_capped(monkeypatch):
    monkeypatch.setattr(worker, "available_cores", lambda: 3)
    assert worker.resolve_workers(0) == 3
    assert worker.resolve_workers(2) == 2
    assert worker.resolve_workers(8) == 3
    with pytest.raises(ExtractError, match="--workers must be >= 0"):
        worker.resolve_workers(-1)
