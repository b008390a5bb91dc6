"""MMSA feature files: import (valid frames, defects, ids, folds), export read by MMSA itself, bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch

from msa_lib.config import TemporalConfig
from msa_lib.data.featureset import FeatureSet, FeatureSetError, ModalityMeta
from msa_lib.data.mmsa import (
    MmsaFileError,
    export_mmsa,
    import_mmsa,
    load_mmsa,
    mmsa_id,
    open_mmsa,
    read_pickle,
    split_id,
    to_mmsa,
    transfer_folds,
    valid_frames,
)

DIMS = {"text": 4, "audio": 3, "vision": 2}


def mmsa_split(
    n: int, video: str, seed: int, frames: int = 6, aligned: bool = False
) -> dict[str, object]:
    """One split in MMSA's documented structure: end-padded sequences with lengths (unaligned),
    or equal-length zero-padded sequences without lengths (aligned), labels from the text."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, frames + 1, n)
    part: dict[str, object] = {
        "id": [f"{video}{i // 3}$_${i % 3}" for i in range(n)],
        "raw_text": [f"words of segment {i}" for i in range(n)],
    }
    for key, d in DIMS.items():
        x = rng.normal(size=(n, frames, d)).astype(np.float32)
        for i, length in enumerate(lengths):
            x[i, length:] = 0.0
        part[key] = x
        if not aligned and key != "text":
            part[f"{key}_lengths"] = [int(v) for v in lengths]
    text = part["text"]
    part["regression_labels"] = np.clip(
        np.array([text[i, : lengths[i], 0].mean() for i in range(n)]), -3, 3
    ).astype(np.float32)
    return part


def mmsa_file(path, n=(12, 6, 6), aligned=False, **changes) -> str:
    """A whole MMSA file (train/valid/test) written to ``path``; ``changes`` replace splits."""
    data = {
        s: mmsa_split(k, f"{s[:2]}vid", i, aligned=aligned)
        for i, (s, k) in enumerate(zip(("train", "valid", "test"), n))
    }
    data.update(changes)
    with open(path, "wb") as f:
        pickle.dump(data, f, protocol=4)
    return str(path)


def test_ids_map_between_mmsa_and_segment_ids():
    assert split_id("vidA$_$3") == ("vidA_3", "vidA")
    assert mmsa_id("vidA_3", "vidA") == "vidA$_$3"
    assert split_id(mmsa_id("vid_x_12", "vid_x")) == ("vid_x_12", "vid_x")
    assert split_id("plain") == ("plain", "plain")


def test_valid_frames_by_length_or_by_non_zero_rows():
    seq = np.array([[1.0, 2], [0, 0], [3, 4], [0, 0]])
    np.testing.assert_array_equal(valid_frames(seq, 1), [[1, 2]])
    np.testing.assert_array_equal(valid_frames(seq, None), [[1, 2], [3, 4]])


def test_unaligned_file_averages_valid_frames_with_csd_rules(tmp_path, caplog):
    train = mmsa_split(6, "trvid", 0)
    audio = train["audio"]
    audio[0, 0, 1] = -np.inf  # COVAREP's undefined frame: left out of the mean, counted
    train["audio_lengths"][1] = 0  # all padding: a missing modality
    audio[2, : train["audio_lengths"][2], 2] = -np.inf  # a column without a finite value: 0
    path = mmsa_file(tmp_path / "mosi_unaligned.pkl", train=train)
    imp = load_mmsa(path, extractors={"text": "glove"})
    fs = imp.features
    assert fs.corpus == "mosi" and fs.source == "real"
    assert fs.split_counts() == {"train": 6, "valid": 6, "test": 6}
    assert fs.segment_id[:4].tolist() == ["trvid0_0", "trvid0_1", "trvid0_2", "trvid1_0"]
    assert fs.video_id[0] == "trvid0"
    n0 = train["audio_lengths"][0]
    expected = [audio[0, :n0, 0].mean(), audio[0, :n0, 1][np.isfinite(audio[0, :n0, 1])].mean()]
    np.testing.assert_allclose(fs.features["audio"][0, :2], expected, rtol=1e-6)
    assert fs.missing("audio")[1] and not fs.missing("text")[1]
    assert fs.features["audio"][2, 2] == 0.0
    rep = imp.reports["audio"]
    assert (rep.n_empty, rep.n_zero_filled) == (1, 1)
    assert rep.n_nonfinite_values == 1 + train["audio_lengths"][2]
    assert rep.examples["n_empty"] == ["trvid0_1"]
    np.testing.assert_allclose(fs.label[:6], train["regression_labels"])
    assert imp.transcripts["text"].iloc[0] == "words of segment 0"
    assert imp.length_rules["audio"] == "audio_lengths"
    assert imp.length_rules["text"] == "non-zero frames"
    assert imp.extractors == {"text": "glove", "audio": "unknown-3d", "visual": "unknown-2d"}
    assert "taking them for 'unknown-3d'" in caplog.text
    # the aligned sequences: one row of steps x width per segment, the same missing rows
    steps = TemporalConfig().steps
    assert imp.aligned.dims == {"text": steps * 4, "audio": steps * 3, "visual": steps * 2}
    np.testing.assert_array_equal(imp.aligned.missing("audio"), fs.missing("audio"))


