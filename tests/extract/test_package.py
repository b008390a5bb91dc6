"""``import msa_lib.extract`` stays light: an extractor's libraries load when it is first named."""

import subprocess
import sys

HEAVY = {
    "torch",
    "pandas",
    "librosa",
    "mediapipe",
    "transformers",
    "sklearn",
    "av",
    "h5py",
    "scipy",
}


def loaded_after(code: str) -> set[str]:
    """Top-level modules a fresh interpreter holds after running ``code``."""
    probe = f"{code}; import sys; print(' '.join(m for m in sys.modules if '.' not in m))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_importing_the_package_loads_no_heavy_library():
    loaded = loaded_after("import msa_lib.extract")
    assert "msa_lib" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_naming_an_extractor_loads_its_libraries():
    # the check above can fail: the audio extractor's module brings librosa in when it is named
    loaded = loaded_after("from msa_lib.extract.base import get; get('audio')")
    assert "librosa" in loaded
