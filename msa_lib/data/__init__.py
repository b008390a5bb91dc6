"""Data: the FeatureSet contract, .csd files, splits, segments tables, data folders and sources.

- ``featureset``: the one in-memory and on-disk contract (HDF5), with ``FeatureSet.merge``;
- ``layout``: every file and folder name of a data folder, and the media extensions;
- ``segments``: the one reader of ``segments.csv`` tables;
- ``folder``: a real or synthetic data folder; ``sources``: which one a run uses;
- ``csd``: CMU computational sequences through mmsdk; ``synthetic``: the seeded stand-in corpus;
- ``splits``: official folds and seeded grouped splits; ``describe``: tables for chapter 1.
"""

from msa_lib.data.featureset import FeatureSet, FeatureSetError, ModalityMeta
from msa_lib.data.folder import DataFolder, DataFolderError
from msa_lib.data.sources import open_data, open_synthetic

__all__ = [
    "DataFolder",
    "DataFolderError",
    "FeatureSet",
    "FeatureSetError",
    "ModalityMeta",
    "open_data",
    "open_synthetic",
]
