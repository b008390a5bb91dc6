# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Audio features: librosa, as in the paper
#
# The paper describes its MOSI audio features in §3.2: librosa at 22.05 kHz, the **first 3.0 s**
# of each segment, a short-time Fourier transform with a 2048-sample Hann window and a hop of 512,
# and per frame 29 values: 13 MFCC, 12 chroma, spectral centroid, spectral rolloff, zero-crossing
# rate and tempo. The frame values are averaged over time and the 29-d mean is zero-padded to 74,
# COVAREP's width on MOSEI, so that the two corpora's audio vectors have the same shape (not the
# same meaning: the padding columns are always zero).
#
# `msa_lib.extract.features.audio` computes exactly that, decoding the audio straight from the video file
# with PyAV at the file's own rate and resampling it to 22.05 kHz with soxr, as `librosa.load`
# does in the paper's code ([`train_mosei_test_mosi_with_adapters.py`](https://github.com/rayhanros2030/Multimodal-Sentiment-Analysis/blob/f41198ad059a3b7ff13210169db1ea5e9614828e/train_mosei_test_mosi_with_adapters.py), `extract_librosa_features`, in `rayhanros2030/Multimodal-Sentiment-Analysis` at commit `f41198a`; a test checks
# that the samples equal `librosa.load`'s). This chapter
# shows, on the clips in use, what the extractor sees and returns.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
work_dir = None  # where generated clips go when no real clips exist (None: the msa cache)

# %% tags=["remove-cell"]
from msa_lib.book.chapter import data_note, show_benchmark, start_chapter

# first: the chapter setup silences notices that importing the extractors would print
folder = start_chapter(data_dir)

import dataclasses

import librosa
import librosa.display
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from msa_lib.book.display import save_table, show_figure, show_table
from msa_lib.config import AudioConfig
from msa_lib.config.paper import AUDIO_VALUES
from msa_lib.data.layout import default_cache_dir
from msa_lib.experiments.audio_window import audio_window_table, audio_window_verdict
from msa_lib.extract.engines.media import probe
from msa_lib.extract.features.audio import extract_audio, feature_names, load_audio
from msa_lib.extract.generate import chapter_clips

segments, what, source = chapter_clips(folder, work_dir or default_cache_dir() / "generated")

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(folder, "With no real data folder the clips below are GENERATED, not CMU-MOSI's.")
        + f"\n\n**Clips in use:** {len(segments)} {what}."
    )
)

# %% [markdown]
# ## One clip, frame by frame
#
# {numref}`fig-audio-extractor` follows the longest clip through the extractor. The spectrogram
# covers the whole clip; left of the dashed line is what the paper's features see (the first 3 s).
# Under it, each of the 29 values per frame over the whole segment, standardised per row so that
# their movement is visible on one colour scale, and last the 74-d vector the segment gets.

# %% tags=["hide-input"]
cfg = AudioConfig()
seg = max(segments, key=lambda s: probe(s.media).duration)
info = probe(seg.media)
y = load_audio(seg.media, cfg=cfg)  # the whole clip, for the spectrogram
res = extract_audio(seg.media, cfg=cfg)
whole = extract_audio(seg.media, cfg=dataclasses.replace(cfg, duration=None), keep_frames=True)
mel = librosa.power_to_db(
    librosa.feature.melspectrogram(
        y=y, sr=cfg.sample_rate, n_fft=cfg.n_fft, hop_length=cfg.hop_length
    )
)
fig, axes = plt.subplots(3, 1, figsize=(11, 9), gridspec_kw={"height_ratios": [2, 3, 1.2]})
librosa.display.specshow(
    mel, sr=cfg.sample_rate, hop_length=cfg.hop_length, x_axis="time", y_axis="mel", ax=axes[0]
)
axes[0].axvline(cfg.duration, color="w", ls="--", lw=2)
axes[0].set_title(
    f"log-mel spectrogram of {seg.segment_id} ({info.duration:.1f} s); "
    f"dashed: {cfg.duration:g} s cap"
)
frames = whole.frames
z = (frames - frames.mean(0)) / (frames.std(0) + 1e-9)
t = librosa.frames_to_time(np.arange(len(frames)), sr=cfg.sample_rate, hop_length=cfg.hop_length)
axes[1].imshow(
    z.T,
    aspect="auto",
    origin="lower",
    cmap="coolwarm",
    vmin=-3,
    vmax=3,
    extent=[t[0], t[-1], -0.5, 28.5],
)
axes[1].set_yticks(range(AUDIO_VALUES), feature_names(cfg)[:AUDIO_VALUES], fontsize=6)
axes[1].set_xlim(axes[0].get_xlim())
axes[1].axvline(cfg.duration, color="k", ls="--", lw=2)
axes[1].grid(False)
axes[1].set_xlabel("time (s)")
axes[1].set_title(f"the {AUDIO_VALUES} values per frame (z-scored per row)")
axes[2].bar(range(cfg.pad_to), np.sign(res.vector) * np.log1p(np.abs(res.vector)), color="C0")
axes[2].axvspan(AUDIO_VALUES - 0.5, cfg.pad_to - 0.5, color="grey", alpha=0.2)
axes[2].text(
    (AUDIO_VALUES + cfg.pad_to) / 2, 0, f"zero padding to {cfg.pad_to}", ha="center", fontsize=8
)
axes[2].set_xlabel("feature index")
axes[2].set_ylabel("sign * log(1+|x|)")
axes[2].set_title(f"the segment's {cfg.pad_to}-d vector (mean over frames, padded)")
fig.tight_layout()
show_figure(
    fig,
    "fig-audio-extractor",
    f"What the audio extractor computes on clip {seg.segment_id} ({info.duration:.1f} s): "
    f"log-mel spectrogram (dashed: the paper's {cfg.duration:g} s cap), the "
    f"{AUDIO_VALUES} values per frame, and the segment's {cfg.pad_to}-d vector (paper setting).",
    source,
    results_dir,
)

