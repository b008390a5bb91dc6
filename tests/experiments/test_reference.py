"""The published numbers, pinned as printed: a typo in msa_lib.experiments.reference fails here."""

from msa_lib.experiments.reference import ANCHOR_COLUMNS, anchors, paper_table1
from msa_lib.train import SUBSETS

# Roswendi (2025), Table 1, typed again from the paper: train loss, MAE, r; valid loss, MAE, r.
PRINTED_TABLE1 = """
A      0.5678 0.5574 0.2604 0.5423 0.5656 0.2703
V      0.5632 0.5642 0.2625 0.4797 0.5659 0.3265
T      0.1093 0.3401 0.7932 0.2142 0.4440 0.6526
A+V    0.4680 0.5398 0.3494 0.4233 0.5395 0.3835
A+T    0.1064 0.3362 0.8024 0.2138 0.4330 0.6705
T+V    0.1086 0.3379 0.7951 0.2160 0.4398 0.6686
T+V+A  0.1075 0.3358 0.7979 0.2197 0.4462 0.6622
"""

# The anchors as their papers report them on the official test folds:
# MOSI MAE, r, Acc-2 (non-0, %); MOSEI MAE, r, Acc-2 (non-0, %).
PRINTED_ANCHORS = """
TFN     GloVe  0.901 0.698 80.8  0.593 0.700 82.5
MulT    GloVe  0.871 0.698 83.0  0.580 0.703 82.5
MISA    BERT   0.783 0.761 83.4  0.555 0.756 85.5
Self-MM BERT   0.712 0.795 84.8  0.530 0.765 85.2
"""


def printed(text: str, n_labels: int) -> dict[tuple[str, ...], list[float]]:
    """Rows of a table typed as printed: the first ``n_labels`` words name the row, then numbers."""
    rows = [line.split() for line in text.strip().splitlines()]
    return {tuple(r[:n_labels]): [float(v) for v in r[n_labels:]] for r in rows}


def test_paper_table1_is_the_printed_table():
    p = paper_table1()
    assert p["subset"].tolist() == list(SUBSETS)  # the subsets the grid runs, in its order
    values = ["train_loss", "train_mae", "train_r", "valid_loss", "valid_mae", "valid_r"]
    assert list(p.columns) == ["subset", *values]
    got = {(s,): row for s, row in zip(p["subset"], p[values].values.tolist(), strict=True)}
    assert got == printed(PRINTED_TABLE1, 1)


def test_anchors_are_the_printed_values():
    a = anchors()
    assert list(a.columns) == ANCHOR_COLUMNS and a["model"].is_unique
    values = [c for c in ANCHOR_COLUMNS if c not in ("model", "text features", "citation")]
    assert values == [f"{c} {m}" for c in ("MOSI", "MOSEI") for m in ("MAE", "r", "Acc-2 non0")]
    got = {
        (m, t): row
        for m, t, row in zip(a["model"], a["text features"], a[values].values.tolist(), strict=True)
    }
    assert got == printed(PRINTED_ANCHORS, 2)


def test_every_anchor_cites_its_paper_with_a_year():
    a = anchors()
    years = a["citation"].str.extract(r"\((\d{4})\)")[0]
    assert years.notna().all(), a.loc[years.isna(), "model"].tolist()
    assert years.astype(int).between(2017, 2021).all()  # TFN 2017 ... Self-MM 2021


def test_the_paper_code_is_cited_by_repository_commit_and_file():
    import pytest

    from msa_lib.experiments.reference import PAPER_CODE, code_citation, code_url

    assert PAPER_CODE["url"].endswith(f"/tree/{PAPER_CODE['commit']}")
    assert len(PAPER_CODE["commit"]) == 40 and PAPER_CODE["url"].startswith("https://github.com/")
    url = code_url("train_mosei_only.py")
    assert url == (
        "https://github.com/rayhanros2030/Multimodal-Sentiment-Analysis/blob/"
        "f41198ad059a3b7ff13210169db1ea5e9614828e/train_mosei_only.py"
    )
    cite = code_citation("train_mosei_only.py", ["RegularizedMultimodalModel"])
    assert cite.startswith(f"[`train_mosei_only.py`]({url}) (`RegularizedMultimodalModel`)")
    assert cite.endswith("at commit `f41198a`")
    with pytest.raises(ValueError, match="not a cited file"):
        code_url("notes.md")


def test_every_link_to_the_paper_code_in_the_chapters_is_at_the_cited_commit():
    import re

    from msa_lib.experiments.reference import PAPER_CODE, PAPER_CODE_FILES
    from msa_lib.io.paths import repo_root

    link = re.compile(r"github\.com/rayhanros2030/[\w.-]+/(?:blob|tree)/([0-9a-f]+)/?([\w.]*)")
    found = []
    for path in sorted((repo_root() / "notebooks").glob("*.py")):
        for commit, file in link.findall(path.read_text()):
            found.append((path.name, commit, file))
    assert found, "no chapter links to the paper's code"
    for name, commit, file in found:
        assert commit == PAPER_CODE["commit"], f"{name}: a link at commit {commit}"
        assert file in PAPER_CODE_FILES, f"{name}: a link to {file!r}, not a cited file"
