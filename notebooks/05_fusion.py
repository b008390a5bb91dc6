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
# # 5. The fusion model on source features: Table 1 reproduced
#
# The paper's model (§4.2) encodes each modality's time-averaged feature vector into one 96-d token,
# lets the three tokens attend to each other (4 heads), and maps the concatenated tokens through an
# MLP to a sentiment score in [-3, 3]. It is trained with a loss that mixes error and correlation,
# `0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2` (§4.1), with Adam, batch 32, a plateau scheduler and
# early stopping on validation r (§3.6.1). Its Table 1 reports train and validation loss, MAE and r
# for the seven modality subsets on CMU-MOSEI.
#
# This chapter trains that exact model and recipe (`msa_lib.models`, `msa_lib.losses`,
# `msa_lib.train`) for every subset and several seeds, and reports mean ± sd over seeds for train,
# validation **and test**, next to two baselines on the same inputs:
#
# - **ridge**: a linear regression on the standardised, concatenated features, its penalty chosen
#   on validation;
# - **late fusion**: the average of the single-modality fusion models' predictions (same seed), which
#   shows what training the modalities jointly, with attention, adds.
#
# Settings are chosen on validation only; every test number comes from one scoring of one trained
# configuration. Three data sources, as available: (a) real CMU-MOSI bc-LSTM features, (b) the
# synthetic MOSEI-shaped corpus, (c) real MOSEI `.csd` features when the user has them.

# %% tags=["parameters"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic only
results_dir = "../book/results"
seeds = [0, 1, 2, 3, 4]  # one run per subset and seed
max_epochs = 100  # the paper's maximum (§3.6.1); lower it for a quick run
n_jobs = 2  # runs side by side, one torch thread each
holdout_fraction = 0.15  # share of bc-LSTM train videos held out for early stopping
holdout_seed = 0
bootstrap_resamples = 2000  # for the 95% confidence intervals
timing_epochs = 1  # epochs timed on a MOSEI-sized random input (0: skip)
cache_dir = None  # a folder: finished runs are kept there and reused (resume an interrupted run)
progress = False  # a progress bar over the runs

# %%
import dataclasses
import functools
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown, display

from msa_lib.baselines import ridge_runs
from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data import open_data, open_synthetic
from msa_lib.data.splits import fold_splits
from msa_lib.experiments import (
    ci_table,
    fold_predictions,
    fusion_vs_ridge,
    oracle_r,
    run_table1,
    scale_table,
    summarise_test,
)
from msa_lib.models import FusionModel, count_parameters
from msa_lib.plots import (
    caption,
    plot_learning_curves,
    plot_pred_vs_true,
    save_figure,
    save_table,
    setup_style,
    source_tag,
)
from msa_lib.reference import paper_table1
from msa_lib.train import SUBSETS, time_epochs

torch.set_num_threads(2)
setup_style()
pd.set_option("display.max_columns", 30, "display.width", 200)
chapter_start = time.perf_counter()
folder = open_data(data_dir)
model_config, loss_config = ModelConfig(), LossConfig()
train_config = TrainConfig(max_epochs=max_epochs)
table1_on = functools.partial(  # one Table-1 experiment per data source, same settings
    run_table1,
    seeds=seeds,
    model_config=model_config,
    train_config=train_config,
    loss_config=loss_config,
    results_dir=results_dir,
    n_jobs=n_jobs,
    cache_dir=cache_dir,
    progress=progress,
)


