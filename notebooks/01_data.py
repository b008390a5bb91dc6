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
# # Data: CMU-MOSI and CMU-MOSEI
#
# The paper trains on CMU-MOSEI (23,259 opinion segments from YouTube monologues) and tests on
# CMU-MOSI (2199 segments from 93 videos), as both corpora were released. Both carry a sentiment score per segment in [-3, 3],
# averaged over annotators. This chapter describes both corpora **from the data in use**: the folds,
# the label distributions, segment durations and how many segments each video contributes.
#
# The data comes from one setting: the `data_dir` parameter below, else the environment variable
# `MSA_DATA_DIR`, else the project's synthetic stand-in corpus.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"

# %% tags=["remove-cell"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from msa_lib.book.chapter import data_note, start_chapter
from msa_lib.book.display import save_table, show_figure, show_table
from msa_lib.book.format import published
from msa_lib.data.describe import (
    AUDIO_WINDOW_S,
    available_features,
    corpus_segments,
    csd_report,
    duration_checks,
    label_summary,
    segments_per_video,
    split_table,
    video_overlap,
)
from msa_lib.experiments.paper_review import contradictions, signal_sentence

# The library's log of what it finds as it reads (the data source, zero-length segments, .csd
# segments without frames) is silenced: this chapter states each of those in its text and tables.
folder = start_chapter(data_dir)
segments = corpus_segments(folder)

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(
            folder,
            "No real data folder was given, so every number in this chapter describes the "
            "generated stand-in, not CMU-MOSI/MOSEI.",
        )
    )
)

# %% [markdown]
# ## Folds
#
# CMU-MOSI and CMU-MOSEI have official ("standard") folds, defined by video in the CMU Multimodal SDK:
# MOSI 1284 / 229 / 686 segments, MOSEI 16331 / 1871 / 4662, with 395 MOSEI segments from videos in no
# fold. The paper instead uses a random 70/15/15 split (§3.1); we keep the official folds so that our
# numbers are comparable with published ones. Where a corpus has no official folds (the synthetic one),
# `msa_lib.data.splits.grouped_split` makes a seeded 70/15/15 split **by video**, so that no speaker
# appears in two folds. {numref}`tab-data-splits` counts the folds of the data in use.

# %% tags=["hide-input"]
splits = split_table(segments)
save_table(splits, "data_splits", results_dir, folder.source)
show_table(splits, "tab-data-splits", "Segments and videos per corpus and fold.", folder.source)
overlap = video_overlap(segments)
display(
    Markdown(
        f"Videos that appear in more than one fold: **{len(overlap)}**"
        + (" (folds are speaker-independent)." if overlap.empty else ".")
    )
)

# %% [markdown]
# ## Labels
#
# MOSI labels are means of five annotators and take many values; MOSEI's are means of three, in
# steps of 1/3. Binary accuracy in the literature is reported two ways:
# *has-0* (negative < 0 against non-negative >= 0) and *non-0* (zero-labelled segments left out), so
# the share of exact zeros matters: {numref}`tab-data-labels` gives it per fold, with the shares
# of negative and positive labels, and {numref}`fig-data-labels` shows the whole distribution.

# %% tags=["hide-input"]
labels = label_summary(segments)
save_table(labels, "data_labels", results_dir, folder.source)
show_table(
    labels.rename(
        columns={
            "share_negative": "< 0",
            "share_zero": "= 0",
            "share_positive": "> 0",
            "median_duration_s": "median s",
        }
    ),
    "tab-data-labels",
    "Labels per corpus and fold: count, mean, standard deviation, shares of negative, zero and "
    "positive labels, and the median segment duration in seconds.",
    folder.source,
    digits={"n": 0, "mean": 3, "sd": 3, "median s": 2},
    percent=["< 0", "= 0", "> 0"],
)

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=False)
for ax, (corpus, seg) in zip(axes, segments.groupby("corpus")):
    sns.histplot(
        data=seg[seg["split"] != "unassigned"],
        x="label",
        hue="split",
        hue_order=["train", "valid", "test"],
        stat="density",
        common_norm=False,
        element="step",
        bins=np.arange(-3 - 1 / 6, 3 + 1 / 3, 1 / 3),  # one bin per MOSEI step of 1/3
        ax=ax,
    )
    ax.set_title(f"{corpus.upper()}: sentiment labels")
    ax.set_xlim(-3.1, 3.1)
