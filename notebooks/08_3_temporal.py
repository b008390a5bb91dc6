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
# # Order in time: an aligned sequence model against the averaged model
#
# Every model so far reads each modality as one vector averaged over the segment's frames, which
# discards the order of what is said, heard and seen. The paper describes an alignment (§3.5) and
# then does not use it: audio frames pooled to the visual frame count by adaptive average pooling,
# text token states interpolated linearly to the same count, 30 steps.
# `msa_lib.experiments.temporal` builds exactly that from a corpus's `.csd` sequences (the visual
# frames brought to the 30 steps by the same pooling) and models the aligned sequence with a
# BiLSTM whose states are pooled by learned attention over the steps (per-modality projection to
# 32 values, 64 units per direction). It is trained with the fusion model's recipe and loss,
# selected on validation r, against the **averaged model**: the paper's fusion model on the
# time-averaged features of the same segments, splits and seeds.
#
# Two data sets. The corpus's `.csd` sequences: a user's real CMU-MOSI files when the data folder
# holds them, otherwise the SYNTHETIC MOSI corpus, whose generator gives every frame of a segment
# the same sentiment signal plus noise, so order carries nothing there. And a SYNTHETIC control,
# `trend_task`, where it is only the drift of the frames over time that carries the label: the
# average of every modality is the same whatever the label, so it shows what the sequence model
# can read that the average cannot.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
seeds = [0, 1, 2, 3, 4]
n_jobs = 2  # seeds trained side by side, one torch thread each
cache_dir = None  # a folder: finished runs are kept and reused

# %% tags=["remove-cell"]
import time

import pandas as pd
from IPython.display import Markdown, display

from msa_lib.book.chapter import data_note, start_chapter
from msa_lib.book.display import save_table, show_table
from msa_lib.book.format import ci_column, ci_text
from msa_lib.config import TrainConfig
from msa_lib.data import open_synthetic
from msa_lib.data.align import aligned_features, time_average
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.temporal import (
    TemporalConfig,
    compare_temporal,
    summarise_comparison,
    temporal_verdict,
    trend_task,
)
from msa_lib.perf.machine import machine_phrase

t_section = time.perf_counter()
folder = start_chapter(data_dir)  # silences tqdm's notice and library logging, opens the data

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(
            folder,
            "Without a real data folder the corpus's sequences are the synthetic MOSI corpus's, "
            "and every number in this section is SYNTHETIC.",
        )
        + (
            ""
            if folder.is_synthetic
            else " The trend control is SYNTHETIC by construction, and so are the corpus's "
            "sequences when the folder holds no real MOSI `.csd` files (the tables say which)."
        )
    )
)

# %% tags=["remove-cell"]
# The recipe (§3.6.1) with the loss ablation's epoch budget (30 / 8 / 2 instead of 100 / 25 / 7)
temporal_train = TrainConfig(max_epochs=30, patience=8, plateau_patience=2)
temporal_config = TemporalConfig()  # 30 steps (§3.5), BiLSTM with attention pooling
temporal_mods = ("text", "visual", "audio")
t_temporal = time.perf_counter()
real_csd = folder.source == "real" and len(folder.csd_files("mosi")) == 3
seq_folder = folder if real_csd else open_synthetic()
seq_aligned, seq_frames = aligned_features(seq_folder, "mosi", temporal_mods, temporal_config)
seq_averaged, _ = seq_folder.features("mosi", temporal_mods)
seq_name = "MOSI .csd" if real_csd else "synthetic MOSI .csd"
trend = trend_task(n=600, steps=temporal_config.steps, seed=0)
temporal_cache = None if cache_dir is None else f"{cache_dir}/temporal"
comparisons = [
    compare_temporal(
        fold_splits(seq_aligned),
        fold_splits(seq_averaged),
        temporal_mods,
        seq_name,
        seq_folder.source,
        seeds,
        temporal_config,
        temporal_train,
        n_jobs=n_jobs,
        cache_dir=temporal_cache,
    ),
    compare_temporal(
        fold_splits(trend),
        fold_splits(time_average(trend, temporal_config.steps)),
        ("visual", "audio", "text"),
        "synthetic trend control",
        "synthetic",
        seeds,
        temporal_config,
        temporal_train,
        n_jobs=n_jobs,
        cache_dir=temporal_cache,
    ),
]
temporal_parts = [summarise_comparison(c) for c in comparisons]
temporal_summary = pd.concat([t for t, _ in temporal_parts], ignore_index=True)
temporal_seconds = time.perf_counter() - t_temporal
save_table(temporal_summary, "temporal", results_dir, "synthetic" if not real_csd else "real")

# %% tags=["hide-input"]
show_table(
    seq_frames.rename(
        columns={"frames median": "median", "frames min": "min", "frames max": "max"}
    ),
    "tab-beyond-temporal-frames",
    f"Frames per segment in the {seq_name} sequences before alignment to "
    f"{temporal_config.steps} steps ({len(seq_aligned)} segments), and the segments without a "
    "usable frame (missing: the training mean stands in, as for the averaged model).",
    seq_folder.source,
    digits=1,
)

# %% tags=["hide-input"]
show_table(
    pd.DataFrame(
        {
            "data": temporal_summary["data"],
            "model": temporal_summary["model"],
            "valid r": temporal_summary["valid_r"],
            "test r [95% CI]": ci_column(temporal_summary, "r"),
            "test MAE [95% CI]": ci_column(temporal_summary, "mae"),
            "Acc-2": temporal_summary["acc2_non0"],
            "epoch": temporal_summary["best_epoch"],
        }
    ),
    "tab-beyond-temporal",
    f"The aligned sequence model (temporal) against the fusion model on time-averaged features "
    f"(averaged), same segments and splits: test metrics averaged over {len(seeds)} seeds with 95% "
    "bootstrap intervals over test segments (n = "
    + ", ".join(f"{int(n)}" for n in temporal_summary.groupby("data", sort=False)["n_test"].first())
    + "); valid r and epoch: means of the epochs kept. Acc-2 is non-0. The .csd row is "
    + ("real MOSI." if real_csd else "SYNTHETIC (no real MOSI .csd files in this data folder).")
    + " The trend control is SYNTHETIC by construction.",
    "real" if real_csd else "synthetic",
    digits={"valid r": 3, "epoch": 1},
    percent=["Acc-2"],
)

# %% tags=["remove-input"]
display(
    Markdown(
        "\n".join(
            temporal_verdict(c, table, effect).sentence(ci_text, side_by_side=n_jobs)
            for c, (table, effect) in zip(comparisons, temporal_parts)
        )
        + f"\n\nThe whole comparison, alignment included, took {temporal_seconds:.0f} s in this "
        "run."
    )
)

# %% tags=["remove-input"]
display(
    Markdown(
        f"In this run, on a {machine_phrase()}, this section took "
        f"{time.perf_counter() - t_section:.0f} s."
    )
)
