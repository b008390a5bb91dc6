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
# # Adapters: do mapped features carry the information?
#
# The paper maps features of new extractors into the spaces its model was trained on with small
# MLPs (§3.6.2: Linear, BatchNorm, ReLU, Dropout 0.3; MSE; batch 16, Adam 1e-3, 30 epochs). Their
# training targets are 1000 MOSEI vectors drawn **at random** and paired with MOSI vectors: no
# pair shows the same input through both extractors. An MSE-trained network given such pairs can
# at best learn the target mean.
#
# This chapter measures adapters where the truth is known. MOSI's transcripts are embedded by two
# or three extractors, so every segment has its true vector in each space: MiniLM (384-d, the
# BERT-style encoder of the text chapter) is the **source**, and the spaces to map into are
# averaged GloVe (50-d) and the bc-LSTM text features (100-d). Each adapter kind of
# `msa_lib.adapters` is fitted on training segments and scored on held-out ones in three ways:
# reconstruction MSE and cosine to the true vector, and what a **sentiment model trained on the
# true target-space vectors** (a ridge, its penalty chosen on validation) scores on the adapted
# ones. The last is what a transferred model would see; adapters are ranked by it.
#
# Adapter kinds: `paper` (random pairs, as published, with the paper's hidden width for the
# modality it maps: §3.6.2 gives visual 512, audio 256, text 384), `paired-mlp` (the same network on
# true pairs, its own hidden width, 384, for every modality), `paired-ridge` (a linear map on true
# pairs), `coral` (no pairs: means and covariances matched in 32 principal components by POT's
# linear Gaussian transport) and `ot` (no pairs: an entropic optimal-transport plan in the same
# components). Every pair here is text, so both networks are 384 wide; the widths column of each
# table is read from the fitted adapters. Rows `truth` (the true vectors) and `target mean` (the
# training mean vector for every segment) bound the table.
#
# **Standardisation.** The paper does not say whether adapters see raw or standardised vectors.
# Here every kind standardises its inputs and its training targets with the training rows' mean
# and standard deviation, fits and maps standardised vectors, and maps its outputs back to the
# target space's scale (`msa_lib.adapters.base`); what the paper's public code does instead is
# stated, with the file it is in, just below.
#
# Data rule: MiniLM -> GloVe uses the official MOSI folds. The bc-LSTM features leak labels on the
# official folds (their networks were trained on another split), so MiniLM -> bc-LSTM uses only
# their own split: adapters and the sentiment ridge are trained on bc-LSTM train segments (whole
# videos held out for validation) and scored on bc-LSTM test segments.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
seeds = [0, 1, 2]  # adapter seeds (network initialisation, random pairs, transport samples)
holdout_fraction = 0.15  # share of bc-LSTM train videos held out for validation
n_jobs = 2  # adapter fits side by side, one torch thread each

# %% tags=["remove-cell"]
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from sklearn.decomposition import PCA

from msa_lib.adapters.base import names
from msa_lib.adapters.pairs import paired_featureset
from msa_lib.book.chapter import display_path, start_chapter
from msa_lib.book.display import save_table, show_figure, show_table
from msa_lib.book.format import ci_text
from msa_lib.config import AdapterConfig
from msa_lib.data.splits import fold_splits
from msa_lib.evaluate import aggregate_seeds, mean_sd
from msa_lib.experiments.adapters import adapter_runs, adapter_verdicts, closing_text, nearer_own
from msa_lib.experiments.reference import code_citation
from msa_lib.extract.transcripts import folder_transcript_features
from msa_lib.perf.machine import machine_phrase

folder = start_chapter(data_dir)
t_start = time.perf_counter()
seg = folder.segments("mosi")
config = AdapterConfig()
KINDS = names()