fig.tight_layout()
n_seg = segments[segments["split"] != "unassigned"].groupby("corpus").size()
show_figure(
    fig,
    "fig-data-labels",
    "Sentiment labels per fold, one bin per step of 1/3, density within each fold (segments: "
    + ", ".join(f"{c.upper()} {n}" for c, n in n_seg.items())
    + "; segments in no fold left out).",
    folder.source,
    results_dir,
)

# %% [markdown]
# ## Durations and videos
#
# Segment duration matters for the extractors: the paper's audio features use only the first
# 3 seconds of a segment (§3.2) and its visual features the first 100 frames (§3.3), so for long
# segments most of the signal is never seen. Segments per video shows how strongly a few speakers
# dominate a fold. {numref}`fig-data-durations` shows both.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
sns.histplot(
    data=segments[segments["duration"] > 0],
    x="duration",
    hue="corpus",
    hue_order=["mosi", "mosei"],
    log_scale=True,
    element="step",
    stat="density",
    common_norm=False,
    ax=axes[0],
)
axes[0].axvline(AUDIO_WINDOW_S, color="k", ls="--", lw=1)
axes[0].text(
    AUDIO_WINDOW_S * 1.03,
    axes[0].get_ylim()[1] * 0.9,
    f"{AUDIO_WINDOW_S:g} s audio cap (§3.2)",
    fontsize=8,
)
axes[0].set_xlabel("segment duration (s)")
per_video = segments_per_video(segments)
sns.histplot(
    data=per_video,
    x="segments",
    hue="corpus",
    hue_order=["mosi", "mosei"],
    element="step",
    stat="density",
    common_norm=False,
    discrete=True,
    ax=axes[1],
)
axes[1].set_xlabel("segments per video")
fig.tight_layout()
n_videos = per_video.groupby("corpus").size()
show_figure(
    fig,
    "fig-data-durations",
    f"Left: segment durations (log scale; dashed: the paper's {AUDIO_WINDOW_S:g} s audio cap). "
    "Right: segments per "
    "video (videos: " + ", ".join(f"{c.upper()} {n}" for c, n in n_videos.items()) + ").",
    folder.source,
    results_dir,
)

# %% tags=["remove-input"]
checks = duration_checks(segments, AUDIO_WINDOW_S)
zero = checks[checks["zero_length"] > 0]
early = checks[checks["start_before_0"] > 0]
display(
    Markdown(
        f"Share of segments longer than the {AUDIO_WINDOW_S:g} s audio cap: "
        + ", ".join(
            f"{c.upper()} {v:.1%}" for c, v in zip(checks["corpus"], checks["share_over_window"])
        )
        + ". "
        + (
            "Segments of zero length (`end` equal to `start`): "
            + ", ".join(f"{c.upper()} {n}" for c, n in zip(zero["corpus"], zero["zero_length"]))
            + "; they keep their labels, are left out of the duration histogram, and get the "
            "missing-modality mark from every extractor."
            if len(zero)
            else "No segment has zero length."
        )
        + " "
        + (
            "Segments whose `start` lies before 0 s: "
            + ", ".join(
                f"{c.upper()} {n}" for c, n in zip(early["corpus"], early["start_before_0"])
            )
            + f" (at most {-early['earliest_start_s'].min():.2f} s early); media windows start "
            "at 0 s."
            if len(early)
            else "No segment starts before 0 s."
        )
    )
)

# %% [markdown]
# ## Features available
#
# The real data folder carries the **bc-LSTM utterance features** of MOSI (Poria et al., 2017),
# as released: audio 73-d, visual 100-d, text 100-d. Their extractor networks were trained on
# their own split (`bclstm_split`, 62 / 31 videos), so they must be evaluated on that split only:
# on the official folds, test segments were seen by the feature extractors and labels leak. CMU-MOSEI features
# (OpenFace2, COVAREP, GloVe) are read from the user's `.csd` files in `csd/` when present; the
# synthetic corpus writes `.csd` files of the same shapes. {numref}`tab-data-features` lists what
# the data folder in use holds.