def comparison_text(c: dict) -> str:
    """The fusion model against ridge and late fusion, in sentences, from fusion_vs_ridge's numbers."""
    n = c["n_subsets"]
    return (
        f"- Test r, fusion minus ridge: from {c['d_r_min']:+.3f} to {c['d_r_max']:+.3f} across "
        f"the {n} subsets (mean {c['d_r_mean']:+.3f}); the fusion model is better on "
        f"{c['n_fusion_r_higher']} of {n}.\n"
        f"- Test MAE, fusion minus ridge: from {c['d_mae_min']:+.3f} to {c['d_mae_max']:+.3f} "
        f"(mean {c['d_mae_mean']:+.3f}); lower for the fusion model on {c['n_fusion_mae_lower']} "
        f"of {n}.\n"
        f"- Spread of the fusion model's test predictions relative to the labels' (sd ratio): "
        f"{c['sd_ratio_fusion_min']:.2f} to {c['sd_ratio_fusion_max']:.2f} (ridge "
        f"{c['sd_ratio_ridge_min']:.2f} to {c['sd_ratio_ridge_max']:.2f}). Rescaled by a line "
        f"fitted on validation, its mean test MAE goes from {c['mae_fusion']:.3f} to "
        f"{c['mae_rescaled_fusion']:.3f} (ridge: {c['mae_ridge']:.3f} to "
        f"{c['mae_rescaled_ridge']:.3f}).\n"
        f"- Joint training against late fusion of the unimodal models (test r, multi-modality "
        f"subsets): joint higher on {c['n_joint_higher']} of {c['n_late']}, by "
        f"{c['joint_minus_late_r']:+.3f} on average."
    )


def subset_lines(summary: pd.DataFrame) -> list[str]:
    """One bullet per subset: fusion test r and MAE, ridge in brackets."""
    return [
        f"- {k}: r {summary.loc[k, ('test_r', 'fusion')]:.3f} "
        f"({summary.loc[k, ('test_r', 'ridge')]:.3f}), "
        f"MAE {summary.loc[k, ('test_mae', 'fusion')]:.3f} "
        f"({summary.loc[k, ('test_mae', 'ridge')]:.3f})"
        for k in SUBSETS
    ]


display(
    Markdown(
        f"**Data in use:** `{folder.root}` — **{source_tag(folder.source)}**. "
        f"Seeds: {list(seeds)}; at most {max_epochs} epochs per run."
    )
)

# %% [markdown]
# ## The recipe
#
# Every value below comes from the configuration dataclasses in `msa_lib.config`, whose defaults are
# the paper's. The few choices the paper leaves open are documented in `msa_lib.train.inputs`: inputs are
# standardised with training statistics only; a segment missing a modality gets the training mean
# for it (and is counted); a split's loss and r are computed over the whole split in evaluation mode.

# %%
recipe = pd.DataFrame(
    [
        (cfg.__class__.__name__, k, v)
        for cfg in (model_config, train_config, loss_config)
        for k, v in dataclasses.asdict(cfg).items()
    ],
    columns=["config", "field", "value"],
).astype({"value": str})
display(recipe)
sizes = pd.DataFrame(
    [
        {
            "subset": s,
            "parameters (MOSEI widths 713/74/300)": count_parameters(
                FusionModel({m: {"visual": 713, "audio": 74, "text": 300}[m] for m in mods})
            ),
        }
        for s, mods in SUBSETS.items()
    ]
)
display(sizes)
display(
    Markdown(
        "The paper's Table 1 as printed (CMU-MOSEI, its own random split of about 3.3k whole "
        "videos, no test column); our tables put its validation columns beside ours for reference:"
    )
)
display(paper_table1())


# %% [markdown]
# ## (a) Real CMU-MOSI bc-LSTM features, on their own split
#
# The only real MOSI features available offline are the utterance features of the bc-LSTM release
# (Poria et al. 2017): audio 73-d, visual 100-d (a 3D-CNN), text 100-d (a text CNN). Their extractor
# networks were **trained on the labels of their own train split** (`bclstm_split`, 62 videos train,
# 31 test), so they may be evaluated only on that split's test part. The official MOSI folds mix
# those training videos into the test fold, and the features then carry the labels they were
# trained on. The check below fits the same ridge regression both ways.

