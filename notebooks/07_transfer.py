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
# # Transfer: a model trained on one feature space, scored on another
#
# The paper's claim is that adapter networks let a fusion model trained on CMU-MOSEI features work
# on CMU-MOSI clips whose features come from other extractors. It prints no MOSI transfer numbers;
# its transfer runs were fine-tuned on MOSI and scored on a few dozen segments. This chapter scores
# transfer the way the field reports it: on the target's test fold, every setting on its own row,
# mean over seeds (the `seeds` parameter) with 95% bootstrap intervals over test segments (of the
# seed-mean metric).
#
# Settings (`msa_lib.experiments.transfer`):
#
# - **source model**: the paper's fusion model trained on the source domain, scored on the source
#   test fold (its own domain);
# - **zero-shot**: the same model on target features mapped by an adapter kind of the previous
#   chapter; no target label is used. **+ AdaBN**: the model's BatchNorm statistics re-estimated on
#   the unlabelled adapted target training features (test-time BatchNorm adaptation; published
#   test-time adaptation for multimodal sentiment analysis, CASP (AAAI 2025), includes
#   MOSEI -> MOSI among its shifts);
# - **fine-tuned**: the source model after adaptation, trained further on target training labels
#   (at most 40 epochs, early stopping after 10 without a better validation r), for the paper's
#   adapter and for the zero-shot kind of highest validation r;
# - **target only**: the same model trained on the target's training fold alone.
#
# Two transfers are measured. (1) **Synthetic MOSEI -> MOSI**, all three modalities: the
# generator's MOSI lives in other spaces (face geometry 65-d, librosa 74-d, a 384-d text encoder)
# than its MOSEI (713, 74, 300), with no shared segments, so only the unpaired kinds apply; its
# latent model is known, so the best r any model can reach on its MOSI is known too (the oracle
# bound). (2) **Cross-extractor text on MOSI transcripts**: a model trained on GloVe-50 vectors of
# the training transcripts is given MiniLM vectors; here true pairs exist (the training
# transcripts through both extractors), so paired adapters apply. On the real data (2) is scored on
# the official MOSI test fold, every segment of it that has a transcript vector (its table gives
# the n scored). Real MOSEI/MOSI `.csd` features, when present in the data folder, add a third
# transfer in one feature space (where AdaBN alone applies).

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
seeds = [0, 1, 2, 3, 4]
n_jobs = 2  # models and adapters trained side by side, one torch thread each
bootstrap_resamples = 1000
cache_dir = None  # a folder: finished models, adapters and fine-tuned runs are kept and reused

# %% tags=["remove-cell"]
import time

import pandas as pd
from IPython.display import Markdown, display

from msa_lib.book.chapter import display_path, start_chapter
from msa_lib.book.display import save_table, show_table
from msa_lib.book.format import ci_column, ci_text
from msa_lib.config import SynthConfig
from msa_lib.data import open_synthetic
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.reference import CORPORA, anchors
from msa_lib.experiments.transfer import (
    TransferData,
    closing_text,
    oracle_r,
    run_transfer,
    summarise,
    transfer_verdict,
)
from msa_lib.extract.transcripts import folder_transcript_features
from msa_lib.perf.machine import machine_phrase

# the data folder's findings (data source, empty synthetic sequences) are chapters 1 and 5's to report
folder = start_chapter(data_dir)
t_start = time.perf_counter()
synthetic = folder if folder.is_synthetic else open_synthetic()
MODS = ["visual", "audio", "text"]

# %% tags=["remove-input"]
display(
    Markdown(
        f"**Data:** the synthetic corpora in `{display_path(synthetic.root)}` (SYNTHETIC) for "
        f"transfer (1); MOSI transcripts from `{display_path(folder.root)}` ({folder.label}) for "
        f"transfer (2). Seeds: {list(seeds)}."
        + (
            ""
            if not folder.is_synthetic
            else " With no real data folder, transfer (2) runs on the synthetic corpus's GENERATED "
            "transcripts: every number in this chapter is SYNTHETIC."
        )
    )
)

