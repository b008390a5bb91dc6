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
# # Beyond the paper: fine-tuned text, losses, time, and one clip end to end
#
# Four studies go past the paper where it matters to a user, on real data wherever it exists.
# Each is a section of its own, and `msa book --only NAME --no-html` rebuilds one alone:
#
# - {doc}`08_1_text` (`08_1_text`, `msa_lib.experiments.text_finetune`): a text model fine-tuned
#   end to end on the official CMU-MOSI folds, set beside the field's published anchors. The
#   best seed's model is saved in `book/results/text_model/` for the last section.
# - {doc}`08_2_losses` (`08_2_losses`, `msa_lib.experiments.ablation`): the paper's correlation
#   loss (§4.1) and multi-task loss (§3.7) against plain error losses, each with a calibrated
#   variant, to see what the correlation term buys and what it costs.
# - {doc}`08_3_temporal` (`08_3_temporal`, `msa_lib.experiments.temporal`): the paper's temporal
#   alignment (§3.5), which it describes and then does not use, with a sequence model over the
#   aligned frames, against the averaged model.
# - {doc}`08_4_predict` (`08_4_predict`, `msa_lib.experiments.asr`, `msa_lib.predict`):
#   `msa predict`, which scores a raw clip from its pixels, sound and speech (transcribed by
#   Whisper base when no text is given) with the model bundle it writes to `book/results/model/`.
#   The bundle holds the text model of the first section, so that section runs first.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"

# %% tags=["remove-cell"]
from IPython.display import Markdown, display

from msa_lib.book.chapter import data_note, start_chapter

folder = start_chapter(data_dir)  # silences tqdm's notice and library logging, opens the data

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(
            folder,
            "With no real data folder every number in this chapter's sections is SYNTHETIC: the "
            "synthetic corpus's generated transcripts, features and clips.",
        )
    )
)
