import json

import numpy as np
from scipy.stats import pearsonr
from sklearn.linear_model import RidgeCV

from msa_lib.data.folder import DataFolder
from msa_lib.data.sources import open_data
from msa_lib.data.synthetic import config_hash, ensure_synthetic

from ..conftest import SMALL_SYNTH


def test_folder_is_marked_synthetic_with_both_corpora(small_synthetic):
    folder = DataFolder.open(small_synthetic)
    assert folder.source == "synthetic" and folder.label == "SYNTHETIC"
    assert "SYNTHETIC" in folder.synthetic_info()["note"]
    s = folder.summary()["corpora"]
    assert s["mosei"]["n_segments"] == 240 and s["mosi"]["n_segments"] == 120
    assert s["mosei"]["csd_modalities"] == ["audio", "text", "visual"]


def test_shapes_labels_and_defects(small_synthetic):
    folder = DataFolder.open(small_synthetic)
    mosei, rep = folder.features("mosei")
    assert mosei.dims == {"visual": 713, "audio": 74, "text": 300}
    assert np.allclose(mosei.label * 3, np.round(mosei.label * 3), atol=1e-5)  # steps of 1/3
    assert rep["audio"].n_nonfinite_values > 0  # -inf frames, as COVAREP has
    assert rep["visual"].n_nonfinite_values > 0  # NaN frames (lost face)
    mosi, _ = folder.features("mosi")
    assert mosi.dims == {"visual": 65, "audio": 74, "text": 384}
    audio = mosi.features["audio"][~mosi.missing("audio")]
    assert np.all(audio[:, 29:] == 0)  # the paper's 29 librosa values padded with zeros
    assert np.all(audio[:, :29].std(axis=0) > 0)
    assert folder.segments("mosi")["text"].str.len().min() > 0
    for corpus in ("mosei", "mosi"):
        seg = folder.segments(corpus)
        assert (seg.groupby("video_id")["split"].nunique() == 1).all()


def test_text_carries_more_signal_than_audio(small_synthetic):
    fs, _ = DataFolder.open(small_synthetic).features("mosei")
    r = {}
    for m in ("text", "audio"):
        ok = ~fs.missing(m)
        tr = ok & (fs.split == "train")
        te = ok & (fs.split != "train")
        model = RidgeCV(alphas=np.logspace(-1, 4, 12)).fit(fs.features[m][tr], fs.label[tr])
        r[m] = pearsonr(model.predict(fs.features[m][te]), fs.label[te])[0]
    assert r["text"] > r["audio"] and r["text"] > 0.4


def test_same_seed_same_data(tmp_path):
    a = ensure_synthetic(tmp_path / "a", SMALL_SYNTH)
    b = ensure_synthetic(tmp_path / "b", SMALL_SYNTH)
    assert a.name == b.name == config_hash(SMALL_SYNTH)
    fa, _ = DataFolder.open(a).features("mosi")
    fb, _ = DataFolder.open(b).features("mosi")
    np.testing.assert_array_equal(fa.features["text"], fb.features["text"])
    assert ensure_synthetic(tmp_path / "a", SMALL_SYNTH) == a  # cached, not regenerated
    assert json.loads((a / "SYNTHETIC.json").read_text())["config_hash"] == a.name


def test_open_data_without_env_uses_synthetic(tmp_path, monkeypatch):
    monkeypatch.delenv("MSA_DATA_DIR", raising=False)
    monkeypatch.setenv("MSA_CACHE_DIR", str(tmp_path))
    folder = open_data(synth_config=SMALL_SYNTH)
    assert folder.is_synthetic and folder.root.parent == (tmp_path / "synthetic").resolve()


def test_two_processes_asking_at_once_get_one_corpus(tmp_path):
    import subprocess
    import sys

    # each process makes the small corpus and prints the folder's files (with their times)
    code = (
        "import sys; from pathlib import Path; from tests.conftest import SMALL_SYNTH; "
        "from msa_lib.data.synthetic import ensure_synthetic; "
        f"f = ensure_synthetic({str(tmp_path)!r}, SMALL_SYNTH); "
        "print(sorted((p.name, p.stat().st_mtime_ns) for p in f.iterdir()))"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [r.communicate(timeout=300)[0] for r in runs]
    assert [r.returncode for r in runs] == [0, 0]
    assert outs[0] == outs[1]  # the same files, written once: the second waited, then read
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        config_hash(SMALL_SYNTH)
    ]
