"""The paper read as a referee reads it: its statements against its own Table 1."""

from __future__ import annotations

import pytest

from msa_lib.config import ModelConfig
from msa_lib.experiments.paper_review import (
    CONTRADICTION_COLUMNS,
    THREE,
    claims_sentence,
    claims_table,
    contradictions,
    signal_sentence,
    table1_claims,
)
from msa_lib.experiments.reference import paper_table1


def test_each_contradiction_has_both_statements_and_the_choice_the_code_makes():
    t = contradictions()
    assert list(t.columns) == CONTRADICTION_COLUMNS and len(t) == 5
    assert t.notna().all().all() and (t.map(len) > 0).all().all()
    choice = t.set_index("topic")["the book's choice"]
    # read from the networks: the encoder's three Linear layers, the paper's visual adapter
    assert "3 Linear layers, 65→192→192→96" in choice["visual encoder"]
    assert "65→512→512→713" in choice["adapter depth"]
    # another model width changes the stated choice: it cannot drift from the code
    other = contradictions(ModelConfig(hidden=64, token_dim=32, heads=2))
    assert "65→64→64→32" in other.set_index("topic").loc["visual encoder", "the book's choice"]


def test_the_papers_ratios_hold_on_its_training_columns_only():
    claims = {c.claim: c for c in table1_claims()}
    loss_a = claims["text's loss \"5 times less\" than audio's"]
    assert loss_a.train == pytest.approx(0.5678 / 0.1093) and loss_a.holds_train
    assert loss_a.valid == pytest.approx(0.5423 / 0.2142) and not loss_a.holds_valid
    r_v = claims["text's r \"nearly 3 times more\" than visual's"]
    assert r_v.train == pytest.approx(0.7932 / 0.2625) and r_v.holds_train
    assert r_v.valid == pytest.approx(0.6526 / 0.3265) and not r_v.holds_valid
    beats = claims["text beats audio+visual"]
    assert beats.holds_train and beats.holds_valid
    three = claims[THREE]
    assert three.valid == pytest.approx(0.6622 - 0.6705) and not three.holds_valid
    assert three.compared.endswith("(A+T)")
    text = claims_sentence(list(claims.values()))
    assert "hold in its training columns only" in text
    assert "5.19 on train, 2.53 on validation" in text
    assert "T+V+A is not the best subset" in text and "below A+T's 0.6705" in text
    assert "below both pairs with text" in text
    assert len(claims_table(list(claims.values()))) == 6


def test_the_sentences_change_with_the_table():
    t = paper_table1()
    t.loc[t["subset"] == "T", "valid_loss"] = 0.1080  # a validation loss 5 times below audio's
    t.loc[t["subset"] == "T+V+A", "valid_r"] = 0.70
    claims = table1_claims(t)
    text = claims_sentence(claims, t)
    assert "hold in its training columns only" not in text and "(holds)" in text
    assert "T+V+A is the best subset" in text and "above A+T's" in text


def test_the_signal_strengths_are_set_beside_the_papers_order():
    text = signal_sentence({"visual": 0.45, "audio": 0.40, "text": 0.80})
    assert "text 0.80, visual 0.45, audio 0.40" in text
    assert "text 0.6526, visual 0.3265, audio 0.2703, the same order" in text
    other = signal_sentence({"visual": 0.2, "audio": 0.40, "text": 0.80})
    assert "The orders differ" in other
