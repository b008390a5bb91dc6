"""``import msa_lib.extract`` stays light, and so does naming the extractors: a library loads when
an extractor loads its model or runs (``msa extract`` loads the text models meanwhile)."""

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
# what the extractors' models and computations need: none of it loads before they run
MODELS = {"torch", "transformers", "mediapipe", "numba", "scipy", "sklearn"}
BUILD_ALL = (
    "from msa_lib.extract.base import build; ex = build(['audio', 'visual', 'text', 'glove'])"
)


def test_importing_the_package_loads_no_heavy_library():
    loaded = loaded_after("import msa_lib.extract")
    assert "msa_lib" in loaded
    assert not loaded & HEAVY, sorted(loaded & HEAVY)


def test_naming_the_extractors_loads_no_model_library():
    loaded = loaded_after(BUILD_ALL)
    assert "librosa" in loaded  # librosa's lazy package: its submodules load when used
    assert not loaded & MODELS, sorted(loaded & MODELS)


def test_preparing_an_extractor_loads_its_libraries():
    # the check above can fail: loading the landmarker brings MediaPipe in
    loaded = loaded_after(BUILD_ALL + "; ex[1].prepare()")
    assert "mediapipe" in loaded
    assert not {"torch", "transformers"} & loaded


def test_before_workers_compiles_librosas_cached_kernels_in_this_process():
    # what a pool or Ray does before starting several workers (numba's cache is written once)
    loaded = loaded_after(BUILD_ALL + "; ex[0].before_workers()")
    assert {"numba", "librosa"} <= loaded
    assert not {"torch", "transformers", "mediapipe"} & loaded