# %% tags=["remove-input"]
display(
    Markdown(
        "The paper's public code ("
        + code_citation(
            "train_mosei_test_mosi_with_adapters.py",
            ["FeatureAdapter", "train_adapters", "test_on_mosi"],
        )
        + ") feeds its adapters raw features and trains them with MSE against raw MOSEI vectors: "
        "not randomly drawn ones, as §3.1 says, but the nearest centre of a K-means clustering "
        "of the first MOSEI samples (`min(2000, len(samples))`), nearness measured between the "
        "MOSI input's columns and the same-numbered columns of the MOSEI centres, which hold "
        "other quantities. Its visual adapter is deeper than §3.6.2's "
        "(`dims = [input_dim, 128, 256, 512, 1024, target_dim]` when the output is more than "
        "five times the input). At test time it standardises the adapted outputs with those "
        "MOSEI samples' mean and standard deviation and clips them to `[-10, 10]`, although "
        "its model was trained on MOSEI features that were never standardised (`train_on_mosei`)."
    )
)
display(
    Markdown(
        f"**Transcripts:** {len(seg)} MOSI segments from `{display_path(folder.root)}` ({folder.label})."
        + (
            " The bc-LSTM text features are present: both target spaces are measured."
            if folder.has_bclstm
            else " These are the synthetic corpus's GENERATED transcripts, not MOSI's, and there "
            "are no bc-LSTM features: only MiniLM -> GloVe is measured, and every number below is "
            "SYNTHETIC."
        )
    )
)

# %% tags=["remove-cell"]
# MiniLM and GloVe vectors of every transcript, cached per segment (chapters 6 and 7 share them)
text = folder_transcript_features(folder, "mosi")
minilm = text.with_modalities(["text"])
glove = text.with_modalities(["glove"]).rename_modalities({"glove": "text"})
pairs = {"MiniLM -> GloVe-50": fold_splits(paired_featureset(minilm, glove, corpus="mosi"))}
if folder.has_bclstm:
    pairs["MiniLM -> bc-LSTM text"] = fold_splits(
        paired_featureset(minilm, folder.bclstm(), corpus="mosi-bclstm"), holdout=holdout_fraction
    )
folds = {
    "MiniLM -> GloVe-50": "official MOSI folds" if folder.source == "real" else "synthetic folds",
    "MiniLM -> bc-LSTM text": "bc-LSTM split",
}


# %% tags=["remove-cell"]
t0 = time.perf_counter()
runs, mapped = adapter_runs(pairs, KINDS, seeds, config, n_jobs=n_jobs, fold_names=folds)
fit_seconds = time.perf_counter() - t0
save_table(runs, "adapters", results_dir, folder.source)
agg = aggregate_seeds(
    runs, ["pair", "adapter"], ["mse", "cosine", "spread", "r", "mae", "acc2_non0", "n"]
)
# per pair and kind (first seed): is an adapted vector nearer its own true vector than another's?
shares = {
    p: nearer_own({k: mapped[p][k] for k in KINDS}, pairs[p]["test"].features["target"])
    for p in pairs
}
verdicts = adapter_verdicts(runs, shares)

# %% [markdown]
# ## Adapter quality, ranked by the sentiment model's score
#
# {numref}`tab-adapters-glove` scores every kind on the held-out MiniLM -> GloVe segments; adapters are sorted by the
# ridge's Pearson r on their outputs (mean ± sd over seeds). `spread` is the total standard
# deviation of the adapted vectors over that of the true ones: 1 means the adapted cloud is as
# wide as the truth, 0 a single point.


# %% tags=["hide-input"]
def shown(pair: str) -> pd.DataFrame:
    """One pair's rows, best downstream r first, as display strings."""
    a = agg[agg["pair"] == pair].copy()
    a["order"] = a["r_mean"].fillna(-np.inf)
    a = a.sort_values("order", ascending=False)
    widths = runs[runs["pair"] == pair].groupby("adapter")["widths"].first()
    return pd.DataFrame(
        {
            "adapter": a["adapter"],
            "widths": a["adapter"].map(widths).replace("", "–"),
            "MSE": mean_sd(a, "mse", 4),
            "cosine": mean_sd(a, "cosine", 3),
            "spread": mean_sd(a, "spread", 2),
            "ridge r": mean_sd(a, "r", 3).replace("", "undefined"),
            "ridge Acc-2 share": mean_sd(a, "acc2_non0", 3),
        }
    )


