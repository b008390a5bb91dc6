"""Model bundles: the folder ``msa predict`` loads (manifest, fine-tuned text model, fusion model).

- ``manifest.json``: the bundle's index: what each part is and the folder that holds it, what it
  was trained on (and whether that data was real or synthetic), its input widths and extractor
  settings, and why a modality has no part;
- ``text/``: a fine-tuned text regressor (:class:`msa_lib.train.text.FineTunedText`), a
  checkpoint folder (:mod:`msa_lib.io.checkpoint`, kind ``text``);
- ``fusion/``: optionally, a fusion model (:class:`msa_lib.train.fusion.TrainedModel`, a
  checkpoint folder of kind ``fusion``) over the features of this project's extractors (face
  geometry, librosa, text vectors).

:func:`train_bundle` makes the book's default bundle from a data folder.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from msa_lib.io.jsonio import dumps, jsonable

log = logging.getLogger(__name__)

BUNDLE_FORMAT = "msa-predict-bundle"
# 2: every part is a checkpoint folder (1 kept the fusion model as one file, fusion/model.pt)
BUNDLE_VERSION = 2
MANIFEST = "manifest.json"
TEXT_DIR = "text"
FUSION_DIR = "fusion"
MODALITIES = ("text", "audio", "visual")
MAKE_HINT = "`make book` builds one there (chapter 8), or pass --model DIR"


# What each modality's extractor is, for messages and the manifest.
EXTRACTOR_NAMES = {
    "text": "MiniLM-L6 sentence vectors (384-d)",
    "glove": "averaged GloVe-50 vectors",
    "audio": "librosa features (29 values, padded to 74)",
    "visual": "MediaPipe face geometry (65 values)",
}


class BundleError(ValueError):
    """A model bundle is absent, incomplete or unreadable."""


def default_bundle_dir() -> Path:
    """``book/results/model`` of the project folder (where ``make book`` leaves the bundle)."""
    from msa_lib.io.paths import repo_root

    return repo_root() / "book" / "results" / "model"


def _part_text(model) -> dict:
    """The manifest entry of a fine-tuned text model, from its ``info``."""
    info = {k: v for k, v in dict(model.info).items() if k != "history"}
    return {
        "path": TEXT_DIR,
        "kind": "fine-tuned text regressor (encoder + head, L1 loss)",
        "input": "transcript",
        "model": info.get("model", ""),
        "trained_on": info.get("trained_on", "unspecified"),
        "validation": {"r": info.get("val_r"), "mae": info.get("val_mae")},
        "info": info,
    }


def _part_fusion(model, extractor_settings: Mapping[str, Any] | None) -> dict:
    """The manifest entry of a fusion model: modalities, widths, extractor settings."""
    return {
        "path": FUSION_DIR,
        "kind": "fusion model (encoders, cross-modal attention, MLP; paper §4.2)",
        "modalities": list(model.modalities),
        "dims": {m: int(d) for m, d in model.dims.items()},
        "extractors": {m: EXTRACTOR_NAMES.get(m, m) for m in model.modalities},
        "extractor_settings": jsonable(dict(extractor_settings or {})),
        "best_valid_r": model.best_valid_r,
        "best_epoch": model.best_epoch,
        "input_counts": model.input_counts,
    }


def build_model_bundle(
    out_dir: str | os.PathLike,
    text_model=None,
    fusion_model=None,
    *,
    text_provenance: Mapping[str, Any] | None = None,
    fusion_provenance: Mapping[str, Any] | None = None,
    extractor_settings: Mapping[str, Any] | None = None,
    not_trained: Mapping[str, str] | None = None,
    recipe: Mapping[str, Any] | None = None,
) -> Path:
    """Write a bundle folder (replacing any old one only when the new one is complete).

    ``*_provenance`` are merged into each part's manifest entry and must say ``trained_on`` and
    ``data_source`` ("real" or "synthetic"); ``not_trained`` maps a modality without a part to
    the reason; ``extractor_settings`` are the audio/visual/text settings the fusion model's
    features were made with; ``recipe`` is stored for :func:`bundle_matches`.
    """
    if text_model is None and fusion_model is None:
        raise BundleError("a model bundle needs a text model, a fusion model, or both")
    parts: dict[str, dict] = {}
    for name, model, prov in (
        ("text", text_model, text_provenance),
        ("fusion", fusion_model, fusion_provenance),
    ):
        if model is None:
            continue
        prov = dict(prov or {})
        if prov.get("data_source") not in ("real", "synthetic"):
            raise BundleError(
                f"{name} part: provenance must give data_source 'real' or 'synthetic'"
            )
        entry = _part_text(model) if name == "text" else _part_fusion(model, extractor_settings)
        parts[name] = {**entry, **prov}
    sources = {p["data_source"] for p in parts.values()}
    manifest = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created": dt.datetime.now().isoformat(timespec="seconds"),
        "data_source": "synthetic" if "synthetic" in sources else "real",
        "parts": parts,
        "not_trained": dict(not_trained or {}),
        "combine": (
            "fusion when all its modalities are usable; else the text model when there is a "
            "transcript; else fusion with missing modalities at their training mean"
        ),
        "recipe": jsonable(dict(recipe or {})),
    }
    out = Path(out_dir)
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        if text_model is not None:
            text_model.save(tmp / TEXT_DIR)
        if fusion_model is not None:
            fusion_model.save(tmp / FUSION_DIR)
        (tmp / MANIFEST).write_text(dumps(manifest) + "\n", encoding="utf-8")
        old = out.with_name(out.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_manifest(path: str | os.PathLike) -> dict:
    """The manifest of the bundle in ``path``; a missing or foreign folder is one BundleError."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"no model bundle at {path}: {MAKE_HINT}")
    mf = path / MANIFEST
    if not mf.is_file():
        raise BundleError(f"{path}: not a model bundle (no {MANIFEST}); {MAKE_HINT}")
    try:
        manifest = json.loads(mf.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BundleError(f"{mf}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{mf}: not a model bundle manifest (format is not '{BUNDLE_FORMAT}')")
    version = manifest.get("version")
    if not isinstance(version, int) or version < 1:
        raise BundleError(f"{mf}: bundle format version {version!r} is not valid")
    if version > BUNDLE_VERSION:
        raise BundleError(
            f"{path}: bundle format version {version}; this code reads version {BUNDLE_VERSION} "
            "(a newer msa-lib wrote it)"
        )
    if version < BUNDLE_VERSION:
        raise BundleError(
            f"{path}: bundle format version {version}, written by an older msa-lib (its parts "
            f"are not checkpoint folders); {MAKE_HINT}"
        )
    if not manifest.get("parts"):
        raise BundleError(f"{mf}: the bundle has no parts")
    check_parts(manifest, mf)
    return manifest


PART_KEYS = ("path", "kind", "trained_on", "data_source")


def check_parts(manifest: Mapping[str, Any], mf: Path) -> dict[str, Any]:
    """Every part's entry, once, when the bundle loads; returns the fusion part's extractor settings.

    A part names its folder, what it is and what it was trained on, real or synthetic; the
    fusion part takes known modalities, and its extractor settings are valid. Anything else is
    one BundleError naming the manifest, before any clip is heard.
    """
    from msa_lib.config import ConfigError
    from msa_lib.extract.base import names, settings_from_dict

    parts = manifest["parts"]
    if not isinstance(parts, dict):
        raise BundleError(f"{mf}: 'parts' is not a mapping of part name to entry")
    unknown = sorted(set(parts) - {"text", "fusion"})
    if unknown:
        raise BundleError(f"{mf}: unknown part(s) {unknown}; a bundle has 'text' and/or 'fusion'")
    for name, part in parts.items():
        if not isinstance(part, dict):
            raise BundleError(f"{mf}: the {name} part is not a mapping")
        for key in PART_KEYS:
            if key not in part:
                raise BundleError(f"{mf}: the {name} part has no '{key}'")
        if part["data_source"] not in ("real", "synthetic"):
            raise BundleError(
                f"{mf}: the {name} part has data_source '{part['data_source']}', not 'real' "
                "or 'synthetic'"
            )
    fusion = parts.get("fusion")
    if fusion is None:
        return {}
    mods = fusion.get("modalities")
    if not isinstance(mods, list) or not mods:
        raise BundleError(f"{mf}: the fusion part lists no modalities")
    strange = [m for m in mods if m not in names()]
    if strange:
        raise BundleError(
            f"{mf}: the fusion part takes modality {strange}, which no extractor makes "
            f"(known: {names()})"
        )
    try:
        return settings_from_dict(fusion.get("extractor_settings") or {}, str(mf))
    except ConfigError as exc:
        raise BundleError(f"{mf}: fusion part's extractor settings: {exc}") from exc


def bundle_matches(path: str | os.PathLike, recipe: Mapping[str, Any]) -> bool:
    """Whether a complete bundle made by the same recipe is already in ``path``."""
    try:
        manifest = read_manifest(path)
    except BundleError:
        return False
    return manifest.get("recipe") == jsonable(dict(recipe))


@dataclass
class Bundle:
    """A loaded model bundle: its manifest and the parts' models."""

    path: Path
    manifest: dict
    text: Any = None  # FineTunedText
    fusion: Any = None  # TrainedModel
    settings: dict = field(default_factory=dict)  # the fusion model's extractor settings

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Bundle:
        """Read the bundle in ``path`` (default: :func:`default_bundle_dir`)."""
        path = Path(path) if path is not None else default_bundle_dir()
        manifest = read_manifest(path)  # every part's entry checked (check_parts)
        parts = manifest["parts"]
        settings = check_parts(manifest, path / MANIFEST)
        text = fusion = None
        if "text" in parts:
            from msa_lib.train.text import FineTunedText

            try:
                text = FineTunedText.load(path / parts["text"].get("path", TEXT_DIR))
            except (OSError, ValueError) as exc:
                raise BundleError(f"{path}: text part cannot be loaded ({exc})") from exc
        if "fusion" in parts:
            from msa_lib.train.fusion import TrainedModel

            try:
                fusion = TrainedModel.load(path / parts["fusion"].get("path", FUSION_DIR))
            except (OSError, ValueError) as exc:
                raise BundleError(f"{path}: fusion part cannot be loaded ({exc})") from exc
        if fusion is not None:
            lacking = sorted(set(fusion.modalities) - set(parts["fusion"]["modalities"]))
            if lacking:
                raise BundleError(
                    f"{path}: the fusion model takes {fusion.modalities}, the manifest lists "
                    f"{parts['fusion']['modalities']}"
                )
        return cls(path, manifest, text, fusion, settings)

    @property
    def needs(self) -> list[str]:
        """Modalities some part takes, in :data:`MODALITIES` order (then any others)."""
        mods = {"text"} if self.text is not None else set()
        if self.fusion is not None:
            mods |= set(self.fusion.modalities)
        return [m for m in MODALITIES if m in mods] + sorted(mods - set(MODALITIES))

    def describe_parts(self) -> list[str]:
        """One line per part: what it is and what it was trained on (real or SYNTHETIC)."""
        out = []
        for name, p in self.manifest["parts"].items():
            src = "real" if p.get("data_source") == "real" else "SYNTHETIC"
            what = p.get("model") or "+".join(p.get("modalities", []))
            out.append(f"{name}: {p['kind']} [{what}], trained on {p['trained_on']} ({src} data)")
        return out


def train_bundle(
    folder,
    out_dir: str | os.PathLike,
    text_model=None,
    seed: int = 0,
    text_config=None,
    train_config=None,
    overwrite: bool = False,
    progress: bool = False,
) -> Path:
    """The bundle ``msa predict`` uses by default, trained on the best data ``folder`` holds.

    Real data: the fine-tuned text model on MOSI's train fold, selected on its valid fold (or
    ``text_model``, a :class:`FineTunedText` or its saved folder, when one was trained already);
    no audio or visual part, since real training features exist for this project's audio and
    visual extractors only for the few raw clips in the folder. Synthetic data: a fusion model
    over the synthetic MOSI corpus's visual/audio/text features (65/74/384, the extractors'
    widths) and ``text_model`` when given; every part is labelled synthetic. A bundle made by
    the same recipe is reused unless ``overwrite``.
    """
    from msa_lib.extract.base import default_settings

    out = Path(out_dir)
    model_name = (
        str(text_model) if isinstance(text_model, (str, os.PathLike)) else type(text_model).__name__
    )
    recipe = {
        "data": str(folder.root),
        "source": folder.source,
        "seed": seed,
        "text_model": None if text_model is None else model_name,
        "text_config": jsonable(text_config) if text_config is not None else None,
        "train_config": jsonable(train_config) if train_config is not None else None,
    }
    if not overwrite and isinstance(text_model, (str, os.PathLike, type(None))):
        if bundle_matches(out, recipe):
            log.info("%s: bundle made by the same recipe, reused", out)
            return out
    if isinstance(text_model, (str, os.PathLike)):
        from msa_lib.train.text import FineTunedText

        text_model = FineTunedText.load(text_model)
    mosi = folder.segments("mosi")
    n_raw = len(folder.raw_clips("mosi"))
    no_media = (
        f"no real training features exist for this project's {{what}} extractor: the data folder "
        f"has {n_raw} raw MOSI clip(s), and the corpus's .csd features come from other extractors"
    )
    text_prov = None
    if folder.source == "real":
        if text_model is None:
            text_model = _fine_tune_on_mosi(mosi, seed, text_config)
        text_prov = {
            "trained_on": _fold_phrase(mosi, "CMU-MOSI", text_model),
            "data_source": "real",
        }
        return build_model_bundle(
            out,
            text_model=text_model,
            text_provenance=text_prov,
            not_trained={
                "audio": no_media.format(what="audio (librosa)"),
                "visual": no_media.format(what="visual (face geometry)"),
            },
            recipe=recipe,
        )
    fusion, n = _fit_synthetic_fusion(folder, seed, train_config, progress)
    if text_model is not None:
        text_prov = {
            "trained_on": text_model.info.get("trained_on", "unspecified"),
            "data_source": "synthetic",
        }
    return build_model_bundle(
        out,
        text_model=text_model,
        fusion_model=fusion,
        text_provenance=text_prov,
        fusion_provenance={
            "trained_on": (
                f"the SYNTHETIC MOSI stand-in ({n['train']} train / {n['valid']} valid segments): "
                "features in the extractors' widths but generated, not computed from media, so "
                "its scores of real clips carry no meaning"
            ),
            "data_source": "synthetic",
        },
        extractor_settings=default_settings(),
        recipe=recipe,
    )


def _fold_phrase(table, corpus: str, text_model) -> str:
    """'CMU-MOSI train fold (1284 segments), epoch chosen on valid (229)' from a segments table."""
    counts = table["split"].value_counts()
    info = getattr(text_model, "info", {}) or {}
    phrase = info.get("trained_on")
    if phrase and phrase != "unspecified":
        return phrase
    return (
        f"{corpus} official train fold ({int(counts.get('train', 0))} segments), epoch chosen on "
        f"the valid fold ({int(counts.get('valid', 0))})"
    )


def _fine_tune_on_mosi(mosi, seed: int, text_config):
    """A fine-tuned text model on MOSI's train fold, selected on its valid fold."""
    from msa_lib.config import TextFineTuneConfig
    from msa_lib.train.text import fine_tune_text

    has_text = mosi["text"].fillna("").str.strip().astype(bool)
    tr = mosi[(mosi["split"] == "train") & has_text]
    va = mosi[(mosi["split"] == "valid") & has_text]
    return fine_tune_text(
        tr["text"].tolist(),
        tr["label"].to_numpy(),
        va["text"].tolist(),
        va["label"].to_numpy(),
        text_config or TextFineTuneConfig(),
        seed=seed,
        trained_on=(
            f"CMU-MOSI official train fold ({len(tr)} segments), epoch chosen on the valid fold "
            f"({len(va)})"
        ),
    )


def _fit_synthetic_fusion(folder, seed: int, train_config, progress: bool):
    """The fusion model on the synthetic MOSI features (train fold, selected on valid)."""
    from msa_lib.config import ModelConfig, TrainConfig
    from msa_lib.train.fusion import fit

    fs, _ = folder.features("mosi", ("visual", "audio", "text"))
    by = {s: fs.take(np.flatnonzero(fs.split == s)) for s in ("train", "valid")}
    cfg = train_config or TrainConfig(seed=seed)
    model, _ = fit(ModelConfig(), cfg, by["train"], by["valid"], progress=progress, desc="bundle")
    return model, {s: len(v) for s, v in by.items()}


def bundle_table(path: str | os.PathLike | None = None):
    """One row per part of a bundle (what, trained on, data) and per modality without a part."""
    import pandas as pd

    path = Path(path) if path is not None else default_bundle_dir()
    manifest = read_manifest(path)
    rows = [
        {
            "part": name,
            "model": p.get("model") or " + ".join(p.get("modalities", [])),
            "trained on": p["trained_on"],
            "data": p["data_source"],
        }
        for name, p in manifest["parts"].items()
    ]
    rows += [
        {"part": f"({m})", "model": "none", "trained on": why, "data": ""}
        for m, why in manifest.get("not_trained", {}).items()
    ]
    return pd.DataFrame(rows, columns=["part", "model", "trained on", "data"])
