"""A data folder, real (``MSA_DATA_DIR``) or synthetic, read lazily (layout: ``msa_lib.data.layout``)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.data import layout
from msa_lib.data.csd import AverageReport, average_segments
from msa_lib.data.featureset import ALLOWED_SPLITS, FeatureSet, ModalityMeta
from msa_lib.data.layout import CORPORA, CSD_NAMES, ENV_VAR, SYNTHETIC_MARKER
from msa_lib.data.segments import SegmentsTableError, read_segments


class DataFolderError(SegmentsTableError):
    """The data folder, or a file in it, breaks the expected layout."""


class MissingCsdError(DataFolderError, FileNotFoundError):
    """A .csd file a request needs is not in the data folder."""


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
        if not any(layout.segments_path(root, c).is_file() for c in CORPORA):
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
        return layout.segments_path(self.root, corpus).is_file()

    # ----------------------------------------------------------------- segments
    def segments(self, corpus: str) -> pd.DataFrame:
        """The corpus's validated segment table, with ``label`` and ``duration`` columns."""
        if corpus not in CORPORA:
            raise DataFolderError(f"unknown corpus '{corpus}' (known: {CORPORA})")
        path = layout.segments_path(self.root, corpus)
        if not path.is_file():
            raise DataFolderError(f"{path}: not found")
        try:
            return read_segments(path, corpus=corpus)
        except SegmentsTableError as exc:
            raise DataFolderError(str(exc)) from exc

    # ----------------------------------------------------------------- bc-LSTM
    def bclstm(self) -> FeatureSet:
        """Real MOSI bc-LSTM utterance features, ``split`` = their own ``bclstm_split``.

        Evaluate these ONLY on this split: their extractor networks were trained on it, and on the
        official folds they leak labels (see shared/data/README.md).
        """
        path = layout.bclstm_path(self.root)
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
        return layout.media_files(self.raw_dir(corpus))

    def raw_dir(self, corpus: str) -> Path:
        """``raw/<corpus>/``: the corpus's clips or source videos (may not exist)."""
        return layout.raw_dir(self.root, corpus)

    @property
    def has_bclstm(self) -> bool:
        """Whether the folder holds the real bc-LSTM MOSI features."""
        return layout.bclstm_path(self.root).is_file()

    # ----------------------------------------------------------------- .csd features
    def csd_files(self, corpus: str) -> dict[str, Path]:
        """The .csd file used for each modality of ``corpus`` (only those present)."""
        found = {}
        for modality, names in CSD_NAMES[corpus].items():
            for name in names:
                p = layout.csd_dir(self.root) / name
                if p.is_file():
                    found[modality] = p
                    break
        return found

    def csd_segments(
        self, corpus: str, modalities: Sequence[str]
    ) -> tuple[dict[str, Path], pd.DataFrame]:
        """The .csd file of each modality and the corpus's segments with a split, in table order."""
        files = self.csd_files(corpus)
        absent = [m for m in modalities if m not in files]
        if absent:
            raise MissingCsdError(
                f"{layout.csd_dir(self.root)}: no .csd file for {corpus} modality {absent}; "
                f"looked for {[CSD_NAMES[corpus][m] for m in absent]}"
            )
        seg = self.segments(corpus)
        return files, seg[seg["split"] != "unassigned"].reset_index(drop=True)

    def feature_set(
        self,
        corpus: str,
        seg: pd.DataFrame,
        features: dict[str, np.ndarray],
        meta: dict[str, ModalityMeta],
        origin: str,
    ) -> FeatureSet:
        """The validated FeatureSet of ``seg``'s rows (from :meth:`csd_segments`) and ``features``."""
        fs = FeatureSet(
            segment_id=seg["segment_id"].to_numpy(),
            video_id=seg["video_id"].to_numpy(),
            split=seg["split"].to_numpy(),
            label=seg["label"].to_numpy(),
            features=features,
            meta=meta,
            corpus=corpus,
            source=self.source,
        )
        return fs.validate(origin)

    def features(
        self, corpus: str, modalities: tuple[str, ...] = ("visual", "audio", "text")
    ) -> tuple[FeatureSet, dict[str, AverageReport]]:
        """Average the corpus's .csd sequences per segment into a FeatureSet (with reports)."""
        files, seg = self.csd_segments(corpus, modalities)
        feats, meta, reports = {}, {}, {}
        for m in modalities:
            feats[m], reports[m] = average_segments(files[m], seg)
            meta[m] = ModalityMeta(
                extractor=files[m].stem, version="csd", params={"pooling": "finite mean over time"}
            )
        origin = f"{layout.csd_dir(self.root)} ({corpus})"
        return self.feature_set(corpus, seg, feats, meta, origin), reports

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
        if self.has_bclstm:
            out["corpora"]["mosi"]["bclstm_features"] = True
        return out
