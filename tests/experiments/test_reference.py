from msa_lib.experiments.reference import ANCHOR_COLUMNS, anchors, paper_table1
from msa_lib.train import SUBSETS


def test_paper_table1_covers_the_subsets_the_grid_runs():
    p = paper_table1()
    assert p["subset"].tolist() == list(SUBSETS)
    for split in ("train", "valid"):
        assert p[f"{split}_r"].between(0, 1).all() and (p[f"{split}_mae"] > 0).all()
    # as printed: the text-bearing subsets fit far better than audio/visual alone
    text = p["subset"].str.contains("T")
    assert p.loc[text, "valid_r"].min() > p.loc[~text, "valid_r"].max()


def test_anchors_table_is_complete_and_plausible():
    a = anchors()
    assert list(a.columns) == ANCHOR_COLUMNS and a["model"].is_unique
    assert a["citation"].str.contains(r"\(\d{4}\)").all()  # every row cites its source with a year
    for corpus in ("MOSI", "MOSEI"):
        assert a[f"{corpus} r"].between(0, 1).all() and a[f"{corpus} MAE"].between(0, 3).all()
        assert a[f"{corpus} Acc-2 non0"].between(50, 100).all()  # percentages
    assert set(a["text features"]) == {"GloVe", "BERT"}
