"""The extractor interface and registry: names, modalities, settings, and a new extractor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pytest

from msa_lib.config import AudioConfig, ConfigError, TextConfig
from msa_lib.data import FeatureSet, ModalityMeta
from msa_lib.extract import base
from msa_lib.extract.base import (
    EXTRACTORS,
    ExtractError,
    Extractor,
    Outcome,
    Segment,
    build,
    get,
    register,
    settings_from_dict,
)
from msa_lib.extract.run.corpus import extract_corpus


def test_every_extractor_has_its_own_modality():
    mods = {n: get(n).modality for n in ("audio", "visual", "text", "glove")}
    assert mods == {"audio": "audio", "visual": "visual", "text": "text", "glove": "glove"}
    assert [ex.name for ex in build(["glove", "audio"])] == ["audio", "glove"]
    with pytest.raises(ExtractError, match="unknown extractor"):
        get("smell")


def test_cache_key_follows_settings_not_unrelated_ones():
    a = get("audio")(AudioConfig())
    assert a.cache_key() == get("audio")(AudioConfig()).cache_key()
    assert a.cache_key() != get("audio")(AudioConfig(hop_length=256)).cache_key()
    g1, g2 = get("glove")(TextConfig()), get("glove")(TextConfig(model="other"))
    assert g1.cache_key() == g2.cache_key()  # GloVe does not use the BERT model
    assert get("text")(TextConfig()).cache_key() != get("text")(TextConfig(model="x")).cache_key()


def test_settings_sections_and_named_widths():
    s = settings_from_dict(
        {"audio": {"hop_length": 256}, "visual": {"width_landmarks": "cheeks"}}, "cfg.yaml"
    )
    assert s["audio"].hop_length == 256 and s["audio"].n_fft == 2048
    assert s["visual"].width_landmarks == (234, 454) and s["text"] == TextConfig()
    with pytest.raises(ConfigError, match="cfg.yaml.*unknown section"):
        settings_from_dict({"audoi": {}}, "cfg.yaml")
    with pytest.raises(ConfigError, match="duration must be > 0"):
        settings_from_dict({"audio": {"duration": -1}}, "cfg.yaml")


@dataclass(frozen=True)
class CountConfig:
    scale: float = 1.0


def test_a_new_extractor_runs_without_touching_the_runner(tmp_path, monkeypatch):
    monkeypatch.setitem(base.SECTIONS, "count", CountConfig)

    class WordCount(Extractor):
        name = "wordcount"
        modality = "wordcount"
        section = "count"
        needs = "text"
        batched = True

        def dim(self) -> int:
            return 1

        def run_batch(self, segs: Sequence[Segment], progress: bool = False) -> list[Outcome]:
            return [Outcome(np.array([self.settings.scale * len(s.text.split())])) for s in segs]

        def metadata(self) -> ModalityMeta:
            return ModalityMeta("wordcount", "1", {"scale": self.settings.scale})

    register(WordCount)
    try:
        segs = [Segment("a", "a", text="one two three"), Segment("b", "b", text="four")]
        rep = extract_corpus(
            segs, tmp_path, ["wordcount"], {"count": CountConfig(2.0)}, progress=False
        )
        fs = FeatureSet.load(rep.extractors["wordcount"]["file"])
        assert fs.features["wordcount"][:, 0].tolist() == [6.0, 2.0]
    finally:
        EXTRACTORS.pop("wordcount")
