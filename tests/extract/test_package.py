"""``import msa_lib.extract`` stays light: an extractor's libraries load when it is first named."""

from tests.imports import loaded_after

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


def test_importing_the_package_loads_no_heavy_library():
    loaded = loaded_after("import msa_lib.extract")
    assert "msa_lib" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_naming_an_extractor_loads_its_libraries():
    # the check above can fail: the audio extractor's module brings librosa in when it is named
    loaded = loaded_after("from msa_lib.extract.base import get; get('audio')")
    assert "librosa" in loaded