# %% tags=["remove-cell"]
experiments = {}
mosei, _ = synthetic.features("mosei", tuple(MODS))
mosi, _ = synthetic.features("mosi", tuple(MODS))
experiments["synthetic MOSEI -> MOSI"] = TransferData(
    "synthetic MOSEI -> MOSI", "synthetic", fold_splits(mosei), fold_splits(mosi), MODS
)

seg = folder.segments("mosi")
# MiniLM and GloVe vectors of every transcript, cached per segment (chapters 6 and 7 share them)
text = folder_transcript_features(folder, "mosi")
minilm = text.with_modalities(["text"])
glove = text.with_modalities(["glove"]).rename_modalities({"glove": "text"})
text_name = "GloVe-50 model <- MiniLM (MOSI text)"
src_folds, tgt_folds = fold_splits(glove), fold_splits(minilm)
experiments[text_name] = TransferData(
    text_name,
    folder.source,
    src_folds,
    tgt_folds,
    ["text"],
    pairs=(tgt_folds["train"], src_folds["train"]),
)

csd_note = "No real MOSEI and MOSI `.csd` features in the data folder: transfer (3) is skipped."
if not folder.is_synthetic and all(
    set(MODS) <= set(folder.csd_files(c)) for c in ("mosei", "mosi")
):
    real_mosei, _ = folder.features("mosei", tuple(MODS))
    real_mosi, _ = folder.features("mosi", tuple(MODS))
    experiments["MOSEI -> MOSI (.csd)"] = TransferData(
        "MOSEI -> MOSI (.csd)", "real", fold_splits(real_mosei), fold_splits(real_mosi), MODS
    )
    csd_note = "Real MOSEI and MOSI `.csd` features are present: transfer (3) is measured."

# %% tags=["remove-cell"]
summaries, fine_tuned_after, seconds = [], {}, {}
for name, data in experiments.items():
    t0 = time.perf_counter()
    rows, fine_tuned_after[name] = run_transfer(
        data, seeds=seeds, n_jobs=n_jobs, cache_dir=cache_dir
    )
    summaries.append(
        summarise(rows.to_dict("records"), name, data.data_source, n_resamples=bootstrap_resamples)
    )
    seconds[name] = time.perf_counter() - t0
table = pd.concat(summaries, ignore_index=True)
oracle = oracle_r(
    SynthConfig(**{k: v for k, v in synthetic.synthetic_info()["config"].items() if k == "signal"})
)
n_mosi_synth = int(
    table.loc[
        (table["data"] == "synthetic MOSEI -> MOSI") & (table["setting"] == "target only"), "n"
    ].iloc[0]
)
table = pd.concat(
    [
        table,
        pd.DataFrame(
            [
                {
                    "setting": "oracle bound",
                    "adapter": "none",
                    "adabn": False,
                    "data": "synthetic MOSEI -> MOSI",
                    "data_source": "synthetic",
                    "n": n_mosi_synth,
                    "seeds": 0,
                    "r": oracle,
                }
            ]
        ),
    ],
    ignore_index=True,
)
csv = table.rename(
    columns={
        "acc2_non0": "acc2",
        "f1_non0": "f1",
        "acc2_non0_lo": "acc2_lo",
        "acc2_non0_hi": "acc2_hi",
    }
)
# the transfers' rows come from different data: each row keeps its own data source
save_table(csv, "transfer", results_dir, csv["data_source"].tolist())
verdicts = {
    name: transfer_verdict(table, name, oracle if name == "synthetic MOSEI -> MOSI" else None)
    for name in experiments
}


def shown(name: str) -> pd.DataFrame:
    """One transfer's rows as display strings."""
    t = table[table["data"] == name]
    return pd.DataFrame(
        {
            "setting": t["setting"],
            "adapter": t["adapter"],
            "n": t["n"],
            "r [95% CI]": ci_column(t, "r"),
            "MAE [95% CI]": ci_column(t, "mae"),
            "Acc-2 [95% CI]": ci_column(t, "acc2_non0"),
        }
    )


# %% [markdown]
# ## Synthetic MOSEI -> MOSI, three modalities
#
# {numref}`tab-transfer-synthetic` lists every setting. The source model's row is scored on the
# synthetic MOSEI test fold, every other row on the synthetic MOSI test fold; the oracle bound is
# the correlation of the best possible combination of the generator's three sentiment signals
# with the label (no model can exceed it in expectation).

