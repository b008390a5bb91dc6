"""Settings are type-checked and validated when they are built, not later per segment."""

import pytest

from msa_lib.config import (
    AudioConfig,
    ConfigError,
    LossConfig,
    ModelConfig,
    TrainConfig,
    VisualConfig,
    config_from_dict,
    sections_from_dict,
)


def test_values_of_the_right_type_are_accepted_and_converted():
    cfg = config_from_dict(AudioConfig, {"hop_length": 256, "duration": 2, "window": "hamming"})
    assert cfg.hop_length == 256 and cfg.duration == 2.0 and isinstance(cfg.duration, float)
    assert config_from_dict(AudioConfig, {"duration": None}).duration is None
    vis = config_from_dict(VisualConfig, {"width_landmarks": [234, 454]})
    assert vis.width_landmarks == (234, 454)


@pytest.mark.parametrize(
    "cls, values, message",
    [
        (
            AudioConfig,
            {"hop_length": "512"},
            r"settings.yaml: hop_length: expected an integer, got '512'",
        ),
        (AudioConfig, {"n_fft": 2048.0}, "n_fft: expected an integer, got 2048.0"),
        (AudioConfig, {"duration": "3"}, "duration: '3' is not a float | None"),
        (TrainConfig, {"lr": True}, "lr: expected a number, got True"),
        (VisualConfig, {"width_landmarks": [0, 1, 2]}, "expected 2 values, got 3"),
        (AudioConfig, {"hop_lenght": 512}, r"unknown key\(s\) \['hop_lenght'\] for AudioConfig"),
    ],
)
def test_wrong_types_and_unknown_keys_name_the_file_and_key(cls, values, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(cls, values, "settings.yaml")


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: AudioConfig(duration=-1), r"duration must be > 0 \(seconds\) or null"),
        (lambda: AudioConfig(hop_length=4096), r"hop_length \(4096\) must be <= n_fft"),
        (lambda: TrainConfig(max_epochs=0), "max_epochs must be >= 1, got 0"),
        (lambda: TrainConfig(missing="zero"), r"missing must be one of \['impute', 'drop'\]"),
        (lambda: TrainConfig(batch_size=1), r"batch_size must be >= 2 \(BatchNorm\)"),
        (
            lambda: ModelConfig(token_dim=96, heads=5),
            r"token_dim \(96\) must be divisible by heads",
        ),
        (lambda: LossConfig(kind="huber"), "kind must be one of"),
        (lambda: VisualConfig(protocol="all"), "protocol must be one of"),
        (
            lambda: VisualConfig(landmarker="dlib"),
            r"landmarker must be one of \['tasks', 'litert'\]",
        ),
    ],
)
def test_values_out_of_range_are_refused_at_construction(build, message):
    with pytest.raises(ConfigError, match=message):
        build()


def test_a_range_error_from_a_file_names_the_file():
    with pytest.raises(ConfigError, match=r"run.yaml \[train\]: max_epochs must be >= 1"):
        sections_from_dict({"train": TrainConfig}, {"train": {"max_epochs": 0}}, "run.yaml")


def test_sections_build_each_config_and_refuse_unknown_sections():
    out = sections_from_dict(
        {"train": TrainConfig, "loss": LossConfig}, {"loss": {"kind": "mse"}}, "run.yaml"
    )
    assert out["train"] == TrainConfig() and out["loss"].kind == "mse"
    with pytest.raises(ConfigError, match=r"run.yaml: unknown section\(s\) \['trian'\]"):
        sections_from_dict({"train": TrainConfig}, {"trian": {}}, "run.yaml")
    with pytest.raises(ConfigError, match=r"run.yaml \[train\]: expected a mapping"):
        sections_from_dict({"train": TrainConfig}, {"train": [1, 2]}, "run.yaml")


def test_synthetic_and_split_settings_are_checked():
    from msa_lib.config import SplitConfig, SynthConfig

    with pytest.raises(ConfigError, match="split fractions must sum to 1"):
        SplitConfig(train=0.8, valid=0.15, test=0.15)
    with pytest.raises(ConfigError, match=r"need 1 <= min_frames <= max_frames, got 5 and 2"):
        SynthConfig(min_frames=5, max_frames=2)
    with pytest.raises(ConfigError, match=r"signal\['text'\] must be in \[0, 1\)"):
        SynthConfig(signal={"visual": 0.4, "audio": 0.4, "text": 1.0})