def test_aligned_file_without_lengths_drops_zero_padding_and_uses_the_bert_mask(tmp_path):
    train = mmsa_split(6, "trvid", 1, aligned=True)
    # front padding, as the CMU SDK's aligned files have it: zero frames are padding anywhere
    train["vision"][0] = np.roll(train["vision"][0], 3, axis=0)
    mask = (np.abs(train["text"]).sum(axis=2) > 0).astype(np.float32)
    train["text"][0, -1] = 0.5  # a non-zero vector past the mask: not a valid token
    train["text_bert"] = np.stack([mask * 7, mask, np.zeros_like(mask)], axis=1)
    imp = load_mmsa(mmsa_file(tmp_path / "aligned_50.pkl", aligned=True, train=train))
    v = train["vision"][0]
    np.testing.assert_allclose(imp.features.features["visual"][0], v[(v != 0).any(axis=1)].mean(0))
    n_tok = int(mask[0].sum())
    np.testing.assert_allclose(
        imp.features.features["text"][0], train["text"][0, :n_tok].mean(0), rtol=1e-6
    )
    assert imp.length_rules["text"] == "non-zero frames / text_bert attention mask"


def test_export_then_import_round_trips(tmp_path):
    first = load_mmsa(mmsa_file(tmp_path / "mosi.pkl"), extractors={"audio": "covarep"})
    text = dict(zip(first.transcripts["segment_id"], first.transcripts["text"]))
    out = export_mmsa(first.features, tmp_path / "back.pkl", transcripts=text)
    again = load_mmsa(out)
    a, b = first.features, again.features
    for name in ("segment_id", "video_id", "split", "label"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    for m in a.modalities:
        np.testing.assert_array_equal(a.features[m], b.features[m])
    assert again.extractors["audio"] == "covarep"  # written into the file, read back
    assert again.transcripts["text"].tolist() == first.transcripts["text"].tolist()
    assert (b.corpus, b.source) == ("mosi", "real")


def test_an_aligned_set_exports_its_steps_as_frames(tmp_path):
    imp = load_mmsa(mmsa_file(tmp_path / "mosi.pkl"), temporal=TemporalConfig(steps=5))
    data = to_mmsa(imp.aligned)
    assert data["train"]["audio"].shape == (12, 5, 3)
    assert data["train"]["vision_lengths"].tolist() == [5] * 12
    np.testing.assert_allclose(
        data["train"]["text"].mean(axis=1),
        imp.aligned.features["text"][:12].reshape(12, 5, 4).mean(1),
    )


def test_mmsa_own_loader_reads_the_export(tmp_path):
    from easydict import EasyDict
    from MMSA.data_loader import MMDataLoader

    imp = load_mmsa(mmsa_file(tmp_path / "mosi.pkl"))
    path = export_mmsa(imp.features, tmp_path / "custom.pkl")
    args = EasyDict(
        dataset_name="mosi",
        custom_feature=str(path),
        featurePath="",
        feature_T="",
        feature_A="",
        feature_V="",
        need_data_aligned=False,
        need_normalized=False,
        feature_dims=[0, 0, 0],
        seq_lens=[0, 0, 0],
        batch_size=4,
    )
    loaders = MMDataLoader(args, num_workers=0)
    assert args.feature_dims == [4, 3, 2] and list(args.seq_lens) == [1, 1, 1]
    seen = {}
    for batch in loaders["test"]:
        for i, sid in enumerate(batch["id"]):
            seen[sid] = (batch["audio"][i, 0].numpy(), float(batch["labels"]["M"][i]))
    test = imp.features.select("test")
    assert sorted(seen) == sorted(mmsa_id(s, v) for s, v in zip(test.segment_id, test.video_id))
    sid = mmsa_id(test.segment_id[0], test.video_id[0])
    np.testing.assert_allclose(seen[sid][0], test.features["audio"][0])
    assert seen[sid][1] == pytest.approx(float(test.label[0]))


def test_a_missing_modality_is_a_zero_frame_of_length_zero_and_reads_back_missing(tmp_path):
    imp = load_mmsa(mmsa_file(tmp_path / "mosi.pkl"))
    fs = imp.features
    fs.features["visual"][0] = np.nan
    data = to_mmsa(fs)
    assert data["train"]["vision_lengths"][0] == 0 and not data["train"]["vision"][0].any()
    again = load_mmsa(export_mmsa(fs, tmp_path / "m.pkl"))
    assert again.features.missing("visual")[0]


def test_import_folder_is_written_and_reopened(tmp_path):
    imp = import_mmsa(mmsa_file(tmp_path / "mosei.pkl"), tmp_path / "imported", corpus="mosei")
    back = open_mmsa(tmp_path / "imported")
    np.testing.assert_array_equal(back.features.features["text"], imp.features.features["text"])
    assert back.aligned is not None and back.features.corpus == "mosei"
    assert back.transcripts["text"].tolist() == imp.transcripts["text"].tolist()
    assert back.length_rules == imp.length_rules


def test_export_needs_a_valid_fold_or_a_holdout(tmp_path):
    fs = load_mmsa(mmsa_file(tmp_path / "mosi.pkl")).features
    no_valid = fs.take(fs.split != "valid")
    with pytest.raises(FeatureSetError, match=r"no \['valid'\] segments.*--holdout"):
        to_mmsa(no_valid)
    data = to_mmsa({k: v for k, v in zip(("train", "valid", "test"), _holdout(no_valid))})
    assert len(data["valid"]["id"]) > 0


def _holdout(fs):
    from msa_lib.data.splits import fold_splits

    folds = fold_splits(fs, holdout=0.3)
    return folds["train"], folds["valid"], folds["test"]


def test_transfer_folds_from_two_mmsa_files(tmp_path):
    mosei = mmsa_file(tmp_path / "mosei.pkl", n=(18, 6, 6))
    mosi = mmsa_file(tmp_path / "mosi.pkl")
    source, target = transfer_folds(mosei, mosi, ("text", "audio"))
    assert [len(source[s]) for s in ("train", "valid", "test")] == [18, 6, 6]
    assert target["test"].modalities == ["text", "audio"]
    assert source["train"].corpus == "mosei" and target["train"].corpus == "mosi"


def test_transfer_folds_take_our_featureset_file_as_the_target(tmp_path):
    mosei = mmsa_file(tmp_path / "mosei.pkl", n=(18, 6, 6))
    ours = load_mmsa(mmsa_file(tmp_path / "mosi.pkl")).features
    ours.save(tmp_path / "features.h5")  # as msa extract writes MOSI features
    _, target = transfer_folds(mosei, tmp_path / "features.h5", ("text", "audio"))
    ids = [s for f in target.values() for s in f.segment_id]
    assert sorted(ids) == sorted(ours.segment_id)


# ----------------------------------------------------------------- bad input: one clear line each
def _write(path, obj) -> str:
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)
    return str(path)


