"""The data folder: real CMU-MOSI/MOSEI data (``MSA_DATA_DIR``) or the synthetic stand-in.

Layout (that of ``shared/data``; see its README)::

    mosi/segments.csv           segment_id, video_id, start, end, label, split, text
    mosi/bclstm_features.npz    real bc-LSTM utterance features with their own split
    mosei/segments.csv          segment_id, video_id, segment_index, start, end, sentiment, ..., split
    raw/mosi/<segment_id>.mp4   a few real clips
    raw/mosei/<video_id>.mp4    a few whole source videos
    csd/*.csd                   CMU computational sequences, when the user has them

A synthetic folder has the same layout plus ``SYNTHETIC.json``; its ``source`` is "synthetic".
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.data.csd import AverageReport, average_segments
from msa_lib.data.featureset import (
    ALLOWED_SPLITS,
    LABEL_MAX,
    LABEL_MIN,
    FeatureSet,
    ModalityMeta,
)

log = logging.getLogger(__name__)

CORPORA = ("mosi", "mosei")
ENV_VAR = "MSA_DATA_DIR"
SYNTHETIC_MARKER = "SYNTHETIC.json"
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


class DataFolderError(ValueError):
    """The data folder, or a file in it, breaks the expected layout."""


@dataclass
class DataFolder:
    """A real or synthetic data folder, read lazily."""

    root: Path
    source: str  # "real" or "synthetic"

    @classmethod
    def open(cls, path: str | os.PathLike) -> DataFolder:
        """Open an existing folder; a missing one is an error naming it."""
        root = Path(path).expanduser()
        if not root.is_dir():
            raise DataFolderError(
                f"data folder {root} does not exist (set {ENV_VAR} to a folder laid out like "
                "shared/data, or unset it to use the synthetic corpus)"
            )
        if not any((root / c / "segments.csv").is_file() for c in CORPORA):
            raise DataFolderError(
                f"data folder {root} has neither mosi/segments.csv nor mosei/segments.csv"
            )
        source = "synthetic" if (root / SYNTHETIC_MARKER).is_file() else "real"
        return cls(root=root.resolve(), source=source)

    @property
    def is_synthetic(self) -> bool:
        """True for the generated stand-in corpus."""
        return self.source == "synthetic"

    @property
    def label(self) -> str:
        """'real' or 'SYNTHETIC', for captions."""
        return "real" if self.source == "real" else "SYNTHETIC"

    def synthetic_info(self) -> dict:
        """The generator's settings (empty for real data)."""
        marker = self.root / SYNTHETIC_MARKER
        return json.loads(marker.read_text()) if marker.is_file() else {}

    def has(self, corpus: str) -> bool:
        """Whether the folder holds this corpus's segment table."""
        return (self.root / corpus / "segments.csv").is_file()

    # ----------------------------------------------------------------- segments
    def segments(self, corpus: str) -> pd.DataFrame:
        """The corpus's validated segment table, with ``label`` and ``duration`` columns."""
        if corpus not in CORPORA:
            raise DataFolderError(f"unknown corpus '{corpus}' (known: {CORPORA})")
        path = self.root / corpus / "segments.csv"
        if not path.is_file():
            raise DataFolderError(f"{path}: not found")
        return read_segments(path, corpus)

    # ----------------------------------------------------------------- bc-LSTM
    def bclstm(self) -> FeatureSet:
        """Real MOSI bc-LSTM utterance features, ``split`` = their own ``bclstm_split``.

        Evaluate these ONLY on this split: their extractor networks were trained on it, and on the
        official folds they leak labels (see shared/data/README.md).
        """
        path = self.root / "mosi" / "bclstm_features.npz"
        if not path.is_file():
            raise DataFolderError(f"{path}: not found (bc-LSTM features exist only in real data)")
        with np.load(path, allow_pickle=False) as z:
            ids = z["segment_id"].astype(str)
            split = z["bclstm_split"].astype(str)
            feats = {m: z[m].astype(np.float32) for m in ("audio", "visual", "text")}
        seg = self.segments("mosi").set_index("segment_id")
        unknown = np.setdiff1d(ids, seg.index.to_numpy())
        if len(unknown):
            raise DataFolderError(
                f"{path}: {len(unknown)} segment ids not in segments.csv, e.g. {unknown[:3]}"
            )
        names = {
            "audio": "bc-LSTM openSMILE/COVAREP-like",
            "visual": "bc-LSTM 3D-CNN",
            "text": "bc-LSTM text CNN",
        }
        return FeatureSet(
            segment_id=ids,
            video_id=seg.loc[ids, "video_id"].to_numpy(),
            split=split,
            label=seg.loc[ids, "label"].to_numpy(),
            features=feats,
            meta={m: ModalityMeta(extractor=names[m], version="Poria et al. 2017") for m in feats},
            corpus="mosi-bclstm",
            source=self.source,
        ).validate(str(path))

    # ----------------------------------------------------------------- raw media
    def raw_clips(self, corpus: str) -> list[Path]:
        """Raw media files under ``raw/<corpus>/``, sorted (empty when there are none)."""
        d = self.root / "raw" / corpus
        exts = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".wav", ".flac", ".mp3"}
        return sorted(p for p in d.glob("*") if p.suffix.lower() in exts) if d.is_dir() else []

    # ----------------------------------------------------------------- .csd features
    def csd_files(self, corpus: str) -> dict[str, Path]:
        """The .csd file used for each modality of ``corpus`` (only those present)."""
        found = {}
        for modality, names in CSD_NAMES[corpus].items():
            for name in names:
                p = self.root / "csd" / name
                if p.is_file():
                    found[modality] = p
                    break
        return found

    def features(
        self, corpus: str, modalities: tuple[str, ...] = ("visual", "audio", "text")
    ) -> tuple[FeatureSet, dict[str, AverageReport]]:
        """Average the corpus's .csd sequences per segment into a FeatureSet (with reports)."""
        files = self.csd_files(corpus)
        absent = [m for m in modalities if m not in files]
        if absent:
            raise DataFolderError(
                f"{self.root / 'csd'}: no .csd file for {corpus} modality {absent}; "
                f"looked for {[CSD_NAMES[corpus][m] for m in absent]}"
            )
        seg = self.segments(corpus)
        seg = seg[seg["split"] != "unassigned"].reset_index(drop=True)
        feats, meta, reports = {}, {}, {}
        for m in modalities:
            feats[m], reports[m] = average_segments(files[m], seg)
            meta[m] = ModalityMeta(
                extractor=files[m].stem, version="csd", params={"pooling": "finite mean over time"}
            )
        fs = FeatureSet(
            segment_id=seg["segment_id"].to_numpy(),
            video_id=seg["video_id"].to_numpy(),
            split=seg["split"].to_numpy(),
            label=seg["label"].to_numpy(),
            features=feats,
            meta=meta,
            corpus=corpus,
            source=self.source,
        )
        return fs.validate(f"{self.root / 'csd'} ({corpus})"), reports

    # ----------------------------------------------------------------- summary
    def summary(self) -> dict:
        """Per corpus: source, segment counts per split, .csd modalities, raw clips."""
        out: dict = {"data_dir": str(self.root), "source": self.source, "corpora": {}}
        for corpus in CORPORA:
            if not self.has(corpus):
                continue
            seg = self.segments(corpus)
            counts = seg["split"].value_counts()
            out["corpora"][corpus] = {
                "source": self.source,
                "n_segments": int(len(seg)),
                "n_videos": int(seg["video_id"].nunique()),
                "splits": {s: int(counts.get(s, 0)) for s in ALLOWED_SPLITS},
                "csd_modalities": sorted(self.csd_files(corpus)),
                "raw_clips": len(self.raw_clips(corpus)),
            }
        if (self.root / "mosi" / "bclstm_features.npz").is_file():
            out["corpora"]["mosi"]["bclstm_features"] = True
        return out


