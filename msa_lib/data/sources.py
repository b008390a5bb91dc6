"""Which data a run uses: a folder given by the caller, else ``$MSA_DATA_DIR``, else the synthetic corpus."""

from __future__ import annotations

import logging
import os

from msa_lib.config import SynthConfig
from msa_lib.data.folder import DataFolder
from msa_lib.data.layout import ENV_VAR, default_cache_dir

log = logging.getLogger(__name__)


def open_synthetic(synth_config: SynthConfig | None = None) -> DataFolder:
    """The synthetic stand-in folder (generated once into the cache), whatever ``MSA_DATA_DIR`` says."""
    from msa_lib.data.synthetic import ensure_synthetic

    cfg = synth_config or SynthConfig()
    return DataFolder.open(ensure_synthetic(default_cache_dir() / "synthetic", cfg))


def open_data(
    data_dir: str | os.PathLike | None = None, synth_config: SynthConfig | None = None
) -> DataFolder:
    """The data in use: ``data_dir``, else ``$MSA_DATA_DIR``, else the synthetic corpus (made once)."""
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(ENV_VAR) or None
    if chosen is not None:
        return DataFolder.open(chosen)
    folder = open_synthetic(synth_config)
    log.warning("No %s set: using the SYNTHETIC corpus in %s", ENV_VAR, folder.root)
    return folder
