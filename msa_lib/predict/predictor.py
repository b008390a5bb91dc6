"""Scoring a raw clip end to end: transcript (given, or heard by Whisper), features, a model bundle.

A **model bundle** is a folder:

- ``manifest.json``: what each part is, what it was trained on (and whether that data was real
  or synthetic), its input widths and extractor settings, and why a modality has no part;
- ``text/``: a fine-tuned text regressor (:class:`msa_lib.train.text_finetune.FineTunedText`);
- ``fusion/model.pt``: optionally, a fusion model (:class:`msa_lib.train.fusion.TrainedModel`)
  over the features of this project's extractors (face geometry, librosa, text vectors).

How the parts combine (:func:`combine`), in this order:

1. the fusion model, when every modality it takes is usable in the clip;
2. else the text model, when there is a transcript;
3. else the fusion model from the modalities that are usable, each missing one given its
   training mean (as :func:`msa_lib.train.fusion.predict` does), the gap stated;
4. else no prediction: one line saying what is missing and what the bundle needs.

A modality is usable when its input exists: text when a transcript is given or speech is heard;
audio when the clip has an audio track that is not silent; visual when a face is found in at
least one frame. Every prediction says which modalities were used and why the others were not.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from msa_lib.extract.engines.asr import AsrConfig
from msa_lib.io.jsonio import dumps, jsonable

log = logging.getLogger(__name__)

BUNDLE_FORMAT = "msa-predict-bundle"
MANIFEST = "manifest.json"
TEXT_DIR = "text"
FUSION_FILE = "fusion/model.pt"
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


class PredictError(ValueError):
    """A clip cannot be scored: nothing the bundle needs is usable, or the request is wrong."""


# ----------------------------------------------------------------- the bundle
def default_bundle_dir() -> Path:
    """``book/results/model`` of the project folder (where ``make book`` leaves the bundle)."""
    from msa_lib.book.build import repo_root

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
        "path": FUSION_FILE,
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
        "version": 1,
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
            fusion_model.save(tmp / FUSION_FILE)
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
    if not manifest.get("parts"):
        raise BundleError(f"{mf}: the bundle has no parts")
    return manifest


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

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> Bundle:
        """Read the bundle in ``path`` (default: :func:`default_bundle_dir`)."""
        path = Path(path) if path is not None else default_bundle_dir()
        manifest = read_manifest(path)
        parts = manifest["parts"]
        text = fusion = None
        if "text" in parts:
            from msa_lib.experiments.text_finetune import FineTunedText

            try:
                text = FineTunedText.load(path / parts["text"].get("path", TEXT_DIR))
            except (OSError, ValueError) as exc:
                raise BundleError(f"{path}: text part cannot be loaded ({exc})") from exc
        if "fusion" in parts:
            from msa_lib.train.fusion import TrainedModel

            try:
                fusion = TrainedModel.load(path / parts["fusion"].get("path", FUSION_FILE))
            except (OSError, ValueError) as exc:
                raise BundleError(f"{path}: fusion part cannot be loaded ({exc})") from exc
        return cls(path, manifest, text, fusion)

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


# ----------------------------------------------------------------- one clip
@dataclass
class ModalityStatus:
    """Whether a modality could be used for a clip, whether it was, and why."""

    usable: bool
    used: bool = False
    why: str = ""
    has_part: bool = True  # False: no part of the model takes it, so it was not looked at


@dataclass
class Prediction:
    """One clip's score with everything that went into it."""

    clip: str
    score: float
    polarity: str  # "positive" (> 0), "negative" (< 0) or "neutral" (0)
    model: str  # "fusion", "text" or "fusion (partial)"
    data_source: str  # the bundle's: "real" or "synthetic"
    transcript: str | None
    transcript_source: str  # "given", "file <path>", "speech recognition (Whisper base)", "none"
    modalities: dict[str, ModalityStatus]
    gaps: list[str]
    parts: list[str]
    duration: float
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready form."""
        return jsonable(self)

    def lines(self) -> list[str]:
        """The human-readable report printed by ``msa predict``."""
        src = "" if self.data_source == "real" else "  [model trained on SYNTHETIC data]"
        out = [
            f"clip: {self.clip} ({self.duration:.1f} s)",
            f"sentiment: {self.score:+.2f} in [-3, 3], {self.polarity} (from the {self.model} model){src}",
            f"transcript ({self.transcript_source}): "
            + (f'"{self.transcript}"' if self.transcript else "none"),
            "modalities:",
        ]
        for m, st in self.modalities.items():
            state = (
                "used"
                if st.used
                else "usable, not used"
                if st.usable
                else "not usable"
                if st.has_part
                else "not used"
            )
            out.append(f"  {m:7s} {state}: {st.why}")
        out += [f"gap: {g}" for g in self.gaps]
        out.append("model parts:")
        out += [f"  {p}" for p in self.parts]
        return out


def polarity(score: float) -> str:
    """'positive', 'negative' or 'neutral' by the sign of the score."""
    return "positive" if score > 0 else "negative" if score < 0 else "neutral"


def read_text_arg(
    text: str | None, transcript_file: str | os.PathLike | None
) -> tuple[str, str] | None:
    """The transcript the user gave and where from, or None; empty or unreadable is an error."""
    if text is not None and transcript_file is not None:
        raise PredictError("give --text or --transcript, not both")
    if text is not None:
        if not text.strip():
            raise PredictError(
                "--text is empty: give the words said in the clip, or leave --text out to "
                "transcribe the speech"
            )
        return text.strip(), "given"
    if transcript_file is not None:
        from msa_lib.extract.plan import read_transcript

        p = Path(transcript_file)
        if not p.is_file():
            raise PredictError(f"{p}: transcript file not found")
        content, error = read_transcript(p)
        if error:
            raise PredictError(error)
        if not content.strip():
            raise PredictError(
                f"{p}: transcript file is empty; leave --transcript out to transcribe the speech"
            )
        return content.strip(), f"file {p}"
    return None


class Predictor:
    """Scores clips with one bundle; the models (Whisper, extractors, parts) load once."""

    def __init__(
        self, bundle: Bundle | str | os.PathLike | None = None, asr: AsrConfig | None = None
    ):
        self.bundle = bundle if isinstance(bundle, Bundle) else Bundle.load(bundle)
        self.asr = asr or AsrConfig()
        self._extractors: dict[str, Any] = {}

    def extractor(self, modality: str):
        """The fusion model's extractor for ``modality``, with the settings in the manifest."""
        if modality not in self._extractors:
            from msa_lib.extract.base import build, settings_from_dict

            values = self.bundle.manifest["parts"]["fusion"].get("extractor_settings") or {}
            settings = settings_from_dict(values, str(self.bundle.path / MANIFEST))
            self._extractors[modality] = build([modality], settings)[0]
        return self._extractors[modality]

    def transcript(
        self, clip: Path, has_audio: bool, given: tuple[str, str] | None
    ) -> tuple[str | None, str, ModalityStatus]:
        """The transcript (given, or heard), its source, and the text modality's status."""
        if given is not None:
            n = len(given[0].split())
            return (
                given[0],
                given[1],
                ModalityStatus(True, why=f"transcript {given[1]} ({n} words)"),
            )
        if not has_audio:
            return (
                None,
                "none",
                ModalityStatus(False, why="no transcript: the clip has no audio track"),
            )
        from msa_lib.extract.engines.asr import transcribe

        tr = transcribe(clip, cfg=self.asr)
        src = "speech recognition (Whisper base)"
        if tr.no_speech:
            return (
                None,
                src,
                ModalityStatus(False, why="no speech heard (silence, noise or a tone)"),
            )
        return tr.text, src, ModalityStatus(True, why=f"transcribed ({len(tr.words)} words)")

    def media_vector(self, modality: str, clip: Path, info) -> tuple[np.ndarray | None, str]:
        """The fusion model's input for an audio/visual modality, or None and why it is missing."""
        from msa_lib.extract.base import Segment

        if modality == "visual" and not info.has_video:
            return None, "no video stream"
        if modality == "audio" and not info.has_audio:
            return None, "no audio track"
        out = self.extractor(modality).run(Segment(clip.stem, clip.stem, str(clip)))
        flags = out.flags
        if out.vector is None or not np.isfinite(out.vector).all():
            if flags.get("no_face"):
                return None, f"no face found in {int(flags.get('n_frames', 0))} frames"
            if flags.get("too_short"):
                return None, "audio shorter than one analysis frame"
            return None, out.error or "no features"
        if modality == "audio" and flags.get("silent"):
            return None, "the audio track is silent"
        if modality == "visual":
            return (
                out.vector,
                f"face in {int(flags['n_face_frames'])} of {int(flags['n_frames'])} frames",
            )
        return out.vector, f"{int(flags.get('n_audio_frames', 0))} audio frames"

    def predict(
        self,
        clip: str | os.PathLike,
        text: str | None = None,
        transcript_file: str | os.PathLike | None = None,
    ) -> Prediction:
        """Score one clip (see the module docstring for how the parts combine)."""
        from msa_lib.extract.engines.media import probe

        t_start = time.perf_counter()
        given = read_text_arg(text, transcript_file)
        clip = Path(clip)
        if not clip.exists():
            raise PredictError(f"{clip}: file not found")
        if clip.is_dir():
            raise PredictError(f"{clip}: is a folder; score a folder of clips with --out FILE.csv")
        info = probe(clip)  # MediaError naming the file for anything that is not media
        seconds: dict[str, float] = {}
        t0 = time.perf_counter()
        words, src, text_status = self.transcript(clip, info.has_audio, given)
        seconds["transcript"] = time.perf_counter() - t0
        status: dict[str, ModalityStatus] = {"text": text_status}
        vectors: dict[str, np.ndarray | None] = {}
        needs = self.bundle.needs
        t0 = time.perf_counter()
        for m in ("audio", "visual", *[m for m in needs if m not in MODALITIES]):
            if m not in needs:
                status[m] = ModalityStatus(False, why=self.why_no_part(m), has_part=False)
                continue
            if m in ("text", "glove"):
                continue
            vectors[m], why = self.media_vector(m, clip, info)
            status[m] = ModalityStatus(vectors[m] is not None, why=why)
        if "glove" in needs:
            status["glove"] = dataclasses.replace(text_status)
        seconds["features"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        score, model, gaps = combine(self.bundle, status, vectors, words, clip, self.extractor)
        seconds["model"] = time.perf_counter() - t0
        seconds["total"] = time.perf_counter() - t_start
        return Prediction(
            clip=str(clip),
            score=float(score),
            polarity=polarity(score),
            model=model,
            data_source=self.bundle.manifest.get("data_source", "real"),
            transcript=words,
            transcript_source=src,
            modalities=status,
            gaps=gaps,
            parts=self.bundle.describe_parts(),
            duration=float(info.duration),
            seconds={k: round(v, 3) for k, v in seconds.items()},
        )

    def why_no_part(self, modality: str) -> str:
        """Why the bundle has no part for ``modality`` (from the manifest, else generic)."""
        reason = self.bundle.manifest.get("not_trained", {}).get(modality)
        return f"the model has no {modality} part" + (f": {reason}" if reason else "")


def _fusion_score(bundle: Bundle, vectors: Mapping[str, np.ndarray | None], text_vector) -> float:
    """The fusion model's score of one clip; a missing modality is an all-NaN row (training mean)."""
    from msa_lib.data.featureset import FeatureSet

    feats = {}
    for m in bundle.fusion.modalities:
        v = text_vector.get(m) if m in ("text", "glove") else vectors.get(m)
        d = bundle.fusion.dims[m]
        feats[m] = (np.full(d, np.nan) if v is None else np.asarray(v, np.float32)).reshape(1, d)
    fs = FeatureSet(
        ["clip"], ["clip"], ["unassigned"], [np.nan], feats, corpus="clip", source="real"
    )
    return float(np.clip(bundle.fusion.predict(fs)[0], -3.0, 3.0))


def _text_vectors(bundle: Bundle, words: str | None, extractor) -> dict[str, np.ndarray | None]:
    """The fusion model's text inputs (MiniLM / GloVe vectors) of the transcript."""
    from msa_lib.extract.base import Segment

    out: dict[str, np.ndarray | None] = {}
    for m in ("text", "glove"):
        if m in bundle.fusion.modalities:
            if not words:
                out[m] = None
                continue
            o = extractor(m).run(Segment("clip", "clip", text=words))
            out[m] = o.vector if o.vector is not None and np.isfinite(o.vector).all() else None
    return out


def combine(
    bundle: Bundle,
    status: dict[str, ModalityStatus],
    vectors: Mapping[str, np.ndarray | None],
    words: str | None,
    clip: Path,
    extractor,
) -> tuple[float, str, list[str]]:
    """The score, the part that gave it, and the gaps; marks the modalities used in ``status``."""
    fusion = bundle.fusion
    text_vecs: dict[str, np.ndarray | None] = {}
    if fusion is not None:
        text_vecs = _text_vectors(bundle, words, extractor)
        for m in ("text", "glove"):
            if m in fusion.modalities and words and text_vecs.get(m) is None:
                status[m] = ModalityStatus(False, why="the transcript has no known word")
    usable = {m: st.usable for m, st in status.items()}
    missing = [m for m in (fusion.modalities if fusion else []) if not usable.get(m)]
    gaps: list[str] = []
    if fusion is not None and not missing:
        for m in fusion.modalities:
            status[m].used = True
        return _fusion_score(bundle, vectors, text_vecs), "fusion", gaps
    if bundle.text is not None and usable.get("text"):
        status["text"].used = True
        gaps += [f"{m} not used: {status[m].why}" for m in missing]
        return float(bundle.text.predict([words])[0]), "text", gaps
    if fusion is not None and len(missing) < len(fusion.modalities):
        for m in fusion.modalities:
            status[m].used = m not in missing
        gaps += [f"{m} missing ({status[m].why}): given its training mean" for m in missing]
        return _fusion_score(bundle, vectors, text_vecs), "fusion (partial)", gaps
    needs = " and ".join(bundle.needs)
    why = "; ".join(f"{m}: {status[m].why}" for m in bundle.needs if m in status)
    hint = " (give --text or --transcript)" if "text" in bundle.needs else ""
    raise PredictError(
        f"{clip}: nothing to predict from: the model in {bundle.path} takes {needs}, and none is "
        f"usable ({why}){hint}"
    )


def predict_clip(
    clip: str | os.PathLike,
    text: str | None = None,
    transcript_file: str | os.PathLike | None = None,
    bundle: Bundle | str | os.PathLike | None = None,
) -> Prediction:
    """Score one clip with the bundle in ``bundle`` (default: ``book/results/model``)."""
    return Predictor(bundle).predict(clip, text, transcript_file)


def predict_folder(folder: str | os.PathLike, predictor: Predictor) -> list[dict]:
    """One row per media file of ``folder``: its prediction, or the one-line error it gave.

    A sidecar ``<clip>.txt`` is used as the clip's transcript (as ``msa extract`` does).
    """
    from msa_lib.data.layout import media_files

    clips = media_files(folder)
    if not clips:
        raise PredictError(f"{folder}: no media files to score")
    rows = []
    for clip in clips:
        side = clip.with_suffix(".txt")
        row: dict[str, Any] = {"clip": clip.name}
        try:
            p = predictor.predict(clip, transcript_file=side if side.is_file() else None)
        except (ValueError, OSError) as exc:
            row["error"] = str(exc).splitlines()[0]
            rows.append(row)
            continue
        row |= {
            "score": round(p.score, 4),
            "polarity": p.polarity,
            "model": p.model,
            "data_source": p.data_source,
            "used": "+".join(m for m, s in p.modalities.items() if s.used),
            "gaps": "; ".join(p.gaps),
            "transcript_source": p.transcript_source,
            "transcript": p.transcript or "",
            "seconds": p.seconds.get("total"),
            "error": "",
        }
        rows.append(row)
    return rows


# ----------------------------------------------------------------- the book's bundle
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
        from msa_lib.experiments.text_finetune import FineTunedText

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
    from msa_lib.experiments.text_finetune import TextFineTuneConfig, fine_tune_text

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


# ----------------------------------------------------------------- tables for the book
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


def predict_segments(predictor: Predictor, segments) -> tuple:
    """Each clip scored with no text given, beside its label and true transcript.

    ``segments`` are planned clips (:mod:`msa_lib.extract.plan`): whole files, with the label
    and transcript of their segments table. Returns a table (clip, label, score, polarity,
    model, true transcript, ASR transcript, WER, seconds) and the predictions.
    """
    import pandas as pd

    from msa_lib.extract.engines.asr import wer

    rows, preds = [], []
    for s in segments:
        p = predictor.predict(s.media)
        preds.append(p)
        rows.append(
            {
                "clip": s.segment_id,
                "label": s.label,
                "score": p.score,
                "polarity": p.polarity,
                "model": p.model,
                "truth": s.text or "",
                "asr": p.transcript or "",
                "wer": wer(s.text, p.transcript or "") if s.text else float("nan"),
                "seconds": p.seconds["total"],
            }
        )
    return pd.DataFrame(rows), preds
