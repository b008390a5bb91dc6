import dataclasses
import logging

import numpy as np
import pytest

from msa_lib.config import ModelConfig
from msa_lib.train import (
    Standardizer,
    TrainInputError,
    check_featureset,
    fit,
    labels_constant,
    usable_rows,
)
from tests.train.problem import DIMS, FAST, make_problem


def test_splits_of_the_problem(problem):
    assert {k: len(v) for k, v in problem.items()} == {"train": 180, "valid": 60, "test": 60}


def test_standardiser_uses_the_rows_it_is_given(problem):
    tr = problem["train"]
    sc = Standardizer.fit(tr, list(DIMS))
    for m in DIMS:
        np.testing.assert_allclose(sc.mean[m], tr.features[m].mean(0), rtol=1e-5, atol=1e-3)
        z = sc.transform(tr)[m]
        np.testing.assert_allclose(z.mean(0), 0, atol=1e-3)
        np.testing.assert_allclose(z.std(0), 1, atol=1e-3)
    # a constant feature gets sd 1, not a division by zero
    flat = dataclasses.replace(
        tr, features={**tr.features, "text": np.ones_like(tr.features["text"])}
    )
    sc = Standardizer.fit(flat, ["text"])
    assert (sc.std["text"] == 1).all() and (sc.transform(flat)["text"] == 0).all()
    # a missing row is imputed with the training mean (0) and left out of the statistics
    vis = tr.features["visual"].copy()
    vis[:5] = np.nan
    holed = dataclasses.replace(tr, features={**tr.features, "visual": vis})
    sc = Standardizer.fit(holed, ["visual"])
    np.testing.assert_allclose(sc.mean["visual"], vis[5:].mean(0), rtol=1e-5, atol=1e-3)
    assert (sc.transform(holed)["visual"][:5] == 0).all()
    assert sc.design(holed, ["visual"]).shape == (len(tr), DIMS["visual"])


def test_usable_rows_by_rule(problem):
    fs = problem["train"]
    vis = fs.features["visual"].copy()
    vis[:7] = np.nan
    fs = dataclasses.replace(
        fs,
        features={**fs.features, "visual": vis},
        label=np.where(np.arange(len(fs)) == 10, np.nan, fs.label),
    )
    keep, counts = usable_rows(fs, ["visual", "text"], "impute")
    assert counts == {"n_rows": 180, "n_unlabelled": 1, "n_missing_modality": 7, "n_used": 179}
    assert keep[:7].all() and not keep[10]
    keep, counts = usable_rows(fs, ["visual", "text"], "drop")
    assert counts["n_used"] == 180 - 7 - 1 and not keep[:7].any()
    assert usable_rows(fs, ["text"], "drop")[1]["n_used"] == 179  # unused modality: no effect
    with pytest.raises(ValueError, match="unknown missing-modality rule 'zero'"):
        usable_rows(fs, ["text"], "zero")


def test_check_featureset_names_split_and_problem(problem):
    tr = problem["train"]
    with pytest.raises(TrainInputError, match=r"linear-test \(train split\): modality \['face'\]"):
        check_featureset(tr, ["text", "face"], "train")
    with pytest.raises(TrainInputError, match="'visual' has width 12, the model expects 5"):
        check_featureset(tr, ["visual"], "predict", {"visual": 5})
    x = tr.features["audio"].copy()
    x[3, 2] = np.nan
    with pytest.raises(TrainInputError, match="non-finite value"):
        check_featureset(
            dataclasses.replace(tr, features={**tr.features, "audio": x}), ["audio"], "t"
        )


def test_constant_labels_warn_and_are_flagged(problem, caplog):
    tr = problem["train"]
    assert not labels_constant(tr, "train")
    flat = dataclasses.replace(tr, label=np.full(len(tr), 1.5))
    with caplog.at_level(logging.WARNING):
        assert labels_constant(flat, "train")
    assert "linear-test (train split): all 180 labels are 1.5" in caplog.text


@pytest.mark.parametrize("which", ["train", "valid"])
def test_fit_refuses_constant_labels(problem, which):
    parts = {k: problem[k] for k in ("train", "valid")}
    parts[which] = dataclasses.replace(parts[which], label=np.zeros(len(parts[which])))
    with pytest.raises(
        TrainInputError,
        match=rf"linear-test \({which} split\): every usable label is 0; .*cannot select a model by r",
    ):
        fit(ModelConfig(), FAST, parts["train"], parts["valid"], progress=False)


def test_constant_labels_after_dropping_unlabelled_rows(problem):
    # varied only through NaN: what training would use is constant
    va = problem["valid"]
    label = np.where(np.arange(len(va)) % 2 == 0, 2.0, np.nan)
    va = dataclasses.replace(va, label=label)
    with pytest.raises(TrainInputError, match="valid split.*every usable label is 2"):
        fit(
            ModelConfig(),
            dataclasses.replace(FAST, batch_size=16),
            problem["train"],
            va,
            progress=False,
        )


def test_fit_bad_inputs_are_clear_errors(problem):
    tr, va = problem["train"], problem["valid"]
    go = dict(progress=False)
    with pytest.raises(TrainInputError, match=r"modality \['face'\] is not in the FeatureSet"):
        fit(ModelConfig(), FAST, tr, va, modalities=["text", "face"], **go)
    with pytest.raises(
        TrainInputError, match="valid split has 20 usable segments, fewer than one batch"
    ):
        fit(ModelConfig(), FAST, tr, va.take(np.arange(20)), **go)
    with pytest.raises(TrainInputError, match="train split has 31"):
        fit(ModelConfig(), FAST, tr.take(np.arange(31)), va, **go)
    bad = dataclasses.replace(tr, label=np.where(np.arange(len(tr)) == 4, 3.5, tr.label))
    with pytest.raises(
        TrainInputError, match=r"segment '\w+' has label 3.5, outside \[-3.0, 3.0\]"
    ):
        fit(ModelConfig(), FAST, bad, va, **go)
    other = make_problem(dims={"visual": 5, "audio": 6, "text": 8})
    with pytest.raises(TrainInputError, match="'visual' has width 5, the model expects 12"):
        fit(ModelConfig(), FAST, tr, other.select("valid"), **go)
    allnan = dataclasses.replace(
        tr, features={**tr.features, "text": np.full_like(tr.features["text"], np.nan)}
    )
    with pytest.raises(TrainInputError, match="'text' is missing for every training segment"):
        fit(ModelConfig(), FAST, allnan, va, **go)
