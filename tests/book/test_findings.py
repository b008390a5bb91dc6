"""The introduction's findings: computed from saved tables, saying so where a table is absent."""

from __future__ import annotations

import pandas as pd

from msa_lib.book.findings import (
    NOT_RUN,
    baseline_finding,
    code_finding,
    field_finding,
    findings_markdown,
    headline_finding,
    paper_adapter_finding,
    text_finding,
    write_findings,
)


def transfer_table() -> pd.DataFrame:
    rows = [
        ("zero-shot", "paper", 0.01, -0.05, 0.07),
        ("zero-shot", "coral", 0.30, 0.20, 0.40),
        ("zero-shot", "ot", 0.50, 0.40, 0.60),  # the best, but not the kind fixed in advance
        ("target only", "none", 0.70, 0.60, 0.80),
    ]
    return pd.DataFrame(
        [
            {
                "data": "A -> B",
                "data_source": "synthetic",
                "setting": s,
                "adapter": k,
                "r": r,
                "r_lo": lo,
                "r_hi": hi,
            }  # fmt: skip
            for s, k, r, lo, hi in rows
        ]
    )


def test_the_paper_adapter_and_the_headline_kind_are_read_from_the_transfer_table():
    t = transfer_table()
    assert "A -> B (SYNTHETIC): r 0.010 [-0.050, 0.070], at chance" in paper_adapter_finding(t)
    head = headline_finding(t)
    assert "`coral` zero-shot r 0.300 [0.200, 0.400] (above chance)" in head
    assert "against 0.700 for a model trained on the target alone" in head
    assert "`ot`" not in head  # the kind chosen in advance, not the best one
    assert paper_adapter_finding(None).endswith(f"{NOT_RUN}.")
    assert NOT_RUN in paper_adapter_finding(t[t["adapter"] != "paper"])


def test_baselines_field_text_and_code():
    table1 = pd.DataFrame(
        {
            "model": ["fusion", "ridge", "late fusion", "fusion"],
            "subset": ["T+V+A", "T+V+A", "T+V+A", "T"],
            "test_r": ["0.613 ± 0.010", "0.625 ± 0.000", "0.563 ± 0.020", "0.5 ± 0.1"],
            "data_source": "real",
        }
    )
    text = baseline_finding(table1)
    assert "(real), test r, mean over seeds: the paper's fusion model 0.613" in text
    assert "ridge regression on the same inputs 0.625, late fusion 0.563" in text
    field = pd.DataFrame(
        {
            "model": ["fusion", "TFN", "LMF"],
            "d_r": [float("nan"), 0.1, 0.0],
            "d_r_lo": [float("nan"), 0.05, -0.02],
            "d_r_hi": [float("nan"), 0.15, 0.03],
            "d_mae": [float("nan"), 0.0, 0.0],
            "d_mae_lo": [float("nan"), -0.1, -0.1],
            "d_mae_hi": [float("nan"), 0.1, 0.1],
            "data_source": "real",
        }
    )
    said = field_finding(field)
    assert "better than TFN" in said and "not distinguishable from LMF" in said
    assert NOT_RUN in field_finding(None)
    tuned = pd.DataFrame(
        {
            "seed": ["0", "mean"],
            "r": [0.7, 0.75],
            "r_lo": [0.6, 0.7],
            "r_hi": [0.8, 0.8],
            "data_source": "real",
        }  # fmt: skip
    )
    ridge = pd.DataFrame(
        {"features": ["MiniLM", "GloVe"], "test_r": [0.7, 0.4], "data_source": "real"}
    )
    lexicon = pd.DataFrame(
        {
            "scorer": ["VADER", "anchors"],
            "r": [0.5, 0.6],
            "r_lo": [0.4, 0.5],
            "r_hi": [0.6, 0.7],
            "data_source": "real",
        }  # fmt: skip
    )
    t = text_finding(tuned, ridge, lexicon)
    assert "test r 0.750 [0.700, 0.800] (real)" in t and "frozen MiniLM vectors 0.700" in t
    assert "anchors, with no MOSI label at all, 0.600 [0.500, 0.700]" in t
    assert NOT_RUN in text_finding(None, None, None)
    fidelity = pd.DataFrame(
        {"paper's code": ["a", "b", "c"], "paper's text": ["not said", "b", "x"]}
    )
    assert "settles 1 that the text leaves open and departs from the text in 1" in code_finding(
        fidelity
    )


def test_the_findings_file_links_built_chapters_only(tmp_path):
    book = tmp_path / "book"
    (book / "results").mkdir(parents=True)
    transfer_table().to_csv(book / "results" / "transfer.csv", index=False)
    (book / "07_transfer.ipynb").write_text("{}")
    path = write_findings(book)
    text = path.read_text()
    assert path.name == "_findings.md"
    assert "({doc}`07_transfer`)" in text
    assert "`05_fusion` (not in this build)" in text and NOT_RUN in text
    assert findings_markdown(book / "results", lambda doc: False).count("- **") == 6
