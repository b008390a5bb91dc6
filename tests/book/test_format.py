"""How the book writes values and intervals."""

import math

import pandas as pd
import pytest

from msa_lib.book.format import MISSING, ci_column, ci_text, format_value


def test_an_interval_is_written_one_way():
    assert ci_text(0.77512, 0.7441, 0.8029) == "0.775 [0.744, 0.803]"
    assert ci_text(-0.0081, -0.015, -0.0012, sign=True) == "-0.008 [-0.015, -0.001]"
    assert ci_text(0.8341, 0.806, 0.862, percent=True) == "83.4% [80.6%, 86.2%]"
    assert ci_text(1.23456, 1.1, 1.4, digits=2) == "1.23 [1.10, 1.40]"


def test_a_missing_interval_or_value_is_said_so():
    assert ci_text(0.5, math.nan, math.nan) == "0.500"
    assert ci_text(0.5, None, None) == "0.500"
    assert ci_text(math.nan, 0.1, 0.2) == MISSING


def test_values_are_rounded_shares_are_percentages_and_nan_is_a_dash():
    assert format_value(0.12345, 3) == "0.123"
    assert format_value(0.5, 3, percent=True) == "50.0%"
    assert format_value(float("nan"), 3) == MISSING
    assert format_value(True, 3) == "yes" and format_value(7, 3) == "7"


def test_a_column_of_intervals_from_value_low_and_high_columns():
    frame = pd.DataFrame(
        {"r": [0.4123, math.nan, 0.2], "r_lo": [0.35, 0.1, math.nan], "r_hi": [0.47, 0.3, 0.4]}
    )
    assert ci_column(frame, "r") == ["0.412 [0.350, 0.470]", MISSING, "0.200"]
    assert ci_column(frame, "r", digits=2, sign=True)[0] == "+0.41 [+0.35, +0.47]"
    shares = pd.DataFrame({"acc": [0.8341], "acc_lo": [0.806], "acc_hi": [0.862]})
    assert ci_column(shares, "acc", percent=True) == ["83.4% [80.6%, 86.2%]"]
    assert ci_column(frame.drop(columns=["r_lo", "r_hi"]), "r") == ["0.412", MISSING, "0.200"]


def test_published_numbers_are_tagged_published_never_real():
    from msa_lib.book.format import caption, published, source_tag

    src = published("Roswendi (2025), Table 1")
    assert caption("The paper's Table 1.", src) == (
        "The paper's Table 1. [published: Roswendi (2025), Table 1]"
    )
    assert "real data" not in source_tag(src)
    # a tag that does not say where the numbers come from is not a published one
    assert "SYNTHETIC" in source_tag("published: ") and "SYNTHETIC" in source_tag("published")
    with pytest.raises(ValueError, match="where the numbers were printed"):
        published(" ")
