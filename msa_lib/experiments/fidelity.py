"""Fidelity to the paper: where its text and its public code differ, and how far apart the two sides are.

The paper's text (§3.2, §3.3) leaves some feature choices open and its public code
(``train_mosei_test_mosi_with_adapters.py``: ``extract_librosa_features``,
``extract_facemesh_features``, ``_extract_emotion_features``) answers them, sometimes against the
text. :data:`CHOICES` holds, once, what the text says of each choice (and where); the code's
answer and ours come from the configs' protocols (``AudioConfig`` / ``VisualConfig``
``PROTOCOLS``: "paper" follows the code, "ours" is the default). :func:`protocol_table` lists
them; :func:`measure_fidelity` measures both sides of each on clips and :func:`measured_table`
and :func:`fidelity_note` state the result (chapter 9).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from msa_lib.config import AudioConfig, VisualConfig
from msa_lib.extract.base import Segment


@dataclass(frozen=True)
class Choice:
    """One feature choice where the paper's text is silent or its code departs from it.

    ``setting`` is the config field that picks it ("" where none does); ``words`` puts the
    setting's values in words. Where the setting is one of the config's protocol ``CHOICES``,
    the code's answer is the "paper" protocol's value and ours the default's; elsewhere ``code``
    and ``ours`` say them (``ours`` None: the default value's words).
    """

    name: str
    config: type
    setting: str
    text: str  # what the paper's text says ("not said" where it is silent)
    section: str  # the paper's section describing the feature
    words: Mapping[object, str] = field(default_factory=dict)
    code: str | None = None
    ours: str | None = None


NOT_SAID = "not said"
CHOICES: tuple[Choice, ...] = (
    Choice(
        "landmark coordinates",
        VisualConfig,
        "coords",
        NOT_SAID,
        "§3.3",
        {"normalized": "normalised [0, 1], z as given", "pixels": "pixels"},
    ),
    Choice(
        "face width 0-16",
        VisualConfig,
        "width_landmarks",
        "distance",
        "§3.3",
        code="3-D distance",
        ours="3-D distance",
    ),
    Choice(
        "face width < 1e-6",
        VisualConfig,
        "min_face_width",
        NOT_SAID,
        "§3.3",
        code="65 zeros",
        ours="no face",
    ),
    Choice(
        "mouth corner angle",
        VisualConfig,
        "corner_angle",
        "arctan",
        "§3.3",
        {"smile": "corners vs lips' centre", "tilt": "tilt of corners"},
    ),
    Choice(
        "eye symmetry",
        VisualConfig,
        "eye_symmetry",
        '"normalized absolute difference"',
        "§3.3",
        {"ratio": "|l - r| / max(l, r)", "difference": "|l - r|"},
    ),
    Choice(
        "frames without a face",
        VisualConfig,
        "no_face",
        NOT_SAID,
        "§3.3",
        {"zeros": "zeros in the mean", "skip": "skipped, counted"},
    ),
    Choice(
        "resampling to 22.05 kHz",
        AudioConfig,
        "resampler",
        NOT_SAID,
        "§3.2",
        {r: "soxr" for r in AudioConfig.RESAMPLERS if r.startswith("soxr")}
        | {"swresample": "FFmpeg swresample"},
        code="soxr (librosa.load)",
    ),
    Choice(
        "tempo",
        AudioConfig,
        "tempo",
        "per frame",
        "§3.2",
        {"global": "one beat_track tempo", "frames": "per frame, averaged"},
    ),
    Choice(
        "chroma",
        AudioConfig,
        "",
        "chroma",
        "§3.2",
        code="chroma (fails: zeros)",
        ours="chroma_stft",
    ),
)
PROTOCOL_COLUMNS = [
    "choice",
    "paper's code",
    "paper's text",
    "section",
    "ours (default)",
    "setting",
]


def is_protocol_choice(choice: Choice) -> bool:
    """Whether the choice's setting is one of its config's protocol ``CHOICES``."""
    return choice.setting in getattr(choice.config, "CHOICES", {})


def answers(choice: Choice) -> tuple[str, str]:
    """The code's answer and ours, in words: from the protocols where they hold the choice."""
    if is_protocol_choice(choice):
        code = choice.config.PROTOCOLS["paper"][choice.setting]
        ours = getattr(choice.config().resolved(), choice.setting)
        return choice.words[code], choice.words[ours]
    if choice.code is None or (choice.ours is None and not choice.setting):
        raise ValueError(
            f"fidelity choice {choice.name!r} names neither a protocol nor the code's answer "
            "and ours"
        )
    ours = choice.ours
    if ours is None:
        ours = choice.words[getattr(choice.config(), choice.setting)]
    return choice.code, ours


def protocol_table(choices: Sequence[Choice] = CHOICES) -> pd.DataFrame:
    """The choices where the paper's text and code differ or the text is silent, one row each.

    The code's answer (protocol "paper"), the text's with its section, ours (the default), and
    the setting that picks either.
    """
    rows = []
    for c in choices:
        code, ours = answers(c)
        rows.append((c.name, code, c.text, c.section, ours, c.setting))
    return pd.DataFrame(rows, columns=PROTOCOL_COLUMNS)


def default_choices(choices: Sequence[Choice] = CHOICES) -> list[str]:
    """Ours, in words, for every protocol choice where the default departs from the code."""
    out = []
    for c in choices:
        code, ours = answers(c)
        if is_protocol_choice(c) and code != ours:
            out.append(f"{c.name}: {ours}")
    return out


# --------------------------------------------------------------------------- the code's audio
def paper_code_audio(
    seg: Segment, cfg: AudioConfig = AudioConfig()
) -> tuple[np.ndarray, str | None]:
    """The paper's ``extract_librosa_features`` as published, on a segment, and the error it hid.

    ``librosa.load(sr, duration)`` (:func:`~msa_lib.perf.baselines.librosa_load`), its one call
    per feature with ``librosa.feature.chroma`` as the code names it, the mean padded to
    ``cfg.pad_to``; the whole body in the code's bare ``except``, which returns
    ``cfg.pad_to`` zeros. Returns the vector and the error caught (None when there was none).
    """
    from msa_lib.perf.baselines import librosa_load, librosa_recipe

    try:
        values = librosa_recipe(librosa_load(seg, cfg), cfg.sample_rate, chroma="chroma")
        out = np.zeros(max(cfg.pad_to, len(values)))
        out[: len(values)] = values
        return out, None
    except Exception as exc:  # noqa: BLE001 - the code's bare except, reproduced
        return np.zeros(cfg.pad_to), f"{type(exc).__name__}: {exc}"


# --------------------------------------------------------------------------- the measurement
def distance_columns() -> list[int]:
    """The visual columns that are distances: mouth width and height, the eyes, the 53 norms."""
    from msa_lib.extract.features.visual import GROUPS, feature_names

    names = feature_names()
    mouth = [names.index("mouth_width_61_291"), names.index("mouth_height_13_14")]
    return [*mouth, *GROUPS["eyes"], *GROUPS["landmark norms"]]


def audio_columns(prefix: str, cfg: AudioConfig = AudioConfig()) -> list[int]:
    """The audio columns whose names start with ``prefix`` (``"mfcc_"``, ``"tempo"``)."""
    from msa_lib.extract.features.audio import feature_names

    cols = [i for i, n in enumerate(feature_names(cfg)) if n.startswith(prefix)]
    if not cols:
        raise ValueError(f"no audio feature is named {prefix}...")
    return cols


@dataclass
class FidelityMeasures:
    """Both sides of each choice measured on ``n`` clips (see :func:`measure_fidelity`)."""

    n: int
    distance_rel: np.ndarray  # [clips, distance columns]: |normalised - pixels| / |pixels|
    angle_sign_flips: int  # clips whose code's angle and tilt have opposite signs
    eye_ratio: np.ndarray  # [clips] the code's eye symmetry (ratio)
    eye_difference: np.ndarray  # [clips] ours (difference in face widths)
    frames_lost: int  # frames read without a face
    frames_read: int
    mfcc_shift: list[float]  # per clip: largest |MFCC swresample - soxr|
    tone_gains: dict[float, tuple[float, float]]  # frequency: (default resampler, swresample)
    tempo_frames: list[float]  # per clip: frame-level mean tempo (text)
    tempo_global: list[float]  # per clip: one beat_track tempo (code)
    chroma_exists: bool  # librosa.feature.chroma exists
    code_audio: np.ndarray  # [clips, pad_to] the code's audio function as published
    code_audio_errors: list[str | None]  # per clip: what its bare except caught
    librosa_version: str = ""
    resampler: str = AudioConfig().resampler


def measure_fidelity(
    clips: Sequence[Segment], tone_frequencies: Sequence[float] = (9e3, 1e4)
) -> FidelityMeasures:
    """Both sides of each choice on ``clips``, and the resamplers on pure tones.

    Visual: the paper protocol's landmarks (Tasks) reused for every variant -- normalised
    against pixel coordinates, the code's corner angle against the tilt, the eye-symmetry ratio
    against the difference, frames without a face. Audio: the default resampler against FFmpeg's
    swresample (MFCC and pure tones at ``tone_frequencies`` Hz, 44.1 -> 22.05 kHz), frame-level
    against one beat_track tempo, and the code's audio function as published.
    """
    import librosa

    from msa_lib.extract.features.audio import extract_audio, tone_gain
    from msa_lib.extract.features.visual import (
        extract_visual,
        feature_names,
        features_from_landmarks,
    )

    if not clips:
        raise ValueError("measure_fidelity needs at least one clip")
    paper_v, ours_v = VisualConfig(protocol="paper"), VisualConfig()
    pixels_v = dataclasses.replace(paper_v, coords="pixels")
    swr_a = AudioConfig(resampler="swresample")
    k_angle = feature_names().index("mouth_corner_angle")
    k_eye = feature_names().index("eye_width_asymmetry")
    mfcc, (k_tempo,) = audio_columns("mfcc_"), audio_columns("tempo")
    norm, pix, ours, lost, read = [], [], [], 0, 0
    mfcc_shift, tempo_frames, tempo_global, code, errors = [], [], [], [], []
    for s in clips:
        r = extract_visual(s.media, s.start, s.end, paper_v, keep_frames=True)
        norm.append(r.vector)
        pix.append(features_from_landmarks(r.landmarks, *r.frame_size, pixels_v)[0])
        ours.append(features_from_landmarks(r.landmarks, *r.frame_size, ours_v)[0])
        lost, read = lost + r.n_frames - r.n_face_frames, read + r.n_frames
        default = extract_audio(s.media, s.start, s.end, AudioConfig()).vector
        swr = extract_audio(s.media, s.start, s.end, swr_a).vector
        mfcc_shift.append(float(np.abs(default[mfcc] - swr[mfcc]).max()))
        tempo_frames.append(float(default[k_tempo]))
        paper_a = extract_audio(s.media, s.start, s.end, AudioConfig(protocol="paper")).vector
        tempo_global.append(float(paper_a[k_tempo]))
        vector, error = paper_code_audio(s)
        code.append(vector)
        errors.append(error)
    norm, pix, ours = np.stack(norm), np.stack(pix), np.stack(ours)
    cols = distance_columns()
    rel = np.abs(norm[:, cols] - pix[:, cols]) / np.abs(pix[:, cols])
    return FidelityMeasures(
        n=len(clips),
        distance_rel=rel,
        angle_sign_flips=int((np.sign(norm[:, k_angle]) != np.sign(ours[:, k_angle])).sum()),
        eye_ratio=norm[:, k_eye],
        eye_difference=ours[:, k_eye],
        frames_lost=lost,
        frames_read=read,
        mfcc_shift=mfcc_shift,
        tone_gains={f: (tone_gain(f), tone_gain(f, swr_a)) for f in tone_frequencies},
        tempo_frames=tempo_frames,
        tempo_global=tempo_global,
        chroma_exists=hasattr(librosa.feature, "chroma"),
        code_audio=np.stack(code),
        code_audio_errors=errors,
        librosa_version=librosa.__version__,
    )


def code_audio_zeros(m: FidelityMeasures) -> int:
    """Clips on which the code's audio function, as published, returned all zeros."""
    return int((m.code_audio == 0).all(axis=1).sum())


def measured_table(m: FidelityMeasures) -> pd.DataFrame:
    """One row per measured choice: what was measured and its value, in words."""
    rel = m.distance_rel
    khz = " and ".join(f"{f / 1000:g} kHz" for f in m.tone_gains)
    rows = [
        (
            "landmark coordinates",
            f"normalised vs pixels: relative difference of the {rel.shape[1]} distance "
            "columns, mean over clips (largest clip)",
            f"{rel.mean():.1%} ({rel.mean(axis=1).max():.1%})",
        ),
        (
            "mouth corner angle",
            "clips where the code's angle and the tilt have opposite signs",
            f"{m.angle_sign_flips} of {m.n}",
        ),
        (
            "eye symmetry",
            "mean value over clips: ratio (code) / difference in face widths (ours)",
            f"{m.eye_ratio.mean():.3f} / {m.eye_difference.mean():.3f}",
        ),
        (
            "frames without a face",
            "frames read without a face (zeros in the code's mean)",
            f"{m.frames_lost} of {m.frames_read}",
        ),
        (
            "resampling",
            "largest MFCC change, FFmpeg swresample vs soxr, per clip (max over clips)",
            f"{max(m.mfcc_shift):.3f}",
        ),
        (
            "resampling (synthetic tone)",
            f"amplitude kept at {khz}, 44.1 -> 22.05 kHz: soxr / swresample",
            ", ".join(f"{a:.3f} / {b:.3f}" for a, b in m.tone_gains.values()),
        ),
        (
            "tempo",
            "BPM per clip: frame-level mean (text) / one beat_track tempo (code)",
            ", ".join(f"{a:.0f} / {b:.0f}" for a, b in zip(m.tempo_frames, m.tempo_global)),
        ),
        ("chroma", "librosa.feature.chroma exists", str(m.chroma_exists)),
        (
            "chroma (the code's audio function)",
            f"clips on which it returns {m.code_audio.shape[1]} zeros, run as published",
            f"{code_audio_zeros(m)} of {m.n}",
        ),
    ]
    return pd.DataFrame(rows, columns=["choice", "measure", "value"])


def chroma_verdict(m: FidelityMeasures, what: str = "clips") -> str:
    """What the code's audio function gives under the librosa measured, from the measurement.

    ``what`` names the clips measured (``"real CMU-MOSI clips"``, ``"GENERATED clips"``).
    """
    zeros, width = code_audio_zeros(m), m.code_audio.shape[1]
    caught = sorted({e for e in m.code_audio_errors if e})
    head = (
        "The code's audio function calls `librosa.feature.chroma`, which librosa "
        f"{m.librosa_version} {'has' if m.chroma_exists else 'does not have'} (`hasattr` gives "
        f"{m.chroma_exists}). Run as published on the {m.n} {what}, "
    )
    if zeros == m.n:
        why = f" (its bare `except` caught `{'`, `'.join(caught)}`)" if caught else ""
        return head + (
            f"it returned {width} zeros for every one{why}: under this librosa the paper's "
            "code's audio features for MOSI are a constant (zeros), whatever the audio; "
            "chapter 2 says more."
        )
    varies = len(np.unique(m.code_audio, axis=0)) > 1
    return head + (
        f"it returned {width} zeros for {zeros} of them and "
        f"{'features that vary from clip to clip' if varies else 'the same vector for all'} "
        "otherwise; chapter 2 says more."
    )


def resampler_verdict(m: FidelityMeasures) -> str:
    """The resampler both protocols use and what it kept of the highest tone measured."""
    f = max(m.tone_gains)
    ours, swr = m.tone_gains[f]
    return (
        f"Both protocols resample with `{m.resampler}`, as the paper's code does through "
        f"`librosa.load`: it kept {ours:.1%} of a {f / 1000:g} kHz tone's amplitude (44.1 -> "
        f"22.05 kHz) where FFmpeg's swresample kept {swr:.1%}."
    )


def fidelity_note(m: FidelityMeasures, what: str = "clips") -> str:
    """The chapter's paragraph after the measured table: the verdicts, from the measurement.

    ``what`` names the clips measured, as :func:`chroma_verdict` says them.
    """
    return " ".join(
        [
            chroma_verdict(m, what),
            "The landmark model differs too (legacy FaceMesh with attention in the paper's code, "
            "the Tasks FaceLandmarker here); the legacy model is not installed, so chapter 3 "
            "gives the measured difference as a reference.",
            "The defaults keep the project's choices (" + "; ".join(default_choices()) + ").",
            resampler_verdict(m),
        ]
    )
