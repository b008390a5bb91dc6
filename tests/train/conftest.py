import pytest

from msa_lib.data.splits import fold_splits
from tests.train.problem import make_problem


@pytest.fixture(scope="module")
def problem():
    """train/valid/test of the linear problem (180/60/60 segments)."""
    return fold_splits(make_problem())