# %% tags=["hide-input"]
name = "synthetic MOSEI -> MOSI"
show_table(
    shown(name),
    "tab-transfer-synthetic",
    f"{name}: mean over {len(seeds)} seeds, 95% paired-bootstrap intervals over test segments "
    f"({bootstrap_resamples} resamples); Acc-2 non-0 as a share. Fine-tuned after: "
    f"{', '.join(fine_tuned_after[name])}.",
    "synthetic",
)

# %% [markdown]
# ## Cross-extractor text on MOSI transcripts
#
# {numref}`tab-transfer-text` holds the text-only model trained on GloVe-50 vectors; its own-domain
# row is scored on the GloVe-50 vectors of the same test transcripts that the other rows see
# through MiniLM.

# %% tags=["hide-input"]
show_table(
    shown(text_name),
    "tab-transfer-text",
    f"{text_name}, {'official MOSI folds' if folder.source == 'real' else 'the synthetic corpus folds'}: mean over {len(seeds)} seeds, 95% paired-bootstrap "
    f"intervals over test segments; Acc-2 non-0 as a share. Fine-tuned after: "
    f"{', '.join(fine_tuned_after[text_name])}.",
    folder.source,
)
if folder.source == "real":
    display(
        Markdown(
            f"Scored: {verdicts[text_name].n} target test segments, of the "
            f"{CORPORA['mosi']['folds']['test']} in the official MOSI test fold as published."
        )
    )

# %% tags=["hide-input"]
display(Markdown(csd_note))
if "MOSEI -> MOSI (.csd)" in experiments:
    show_table(
        shown("MOSEI -> MOSI (.csd)"),
        "tab-transfer-csd",
        f"MOSEI -> MOSI with CMU .csd features: mean over {len(seeds)} seeds, 95% intervals.",
        "real",
    )

# %% [markdown]
# ## Beside the published models
#
# {numref}`tab-transfer-anchors` lists published multimodal models trained **and** tested on MOSI
# (official folds, their papers' numbers, not computed here). They are in-domain models with
# word-aligned features; a transferred model is not expected to reach them, but they show where
# the field stands on the same test fold.

# %% tags=["hide-input"]
published = anchors()
show_table(
    published[["model", "text features", "MOSI MAE", "MOSI r"]].assign(
        **{"MOSI Acc-2 non-0": published["MOSI Acc-2 non0"] / 100}
    ),
    "tab-transfer-anchors",
    "Published multimodal models on the official MOSI test fold, as their papers report them "
    "(not computed here): " + "; ".join(published["citation"]) + ".",
    "real",
    digits={"MOSI MAE": 3, "MOSI r": 3},
    percent=["MOSI Acc-2 non-0"],
)

# %% [markdown]
# ## Does feature-space adaptation transfer, and which kind?


# %% tags=["remove-input"]
display(Markdown("\n\n".join(f"- {v.line(ci_text)}" for v in verdicts.values())))

# %% [markdown]
# Read together with the previous chapter. Feature-space adaptation can transfer only when the
# adapter learns which input goes where. AdaBN re-centres and re-scales each unit of the model; it
# cannot put back information an adapter never carried. Paired adapters see the same input
# through both extractors. Without pairs, alignment by second moments (CORAL) or optimal
# transport can place a segment correctly only where the principal directions of the two spaces
# correspond, as they can in the synthetic corpora, generated from one latent model; nothing makes
# two real text encoders' principal directions correspond. Where labelled target data exist,
# training on them (alone or by fine-tuning) is the baseline a transfer claim has to beat. What
# the rows above show, setting by setting (95% intervals; at chance: the interval contains 0):

# %% tags=["remove-input"]
display(Markdown(closing_text(list(verdicts.values()), ci_text)))

# %% tags=["remove-input"]
display(
    Markdown(
        f"In this run, on a {machine_phrase()}: "
        + "; ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
        + f"; the chapter {time.perf_counter() - t_start:.0f} s."
    )
)