def fail_on_rows(
    path: str | os.PathLike,
    df: pd.DataFrame,
    bad: pd.Series | np.ndarray,
    problem: Callable[[int], str],
    error: type[Exception] = DataFolderError,
) -> None:
    """Raise ``error`` naming the file, the first bad row's segment id and CSV row, and its problem."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise error(f"{path}: segment '{df['segment_id'].iat[i]}' (row {i + 2}) {problem(i)}")


def read_segments(path: Path, corpus: str) -> pd.DataFrame:
    """Read and validate a segments.csv; errors name the file, the row and the problem."""
    try:
        df = pd.read_csv(path, dtype={"segment_id": str, "video_id": str})
    except Exception as exc:
        raise DataFolderError(f"{path}: cannot be read as CSV ({exc})") from exc
    missing = [c for c in REQUIRED_COLUMNS[corpus] if c not in df.columns]
    if missing:
        raise DataFolderError(
            f"{path}: missing column(s) {missing}; a {corpus} segments.csv needs "
            f"{list(REQUIRED_COLUMNS[corpus])}"
        )
    if corpus == "mosei":
        df = df.rename(columns={"sentiment": "label"})
    dup = df["segment_id"][df["segment_id"].duplicated()]
    if len(dup):
        raise DataFolderError(f"{path}: duplicate segment ids, e.g. {dup.head(3).tolist()}")
    label = pd.to_numeric(df["label"], errors="coerce")
    fail_on_rows(
        path,
        df,
        label.isna() | (label < LABEL_MIN) | (label > LABEL_MAX),
        lambda i: (
            f"has label {df['label'].iat[i]}; labels must be numbers in [{LABEL_MIN}, {LABEL_MAX}]"
        ),
    )
    fail_on_rows(
        path,
        df,
        ~df["split"].isin(ALLOWED_SPLITS),
        lambda i: f"has split {df['split'].iat[i]!r}, expected one of {ALLOWED_SPLITS}",
    )
    for col in ("start", "end"):
        df[col] = pd.to_numeric(df[col], errors="coerce")
    fail_on_rows(
        path,
        df,
        df["start"].isna() | df["end"].isna() | (df["end"] < df["start"]),
        lambda i: (
            f"has start {df['start'].iat[i]} and end {df['end'].iat[i]}; need numbers with end >= start"
        ),
    )
    zero = int((df["end"] == df["start"]).sum())
    if zero:
        # Real MOSI has such a segment; its media features will be missing, its label is fine.
        log.warning("%s: %d segment(s) have zero duration (end == start)", path, zero)
    df["label"] = label.astype(np.float32)
    df["duration"] = df["end"] - df["start"]
    if "text" in df.columns:
        df["text"] = df["text"].fillna("").astype(str)
    return df


def default_cache_dir() -> Path:
    """Where generated data goes: ``MSA_CACHE_DIR`` or ``~/.cache/msa-book``."""
    return Path(os.environ.get("MSA_CACHE_DIR", Path.home() / ".cache" / "msa-book"))


def open_synthetic(synth_config=None) -> DataFolder:
    """The synthetic stand-in folder (generated once into the cache), whatever ``MSA_DATA_DIR`` says."""
    from msa_lib.config import SynthConfig
    from msa_lib.data.synthetic import ensure_synthetic

    cfg = synth_config or SynthConfig()
    return DataFolder.open(ensure_synthetic(default_cache_dir() / "synthetic", cfg))


def open_data(data_dir: str | os.PathLike | None = None, synth_config=None) -> DataFolder:
    """The data in use: ``data_dir``, else ``$MSA_DATA_DIR``, else the synthetic corpus (made once)."""
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(ENV_VAR) or None
    if chosen is not None:
        return DataFolder.open(chosen)
    folder = open_synthetic(synth_config)
    log.warning("No %s set: using the SYNTHETIC corpus in %s", ENV_VAR, folder.root)
    return folder
