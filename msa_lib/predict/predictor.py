"""Scoring a raw clip end to end: transcript (given, or heard by Whisper), features, a model bundle.

The bundle (:mod:`msa_lib.predict.bundle`) holds a fine-tuned text model and, optionally, a fusion
model over this project's extractors' features.

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
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from msa_lib.config import AsrConfig
from msa_lib.io.jsonio import jsonable
from msa_lib.predict.bundle import MODALITIES, Bundle, default_bundle_dir, read_manifest

log = logging.getLogger(__name__)


class PredictError(ValueError):
    """A clip cannot be scored: nothing the bundle needs is usable, or the request is wrong."""


# ----------------------------------------------------------------- the bundle


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
        if p.is_dir():
            raise PredictError(f"{p}: is a folder, not a transcript file (give a UTF-8 text file)")
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
    """Scores clips with one bundle; the models (Whisper, extractors, parts) load once.

    ``background``: the bundle's manifest is checked now and its parts (the text encoder, the
    fusion model and the extractors it takes) load in a thread, so that a first clip's speech
    recognition runs meanwhile (Whisper computes outside Python's lock); :attr:`bundle` waits
    for them, and raises a part's load error there. Without it, the whole bundle loads in the
    constructor. Meanwhile this process builds no torch module (transformers' loading patches
    torch for the whole process, creating parameters on the meta device): only the clip's probe
    and Whisper (CTranslate2) run, and any error waits for the load to end (:meth:`settle`)
    before it is raised.
    """

    def __init__(
        self,
        bundle: Bundle | str | os.PathLike | None = None,
        asr: AsrConfig | None = None,
        background: bool = False,
    ):
        self._bundle: Bundle | None = None
        self._loading: Future | None = None
        self.asr = asr or AsrConfig()
        self._extractors: dict[str, Any] = {}
        if isinstance(bundle, Bundle):
            self._bundle = bundle
        elif background:
            path = Path(bundle) if bundle is not None else default_bundle_dir()
            read_manifest(path)  # a missing or bad manifest, or a bad part entry: said at once
            pool = ThreadPoolExecutor(1, thread_name_prefix="msa-bundle")
            self._loading = pool.submit(self._load_ahead, path)
            pool.shutdown(wait=False)
        else:
            self._bundle = Bundle.load(bundle)

    def _load_ahead(self, path: Path) -> Bundle:
        """The bundle, and the extractors its parts take, each with its model loaded."""
        bundle = Bundle.load(path)
        if bundle.fusion is not None:
            for m in bundle.fusion.modalities:
                self.extractor(m, bundle.settings).prepare()
        return bundle

    def settle(self) -> None:
        """Wait for a load in the background to end, keeping any error it raised for
        :attr:`bundle` to raise."""
        if self._loading is not None:
            wait([self._loading])

    @property
    def bundle(self) -> Bundle:
        """The loaded bundle (waiting for a load in the background to end)."""
        if self._loading is not None:
            self._bundle, self._loading = self._loading.result(), None
        assert self._bundle is not None
        return self._bundle

    def extractor(self, modality: str, settings: dict | None = None):
        """The fusion model's extractor for ``modality``, with the settings in the manifest
        (``settings``: those, given by a load that has not yet set :attr:`bundle`)."""
        if modality not in self._extractors:
            from msa_lib.extract.base import build

            # the settings were checked when the bundle loaded (msa_lib.predict.bundle.check_parts)
            chosen = self.bundle.settings if settings is None else settings
            self._extractors[modality] = build([modality], chosen)[0]
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
        if flags.get("no_face"):  # under the paper's protocol its vector is 65 zeros: no data
            return None, f"no face found in {int(flags.get('n_frames', 0))} frames"
        if out.vector is None or not np.isfinite(out.vector).all():
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
        seconds: dict[str, float] = {}
        try:  # the part of the work that runs while the bundle may still be loading
            given = read_text_arg(text, transcript_file)
            clip = Path(clip)
            if not clip.exists():
                raise PredictError(f"{clip}: file not found")
            if clip.is_dir():
                raise PredictError(
                    f"{clip}: is a folder; score a folder of clips with --out FILE.csv"
                )
            info = probe(clip)  # MediaError naming the file for anything that is not media
            t0 = time.perf_counter()
            words, src, text_status = self.transcript(clip, info.has_audio, given)
        except BaseException:
            self.settle()  # no load left running behind an error (it sets torch's device)
            raise
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


# ----------------------------------------------------------------- tables for the book


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