# %% [markdown]
# ## Every clip: the paper's 3 s against the whole segment
#
# For segments longer than 3 s the paper's features ignore the rest. The option
# `AudioConfig(duration=None)` uses the whole segment, and `msa_lib.experiments.audio_window` runs
# both on every clip. {numref}`tab-audio-clips` compares them per clip: how much audio each
# setting reads, and the relative change of the 29 informative values (each scaled by its mean
# magnitude over the table's rows). {numref}`tab-audio-speed` times the extractor: the real-time
# factor is seconds of audio processed per second of compute.

# %% tags=["hide-input"]
clips = audio_window_table(segments, cfg)
speed = audio_window_verdict(clips)
save_table(clips, "audio_clips", results_dir, source)
show_table(
    clips[["segment_id", "duration_s", "setting", "audio_s", "frames", "change_vs_paper"]],
    "tab-audio-clips",
    f"Audio features of {len(segments)} clips, the paper's first {cfg.duration:g} s against the "
    "whole segment: seconds of audio read, frames, and the relative change of the "
    f"{AUDIO_VALUES} informative values.",
    source,
    digits={"duration_s": 2, "audio_s": 2, "change_vs_paper": 3},
)
show_table(
    clips[["segment_id", "setting", "seconds", "real_time_factor"]],
    "tab-audio-speed",
    "Extraction time per clip and setting in this run (decoding included, one core, after one "
    "warm-up call).",
    source,
    digits={"seconds": 3, "real_time_factor": 1},
)

# %% tags=["remove-input"]
display(
    Markdown(
        speed.sentence() + " `make bench` measures the extractor on every real clip "
        "(`book/results/extract_throughput.csv`)."
    )
)

# %% [markdown]
# ## Robustness
#
# Bad audio never stops a corpus run: a file without an audio track gives an all-NaN row (the
# FeatureSet's mark of a missing modality) flagged `no_audio`; digital silence gives finite values
# flagged `silent`; audio shorter than one 2048-sample frame (§3.2) gives a NaN row flagged
# `too_short`; an unreadable file is logged in `errors.jsonl` and flagged `failed`. The tests in
# `tests/extract/features/test_audio.py` check each case on media made in the test, and check that the
# frame values equal librosa's own `mfcc`, `chroma_stft`, `spectral_centroid`, `spectral_rolloff`,
# `zero_crossing_rate` and `rhythm.tempo` called one by one.
#
# One choice the paper's text and its code answer differently: tempo. The text counts it among
# the 29 values per frame; `librosa.feature.rhythm.tempo` with `aggregate=None` returns one local
# estimate per frame, so that is what we average (`tempo="frames"`, the default). The paper's
# public code ([`train_mosei_test_mosi_with_adapters.py`](https://github.com/rayhanros2030/Multimodal-Sentiment-Analysis/blob/f41198ad059a3b7ff13210169db1ea5e9614828e/train_mosei_test_mosi_with_adapters.py), `extract_librosa_features`, in `rayhanros2030/Multimodal-Sentiment-Analysis` at commit `f41198a`) takes one tempo per clip from
# `librosa.beat.beat_track`; `AudioConfig(tempo="global")`, part of `protocol="paper"`
# (`msa extract --protocol paper`), gives that value instead.
#
# ## What the paper's published audio function computes
#
# The same function computes chroma with `librosa.feature.chroma(y=y, sr=sr)`. librosa has no such
# function (its chroma features are `chroma_stft`, `chroma_cqt`, `chroma_cens` and `chroma_vqt`),
# so the call raises `AttributeError`; the function wraps its whole body in a bare `except` that
# returns `np.zeros(74)`. As published, then, it gives 74 zeros for every clip, whatever the audio:
# a model that code trains or tests on MOSI sees a constant audio input. The paper prints no MOSI
# numbers, so this says what the published code can measure, not what a printed result used.
# `chroma_stft` is what was meant, and it is what `msa_lib` computes (the tests check it against
# `librosa.feature.chroma_stft`).

# %% tags=["remove-input"]
chroma_names = sorted(n for n in dir(librosa.feature) if n.startswith("chroma"))
display(
    Markdown(
        f"In the librosa installed for this build ({librosa.__version__}), "
        f"`hasattr(librosa.feature, 'chroma')` is {hasattr(librosa.feature, 'chroma')}; its "
        f"chroma functions are {', '.join(f'`{n}`' for n in chroma_names)}."
    )
)

# %% tags=["remove-input"]
show_benchmark(results_dir, "audio", "tab-audio-bench", folder.source)