# %% tags=["hide-input"]
available = available_features(folder)
save_table(available, "data_features", results_dir, folder.source)
show_table(available, "tab-data-features", "Features and media in the data folder.", folder.source)

# %% [markdown]
# ### Reading `.csd` files
#
# A computational sequence maps a video id to frames (`features [T, d]`) with time stamps
# (`intervals [T, 2]`, a start and an end per frame). `msa_lib.data.csd.average_segments` cuts
# each segment's frames out of its video by `start`/`end` and averages them. Non-finite values (COVAREP writes `-inf` for undefined
# frames) are left out of the mean per value; a segment with no frames, or with no finite value at all,
# gets an all-NaN row, the FeatureSet's mark of a missing modality, and is counted below rather than
# silently filled.

# %% tags=["hide-input"]
report = csd_report(folder)
if not report.empty:
    save_table(report, "data_csd", results_dir, folder.source)
    show_table(
        report,
        "tab-data-csd",
        "What averaging the .csd files found: segments found by their own key or cut from their "
        "video by start/end, all-NaN rows (no entry, no frames, or no finite value), non-finite "
        "values left out of a mean, and (segment, column) pairs with no finite value.",
        folder.source,
    )
else:
    display(
        Markdown("No complete set of `.csd` files in this data folder: nothing to average here.")
    )

# %% [markdown]
# ## The synthetic corpus
#
# When no real data is given, `msa_lib.data.synthetic` writes a seeded stand-in corpus (also
# `msa data synth --out DIR`). Its latent model: for segment *i* of video *v* with standardised label
# $z_i$, each modality *m* sees a sentiment signal $s_{im} = \rho_m z_i + \sqrt{1-\rho_m^2}\,e_{im}$ with
# independent noise $e_{im}$, so $\rho_m$ is the best correlation any model can reach from modality *m*
# alone and fusing modalities helps. A speaker effect shared within a video and per-segment nuisance
# factors are mixed in by a random projection into each feature space; frames add noise around the
# segment mean. MOSEI lives in the paper's source spaces (713 / 74 / 300), MOSI in the new extractors'
# spaces (65 / 74 with only 29 informative columns, as the paper pads librosa's 29 values / 384), with
# a different projection, offset and scale: a domain shift. The files carry `-inf` audio values, NaN
# visual frames and empty sequences, like real ones. The signal strengths $\rho_m$ are a setting, not
# a finding: they were chosen to resemble the paper's Table 1 (text far ahead of visual and audio),
# so a synthetic table that ranks the modalities as the paper does confirms the code path, not the
# paper.

# %% tags=["hide-input"]
info = folder.synthetic_info()
if info:
    cfg = info["config"]
    show_table(
        pd.DataFrame([cfg["signal"]]),
        "tab-data-synth-signal",
        "The generator's signal strength per modality: the oracle correlation rho.",
        folder.source,
    )
    display(Markdown(signal_sentence(cfg["signal"])))
    show_table(
        pd.DataFrame({"setting": k, "value": str(v)} for k, v in cfg.items() if k != "signal"),
        "tab-data-synth-settings",
        "The generator's other settings.",
        folder.source,
    )
else:
    display(
        Markdown("This build uses real data; the synthetic corpus is not used in this chapter.")
    )

# %% [markdown]
# ## The paper against itself
#
# A referee reading the paper beside its code finds places where it says one thing twice,
# differently. {numref}`tab-data-paper-review` lists them, each with the choice this book makes;
# the choices are read from the networks and settings the chapters run
# (`msa_lib.experiments.paper_review`), so the table cannot drift from the code. Chapter 5 sets the
# paper's description of its Table 1 against the table itself.

# %% tags=["hide-input"]
show_table(
    contradictions(),
    "tab-data-paper-review",
    "What the paper says twice, differently, by section, and the book's choice for each (the "
    "last column is the book's, not the paper's).",
    published("Roswendi (2025), §3.1 to §4.2.1, Tables 1 and 2"),
)