def caption_for(pair: str) -> str:
    n = int(agg.loc[agg["pair"] == pair, "n_mean"].iloc[0])
    return (
        f"{pair} on held-out segments ({folds[pair]}, test, n = {n}): the fitted map's widths "
        "(a network's every layer), MSE and cosine to the true "
        f"vectors, spread of the adapted vectors, and the Pearson r and Acc-2 (non-0) of a ridge "
        f"trained on the true target-space vectors and scored on the adapted ones; mean ± sd over "
        f"seeds {seeds} (truth and target mean: one value)."
    )


show_table(
    shown("MiniLM -> GloVe-50"),
    "tab-adapters-glove",
    caption_for("MiniLM -> GloVe-50"),
    folder.source,
)

# %% tags=["hide-input"]
if "MiniLM -> bc-LSTM text" in pairs:
    display(
        Markdown(
            "The same measurement into the bc-LSTM text space follows, trained and scored on the "
            "bc-LSTM split only."
        )
    )
    show_table(
        shown("MiniLM -> bc-LSTM text"),
        "tab-adapters-bclstm",
        caption_for("MiniLM -> bc-LSTM text"),
        folder.source,
    )
else:
    display(
        Markdown("The bc-LSTM text features exist only in the real data: no second table here.")
    )

# %% [markdown]
# ## Reconstruction metrics against the downstream score
#
# Averaged word vectors share a large common component, so a vector that ignores its input (the
# training mean) can sit close to every true vector: high cosine, low MSE. A sentiment model reads
# the small differences between segments, which the mean does not have.
# {numref}`fig-adapters-metrics` puts each adapter's cosine and MSE beside the ridge's r on its
# outputs.

# %% tags=["hide-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
colors = dict(zip(["truth", "target mean", *KINDS], plt.cm.tab10.colors))
for pair, marker in zip(pairs, ("o", "s")):
    a = agg[agg["pair"] == pair]
    for _, row in a.iterrows():
        r = row["r_mean"] if np.isfinite(row["r_mean"]) else 0.0
        for ax, metric in zip(axes, ("cosine", "mse")):
            ax.scatter(
                row[f"{metric}_mean"],
                r,
                marker=marker,
                s=60,
                color=colors[row["adapter"]],
                label=f"{row['adapter']} ({pair.split('-> ')[1]})",
            )
for ax, metric in zip(axes, ("cosine to the true vector", "MSE to the true vector")):
    ax.set_xlabel(metric)
    ax.set_ylabel("ridge r on adapted vectors (undefined: 0)")
    ax.axhline(0, color="grey", lw=0.8)
axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
fig.tight_layout()
show_figure(
    fig,
    "fig-adapters-metrics",
    "Reconstruction metrics against the downstream score, per adapter kind and target space "
    f"(circles: GloVe-50; squares: bc-LSTM text, where present); held-out segments, mean over seeds {seeds}.",
    folder.source,
    results_dir,
)

# %% tags=["remove-input"]
display(Markdown(verdicts["MiniLM -> GloVe-50"].metrics_sentence(ci_text)))

# %% [markdown]
# ## The random-pair adapter against the target mean
#
# If the random pairs carry no information, the adapter's output for a segment should be no
# closer to that segment's true vector than to anyone else's; what it learns is the target
# distribution's centre plus noise. {numref}`fig-adapters-collapse` shows, for every held-out
# segment, the distance of the adapted vector to the segment's own true vector and to the target
# training mean.

# %% tags=["hide-input"]
pair = "MiniLM -> GloVe-50"
test = pairs[pair]["test"]
truth = test.features["target"].astype(float)
centre = pairs[pair]["train"].features["target"].mean(axis=0)
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for kind in ("paper", "paired-ridge"):
    color = colors[kind]
    m = mapped[pair][kind]
    axes[0].hist(
        np.linalg.norm(m - truth, axis=1),
        bins=40,
        alpha=0.6,
        color=color,
        label=f"{kind}: to own true vector",
    )
    axes[0].hist(
        np.linalg.norm(m - centre, axis=1),
        bins=40,
        alpha=0.6,
        histtype="step",
        lw=2,
        color=color,
        label=f"{kind}: to target mean",
    )