# %%
have_bclstm = folder.source == "real" and folder.has_bclstm
if not have_bclstm:
    display(
        Markdown(
            "> **Skipped:** the bc-LSTM features are real data only; this run uses "
            f"{source_tag(folder.source)}. Set `MSA_DATA_DIR` (or `data_dir`) to a folder laid out like "
            "`shared/data` to produce Table 1 on real MOSI features."
        )
    )
else:
    bclstm = folder.bclstm()
    official = folder.segments("mosi").set_index("segment_id").loc[bclstm.segment_id, "split"]
    on_official = dataclasses.replace(bclstm, split=official.to_numpy())
    bc_splits = fold_splits(bclstm, holdout=holdout_fraction, seed=holdout_seed)
    leak = pd.concat(
        [
            ridge_runs(fold_splits(on_official), SUBSETS, loss_config)[0].assign(
                folds="official MOSI folds (leaky)"
            ),
            ridge_runs(bc_splits, SUBSETS, loss_config)[0].assign(folds="bclstm_split (valid)"),
        ]
    )
    leak = leak[leak["split"] == "test"].pivot_table(
        index="subset", columns="folds", values="r", sort=False
    )
    save_table(leak.reset_index(), "table1_bclstm_leak_check", results_dir, folder.source)
    display(
        Markdown(
            caption(
                "Table 5.1: ridge test r on the bc-LSTM features, two ways to split.", folder.source
            )
        )
    )
    display(leak.round(3))
    counts = pd.DataFrame(
        {
            k: {"segments": len(v), "videos": len(np.unique(v.video_id))}
            for k, v in bc_splits.items()
        }
    ).T
    display(
        Markdown(
            f"Splits used below (validation = {holdout_fraction:.0%} of the train videos, held out whole):"
        )
    )
    display(counts)

# %% [markdown]
# On the official folds the text features reach a much higher test r than on `bclstm_split`: that
# gap is the leak, and why every number below uses `bclstm_split`. The same mechanism affects our
# **validation** split: it is made of train-part videos, whose features the bc-LSTM networks were
# fitted to, so validation r is optimistic and early stopping sees an easier problem than the test.
# There is no clean alternative that leaves the test fold untouched; the tables therefore show train,
# validation and test side by side, and only test numbers should be compared with other work.

# %%
if have_bclstm:
    bc = table1_on(bc_splits, "mosi_bclstm", folder.source)
    display(
        Markdown(
            caption(
                f"Table 5.2: Table 1 on real MOSI bc-LSTM features (bclstm_split), mean ± sd over "
                f"{len(seeds)} seeds; ridge is deterministic. The paper's columns are its MOSEI "
                "validation numbers, printed for reference only (other corpus, other features).",
                folder.source,
            )
        )
    )
    display(bc.table)
    display(Markdown(f"Fusion runs, ridge and late fusion took {bc.seconds:.0f} s."))

# %%
if have_bclstm:
    display(
        Markdown(caption("Table 5.3: test r and MAE per subset, mean over seeds.", folder.source))
    )
    bc_summary = summarise_test(bc.runs)
    display(bc_summary.round(3))
    display(
        Markdown(
            caption(
                f"Table 5.4: 95% bootstrap confidence intervals ({bootstrap_resamples} paired "
                f"resamples, BCa) of the test metrics of the seed-{seeds[0]} fusion model and the ridge.",
                folder.source,
            )
        )
    )
    display(ci_table(bc, seeds[0], bootstrap_resamples))

# %%
if have_bclstm:
    fig = plot_learning_curves(
        bc.grid.histories,
        ["T", "V", "T+V+A"],
        "Learning curves, MOSI bc-LSTM (stars: kept epoch)",
        folder.source,
    )
    save_figure(fig, "fusion_curves_mosi_bclstm", results_dir)
    plt.show()
    fig = plot_pred_vs_true(
        fold_predictions(bc, "T+V+A", seeds[0]),
        "Test predictions, MOSI bc-LSTM, T+V+A",
        folder.source,
    )
    save_figure(fig, "fusion_scatter_mosi_bclstm", results_dir)
    plt.show()

