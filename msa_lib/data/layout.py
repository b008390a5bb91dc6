"""The layout of a data folder: every file and folder name the project reads, in one place.

Layout (that of ``shared/data``; see its README)::

    mosi/segments.csv           segment_id, video_id, start, end, label, split, text
    mosi/bclstm_features.npz    real bc-LSTM utterance features with their own split
    mosei/segments.csv          segment_id, video_id, start, end, sentiment, ..., split
    raw/mosi/<segment_id>.mp4   real clips, one per segment
    raw/mosei/<video_id>.mp4    whole source videos, cut per segment by start/end
    csd/*.csd                   CMU computational sequences, when the user has them

A synthetic folder has the same layout plus ``SYNTHETIC.json``.
"""

from __future__ import annotations

import os
from pathlib import Path

CORPORA = ("mosi", "mosei")
ENV_VAR = "MSA_DATA_DIR"
CACHE_ENV_VAR = "MSA_CACHE_DIR"
SEGMENTS_FILE = "segments.csv"
BCLSTM_FILE = "bclstm_features.npz"
SYNTHETIC_MARKER = "SYNTHETIC.json"
RAW_DIR = "raw"
CSD_DIR = "csd"
TRANSCRIPTS_DIR = "transcripts"  # inside the cache: text features of a corpus's transcripts
# Media files the extractors read (video with sound, or sound alone), lower-case suffixes.
MEDIA_EXTS = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".wav", ".flac", ".mp3", ".m4a")
# Columns a corpus's segments table must have (MOSEI names its label "sentiment").
REQUIRED_COLUMNS = {
    "mosi": ("segment_id", "video_id", "start", "end", "label", "split"),
    "mosei": ("segment_id", "video_id", "start", "end", "sentiment", "split"),
}
# Candidate .csd file names per corpus and modality, first match wins: the CMU SDK's names for a
# user's real copy, then the synthetic corpus's names.
CSD_NAMES = {
    "mosei": {
        "visual": ("CMU_MOSEI_VisualOpenFace2.csd", "SYNTH_MOSEI_OpenFace2.csd"),
        "audio": ("CMU_MOSEI_COVAREP.csd", "SYNTH_MOSEI_COVAREP.csd"),
        "text": ("CMU_MOSEI_TimestampedWordVectors.csd", "SYNTH_MOSEI_GloVe.csd"),
    },
    "mosi": {
        "visual": (
            "CMU_MOSI_Visual_OpenFace_2.csd",
            "CMU_MOSI_VisualOpenFace2.csd",
            "SYNTH_MOSI_FaceGeometry.csd",
        ),
        "audio": ("CMU_MOSI_COVAREP.csd", "SYNTH_MOSI_Librosa.csd"),
        "text": ("CMU_MOSI_TimestampedWordVectors.csd", "SYNTH_MOSI_MiniLM.csd"),
    },
}


def segments_path(root: str | os.PathLike, corpus: str) -> Path:
    """``ROOT/<corpus>/segments.csv``."""
    return Path(root) / corpus / SEGMENTS_FILE


def bclstm_path(root: str | os.PathLike) -> Path:
    """``ROOT/mosi/bclstm_features.npz``."""
    return Path(root) / "mosi" / BCLSTM_FILE


def raw_dir(root: str | os.PathLike, corpus: str) -> Path:
    """``ROOT/raw/<corpus>``: the corpus's raw clips or source videos."""
    return Path(root) / RAW_DIR / corpus


def csd_dir(root: str | os.PathLike) -> Path:
    """``ROOT/csd``: the user's CMU computational sequences."""
    return Path(root) / CSD_DIR


def is_media(path: str | os.PathLike) -> bool:
    """Whether ``path`` has one of the media extensions the extractors read."""
    return Path(path).suffix.lower() in MEDIA_EXTS


def media_files(folder: str | os.PathLike) -> list[Path]:
    """Media files directly inside ``folder``, sorted (none when the folder does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and is_media(p))


def find_media(folder: str | os.PathLike, stem: str) -> Path | None:
    """``folder/<stem>.<ext>`` for the first media extension that exists, else None."""
    for ext in MEDIA_EXTS:
        p = Path(folder) / f"{stem}{ext}"
        if p.is_file():
            return p
    return None


def default_table_for(clip_folder: str | os.PathLike) -> Path | None:
    """``ROOT/<corpus>/segments.csv`` for a clip folder ``ROOT/raw/<corpus>``, when it exists."""
    folder = Path(clip_folder).resolve()
    if folder.parent.name == RAW_DIR:
        cand = segments_path(folder.parent.parent, folder.name)
        if cand.is_file():
            return cand
    return None


def default_media_for(table: str | os.PathLike) -> Path:
    """``ROOT/raw/<corpus>`` for a segments table ``ROOT/<corpus>/segments.csv``."""
    table = Path(table).resolve()
    return raw_dir(table.parent.parent, table.parent.name)


def default_cache_dir() -> Path:
    """Where generated data and caches go: ``$MSA_CACHE_DIR`` or ``~/.cache/msa-book``."""
    return Path(os.environ.get(CACHE_ENV_VAR, Path.home() / ".cache" / "msa-book"))


def transcript_cache(source: str, corpus: str = "mosi") -> Path:
    """Where the text features of a corpus's transcripts are cached: ``<cache>/transcripts/<corpus>-<source>``."""
    return default_cache_dir() / TRANSCRIPTS_DIR / f"{corpus}-{source}"