axes[0].hist(
    np.linalg.norm(truth - centre, axis=1),
    bins=40,
    histtype="step",
    lw=2,
    color=colors["truth"],
    label="true vectors: to target mean",
)
axes[0].set_xlabel("Euclidean distance")
axes[0].set_ylabel("segments")
axes[0].legend(fontsize=7)
# per segment: is the adapted vector nearer its own true vector than a random other segment's?
share = shares[pair].set_index("adapter")["share"]
axes[1].bar(share.index, share.to_numpy(), color=[colors[k] for k in share.index])
axes[1].axhline(0.5, color="grey", ls="--", lw=1)
axes[1].set_ylabel("share nearer own true vector\nthan another segment's")
axes[1].tick_params(axis="x", rotation=30)
fig.tight_layout()
show_figure(
    fig,
    "fig-adapters-collapse",
    f"{pair}, {len(truth)} held-out segments, seed {seeds[0]}. Left: distance of each adapted "
    "vector to its segment's true vector and to the target training mean (and of the true vectors "
    "to that mean). Right: share of segments whose adapted vector is nearer its own true vector "
    "than a randomly chosen other segment's (0.5: no information).",
    folder.source,
    results_dir,
)

# %% tags=["remove-input"]
display(Markdown(verdicts[pair].collapse_sentence(ci_text, config)))

# %% [markdown]
# ## Source and target before and after adaptation
#
# {numref}`fig-adapters-projection` projects the held-out segments onto the first two principal
# components of the true target vectors (fitted on the training segments). The first panel is the
# source before adaptation, in its own principal components (its space is another one). Colour is
# the sentiment label: an adapter that carries the information keeps the colours where the truth
# has them.

# %% tags=["hide-input"]
pca_t = PCA(n_components=2, random_state=0).fit(pairs[pair]["train"].features["target"])
pca_s = PCA(n_components=2, random_state=0).fit(pairs[pair]["train"].features["source"])
panels = [("before: source (MiniLM, own PCs)", pca_s.transform(test.features["source"]))]
panels.append(("truth (GloVe-50)", pca_t.transform(truth)))
panels += [(f"after: {k}", pca_t.transform(mapped[pair][k])) for k in KINDS]
fig, axes = plt.subplots(2, 4, figsize=(13, 6.4), sharex=False)
ref = panels[1][1]
for ax, (title, xy) in zip(axes.ravel(), panels):
    if title != panels[0][0]:
        ax.scatter(ref[:, 0], ref[:, 1], s=4, color="lightgrey")
    sc = ax.scatter(xy[:, 0], xy[:, 1], c=test.label, cmap="coolwarm_r", vmin=-3, vmax=3, s=5)
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    if title != panels[0][0]:
        pad = np.ptp(ref, axis=0) * 0.25
        ax.set_xlim(ref[:, 0].min() - pad[0], ref[:, 0].max() + pad[0])
        ax.set_ylim(ref[:, 1].min() - pad[1], ref[:, 1].max() + pad[1])
axes.ravel()[-1].axis("off")
fig.colorbar(sc, ax=axes, label="sentiment label", shrink=0.7)
show_figure(
    fig,
    "fig-adapters-projection",
    f"{pair}: {len(truth)} held-out segments on the first two principal components of the true "
    "GloVe-50 vectors (grey: the true vectors), before adaptation (the source in its own PCs), the "
    f"truth, and after each adapter (seed {seeds[0]}), coloured by the sentiment label.",
    folder.source,
    results_dir,
)

# %% [markdown]
# ## What the measurements say
#
# Each kind's downstream r (mean over seeds) is read against chance with its 95% Fisher-z interval
# at the pair's number of held-out segments: *at chance* when the interval contains 0. A paired
# kind is set against the interval of the true vectors' r, and the share of outputs nearer their
# own true vector (first seed) against 0.5 with its exact binomial interval.

# %% tags=["remove-input"]
elapsed = time.perf_counter() - t_start
display(
    Markdown(
        closing_text([verdicts[p] for p in pairs], ci_text)
        + f"\n\nIn this run, on a {machine_phrase()}, the adapter fits took {fit_seconds:.0f} s "
        f"and the chapter {elapsed:.0f} s."
    )
)