# %% [markdown]
# **Reading the bc-LSTM table.** The tables above show three things worth separating.
#
# 1. *Validation is optimistic for every modality, most of all for visual and audio.* Their
#    validation r is high while their test r is near zero: the bc-LSTM extractors learned the train
#    videos' labels, the held-out train videos share that advantage, the test videos do not. The
#    learning curves show validation r peaking within a few epochs, so early stopping keeps an
#    early model.
# 2. *Does the fusion model beat ridge on the same inputs?* The issue expected it to. The numbers
#    below, computed from the tables, answer it; the confidence intervals above show how much of
#    any difference is within test-sample noise.
# 3. *Why the MAE differs.* The paper's loss weights correlation 0.7 against 0.3 for error, so the
#    scale of the predictions is only loosely trained. Rescaling the predictions with a line fitted
#    on the validation split (r is unchanged) shows how much of the MAE gap is scale, not ranking.

# %%
if have_bclstm:
    bc_scales = scale_table(bc)
    display(
        Markdown(
            caption(
                "Table 5.5: test prediction spread (sd ratio) and test MAE before and after a "
                "validation-fitted rescaling, mean over seeds.",
                folder.source,
            )
        )
    )
    display(bc_scales.round(3))
    display(Markdown(comparison_text(fusion_vs_ridge(bc_summary, bc_scales))))

# %% [markdown]
# ## (b) The synthetic MOSEI-shaped corpus
#
# The project's generated stand-in (`msa_lib.data.synthetic`) has MOSEI's feature widths
# (OpenFace2 713, COVAREP 74, GloVe 300), written as real `.csd` files and averaged by the same code a
# user's CMU files go through, including their defects (`-inf` frames, empty sequences). It is
# **not** CMU-MOSEI: its numbers test the code path and show the method's behaviour on a known
# latent model, nothing about real sentiment.

# %%
synthetic = open_synthetic()
syn_fs, syn_reports = synthetic.features("mosei")
syn_missing = pd.DataFrame(
    {m: {"segments missing this modality": int(syn_fs.missing(m).sum())} for m in syn_fs.modalities}
).T
display(
    Markdown(caption("Missing modalities (imputed with the training mean, counted):", "synthetic"))
)
display(syn_missing)
syn_splits = fold_splits(syn_fs)
syn = table1_on(syn_splits, "mosei_synthetic", "synthetic")
display(
    Markdown(
        caption(
            f"Table 5.6: Table 1 on the SYNTHETIC MOSEI-shaped corpus, mean ± sd over {len(seeds)} seeds. "
            "The paper's columns are its real MOSEI validation numbers, for layout only.",
            "synthetic",
        )
    )
)
display(syn.table)
display(Markdown(f"Fusion runs, ridge and late fusion took {syn.seconds:.0f} s."))
syn_summary = summarise_test(syn.runs)
# The generator's latent model (msa_lib.data.synthetic) gives each modality a sentiment signal with
# correlation rho_m to the label and independent noise; the best any model can reach from a subset
# is then r = sqrt(S / (1 + S)), S = sum of rho^2 / (1 - rho^2): an upper bound (frame noise and
# nuisance factors only lower it).
rho = synthetic.synthetic_info()["config"]["signal"]
syn_summary[("test_r", "oracle bound")] = pd.Series(
    {k: oracle_r(rho, mods) for k, mods in SUBSETS.items()}
)
display(
    Markdown(
        caption(
            "Test r and MAE per subset, mean over seeds, and the oracle bound on r.", "synthetic"
        )
    )
)
display(syn_summary.round(3))
syn_scales = scale_table(syn)
display(Markdown(caption("Table 5.7: prediction spread and rescaled test MAE.", "synthetic")))
display(syn_scales.round(3))
display(Markdown(comparison_text(fusion_vs_ridge(syn_summary, syn_scales))))