def test_not_a_pickle(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_text("id,label\n")
    with pytest.raises(MmsaFileError, match=r"x\.pkl: not a pickle"):
        read_pickle(path)


def test_a_truncated_pickle(tmp_path):
    path = tmp_path / "cut.pkl"
    path.write_bytes(pickle.dumps({"train": list(range(100))}, protocol=4)[:20])
    with pytest.raises(MmsaFileError, match=r"cut\.pkl: not a readable pickle"):
        read_pickle(path)


def test_a_pickle_of_something_else(tmp_path):
    with pytest.raises(MmsaFileError, match="holds a list, not an MMSA feature file"):
        load_mmsa(_write(tmp_path / "l.pkl", [1, 2, 3]))


class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_naming_other_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    path = _write(tmp_path / "evil.pkl", {"train": _RunsCode(str(marker))})
    with pytest.raises(MmsaFileError, match=r"names (io|builtins)\.open.*refused"):
        read_pickle(path)
    assert not marker.exists()


def test_torch_tensors_are_refused_with_the_way_out(tmp_path):
    path = tmp_path / "pt.pkl"
    with open(path, "wb") as f:
        pickle.dump({"train": {"audio": torch.zeros(2, 3)}}, f)
    with pytest.raises(MmsaFileError, match="torch tensors.*return_type='np'"):
        read_pickle(path)


def test_a_missing_split(tmp_path):
    data = {"train": mmsa_split(3, "a", 0), "test": mmsa_split(3, "b", 1)}
    with pytest.raises(MmsaFileError, match=r"no split \['valid'\]"):
        load_mmsa(_write(tmp_path / "m.pkl", data))


def test_a_missing_key(tmp_path):
    valid = mmsa_split(3, "vavid", 1)
    del valid["vision"]
    with pytest.raises(MmsaFileError, match=r"split 'valid' has no \['vision'\]"):
        load_mmsa(mmsa_file(tmp_path / "m.pkl", valid=valid))


def test_lengths_longer_than_the_sequence(tmp_path):
    test = mmsa_split(6, "tevid", 2)
    test["audio_lengths"][4] = 9
    path = mmsa_file(tmp_path / "m.pkl", test=test)
    with pytest.raises(
        MmsaFileError,
        match=r"test segment 'tevid1\$_\$1' has audio_lengths 9, longer than its "
        r"sequence \(6 frames",
    ):
        load_mmsa(path)
    clipped = load_mmsa(path, clip_lengths=True).features.select("test")
    np.testing.assert_allclose(clipped.features["audio"][4], test["audio"][4].mean(0), rtol=1e-6)


def test_nan_labels(tmp_path):
    valid = mmsa_split(3, "vavid", 1)
    valid["regression_labels"][2] = np.nan
    with pytest.raises(MmsaFileError, match=r"valid segment 'vavid0\$_\$2' has label nan"):
        load_mmsa(mmsa_file(tmp_path / "m.pkl", valid=valid))


def test_ids_repeated_across_splits(tmp_path):
    test = mmsa_split(3, "trvid", 2)  # the same ids as train's first segments
    with pytest.raises(MmsaFileError, match=r"'trvid0\$_\$0' is in both train and test"):
        load_mmsa(mmsa_file(tmp_path / "m.pkl", test=test))


def test_a_modality_that_is_not_a_sequence(tmp_path):
    train = mmsa_split(4, "trvid", 0)
    train["audio"] = train["audio"][:, 0, :]
    with pytest.raises(MmsaFileError, match=r"train\['audio'\] has shape \(4, 3\), expected"):
        load_mmsa(mmsa_file(tmp_path / "m.pkl", train=train))


def test_labels_outside_the_range_name_the_file(tmp_path):
    train = mmsa_split(4, "trvid", 0)
    train["regression_labels"][1] = 4.0
    with pytest.raises(MmsaFileError, match=r"m\.pkl: segment 'trvid0_1' has label 4\.0"):
        load_mmsa(mmsa_file(tmp_path / "m.pkl", train=train))


def test_export_refuses_unlabelled_segments_and_missing_modalities(tmp_path):
    fs = load_mmsa(mmsa_file(tmp_path / "m.pkl")).features
    fs.label[0] = np.nan
    with pytest.raises(FeatureSetError, match="train segment 'trvid0_0' has no label"):
        to_mmsa(fs)
    only_text = FeatureSet(
        fs.segment_id,
        fs.video_id,
        fs.split,
        fs.label * 0,
        {"text": fs.features["text"]},
        meta={"text": ModalityMeta("x")},
    )
    with pytest.raises(FeatureSetError, match=r"no \['audio', 'visual'\] features"):
        to_mmsa(only_text)
