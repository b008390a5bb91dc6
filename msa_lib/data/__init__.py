"""Data: the FeatureSet contract, .csd files, splits, the real-data folder, the synthetic corpus."""

from msa_lib.data.featureset import FeatureSet, FeatureSetError, ModalityMeta
from msa_lib.data.folder import DataFolder, DataFolderError, open_data, open_synthetic

__all__ = [
    "DataFolder",
    "DataFolderError",
    "FeatureSet",
    "FeatureSetError",
    "ModalityMeta",
    "open_data",
    "open_synthetic",
]