# %%
fig = plot_learning_curves(
    syn.grid.histories, ["T", "A+V", "T+V+A"], "Learning curves, synthetic MOSEI", "synthetic"
)
save_figure(fig, "fusion_curves_mosei_synthetic", results_dir)
plt.show()
fig = plot_pred_vs_true(
    fold_predictions(syn, "T+V+A", seeds[0]),
    "Test predictions, synthetic MOSEI, T+V+A",
    "synthetic",
)
save_figure(fig, "fusion_scatter_mosei_synthetic", results_dir)
plt.show()

# %% [markdown]
# ## (c) Real CMU-MOSEI `.csd` features
#
# The paper's Table 1 was computed on the CMU SDK's MOSEI sequences (OpenFace2, COVAREP, GloVe).
# They cannot be downloaded here; a user who has them puts them in `csd/` inside the data folder and
# this section runs on the official folds (16,331 / 1,871 / 4,662 segments). At the epoch time
# measured below, 7 subsets x 5 seeds of up to 100 epochs is hours of CPU time, not minutes: set the
# `cache_dir` parameter so that finished runs are kept and an interrupted run resumes.

# %%
mosei_files = folder.csd_files("mosei") if folder.source == "real" else {}
if len(mosei_files) < 3:
    where = (
        f"in `{folder.root / 'csd'}` (found: {sorted(mosei_files) or 'none'})"
        if folder.source == "real"
        else "(this run has no real data folder)"
    )
    display(
        Markdown(
            f"> **Skipped:** no real CMU-MOSEI `.csd` files {where}. "
            "Table 1 on real MOSEI needs `CMU_MOSEI_VisualOpenFace2.csd`, `CMU_MOSEI_COVAREP.csd` and "
            "`CMU_MOSEI_TimestampedWordVectors.csd`."
        )
    )
    mosei_summary = None
else:
    mosei_fs, _ = folder.features("mosei")
    mosei = table1_on(fold_splits(mosei_fs), "mosei_csd", folder.source)
    display(
        Markdown(
            caption(
                f"Table 5.8: Table 1 on real CMU-MOSEI .csd features, {len(seeds)} seeds.",
                folder.source,
            )
        )
    )
    display(mosei.table)
    mosei_summary = summarise_test(mosei.runs)
    display(mosei_summary.round(3))
    display(Markdown(comparison_text(fusion_vs_ridge(mosei_summary, scale_table(mosei)))))

# %% [markdown]
# ## Training cost
#
# Seconds per epoch (one training pass and one validation pass) of the paper's model on a random input
# the size of MOSEI's official train and validation folds (16,331 and 1,871 segments, 713 + 74 + 300
# features), one torch thread; the chapter's runs use one thread per run, two runs side by side.

# %%
if timing_epochs > 0:
    timing = time_epochs(epochs=timing_epochs, num_threads=1)
    epoch_seconds = float(timing["seconds"].mean())
    display(timing)
else:
    epoch_seconds = float("nan")

# %% [markdown]
# ## Closing note

# %%
lines = []
if have_bclstm:
    lines.append(
        f"**Real MOSI bc-LSTM features (`bclstm_split`), test fold, mean over {len(seeds)} seeds** "
        "(fusion model; ridge in brackets):"
    )
    lines += subset_lines(bc_summary)
else:
    lines.append("The real bc-LSTM part was skipped (no real data folder in this run).")
lines.append("\n**SYNTHETIC MOSEI-shaped corpus, test split** (fusion; ridge in brackets):")
lines += subset_lines(syn_summary)
epoch_note = (
    f"{epoch_seconds:.2f} s (target 1 s)"
    if np.isfinite(epoch_seconds)
    else "not measured in this run (timing_epochs = 0)"
)
lines.append(
    f"\n**Epoch time**, MOSEI-sized input, one thread: {epoch_note}. "
    f"Whole chapter: {time.perf_counter() - chapter_start:.0f} s."
)
display(Markdown("\n".join(lines)))
