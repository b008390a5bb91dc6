"""The speech-recognition study (msa_lib.experiments.asr): WER tables, MOSEI videos, predict."""

from __future__ import annotations

import pandas as pd
import pytest

from msa_lib.experiments.asr import (
    predict_verdict,
    video_table,
    wer_summary,
    wer_table,
    words_sentence,
)
from msa_lib.predict.predictor import Prediction


def test_real_mosi_clips_are_transcribed_nearly_word_for_word(real_data_dir, tmp_path):
    from msa_lib.data import open_data
    from msa_lib.extract.plan import plan_clips

    folder = open_data(real_data_dir)
    clips = folder.raw_clips("mosi")
    if not clips:
        pytest.skip("no raw MOSI clips in the data folder")
    df = wer_table(plan_clips(clips, folder.segments("mosi")), cache_dir=tmp_path)
    assert len(df) == len(clips)
    assert (df["wer"] <= 0.35).all(), df[["segment_id", "wer", "asr"]]


def wer_rows() -> pd.DataFrame:
    """Two clips as wer_table gives them: 10 words with one error, 30 words with six."""
    return pd.DataFrame(
        {
            "segment_id": ["a", "b"],
            "wer": [0.1, 0.2],
            "n_words": [10, 30],
            "audio_s": [3.0, 9.5],
            "seconds": [1.0, 2.0],
        }
    )


def test_the_pooled_wer_weighs_clips_by_their_words():
    s = wer_summary(wer_rows(), generated=False)
    assert s.pooled_wer == pytest.approx(7 / 40)  # not the plain mean, 0.15
    assert (s.n_clips, s.n_words, s.audio_s, s.seconds_per_clip) == (2, 40, 12.5, 1.5)
    text = s.sentence()
    assert text.startswith("Over the 2 clips, 17.5% of the true words are missed or changed")
    assert "listed in full" in text and "GENERATED" not in text
    assert "GENERATED" in wer_summary(wer_rows(), generated=True).sentence()
    with pytest.raises(ValueError, match="no clip with a true transcript"):
        wer_summary(wer_rows().iloc[:0], generated=False)


def test_mosei_rows_are_summed_per_video_with_the_first_segment():
    rows = pd.DataFrame(
        {
            "segment_id": ["v_2", "v_1", "w_1"],
            "video_id": ["v", "v", "w"],
            "start": [5.0, 0.5, 2.0],
            "end": [9.0, 5.0, 4.0],
            "text": ["later words", "first words here", ""],
            "n_words": [2, 3, 0],
        }
    )
    t = video_table(rows)
    assert t.to_dict("records") == [
        {"video_id": "v", "segments": 2, "words": 5, "start": 0.5, "end": 5.0,
         "text": "first words here"},
        {"video_id": "w", "segments": 1, "words": 0, "start": 2.0, "end": 4.0, "text": ""},
    ]  # fmt: skip
    assert words_sentence(rows).startswith("2 of the 3 MOSEI segments cut from these videos")
    with pytest.raises(ValueError, match="video_table needs columns"):
        video_table(rows.drop(columns="start"))


def prediction(clip: str, score: float) -> Prediction:
    """A text-model prediction of ``score`` for ``clip``."""
    polarity = "positive" if score > 0 else "negative" if score < 0 else "neutral"
    return Prediction(clip, score, polarity, "text", "real", "words", "speech recognition",
                      {}, [], ["text"], 3.0)  # fmt: skip


def test_the_predict_verdict_counts_polarity_agreement():
    scores = pd.DataFrame(
        {
            "clip": ["a", "b", "c"],
            "label": [-2.8, 2.6, -0.4],
            "score": [-2.01, 2.36, 0.3],
            "wer": [0.103, 0.0, 0.0],
        }
    )
    preds = [prediction(c, s) for c, s in zip(scores["clip"], scores["score"])]
    v = predict_verdict(scores, preds)
    assert (v.agree, v.n_clips, v.clip, v.polarity) == (2, 3, "a", "negative")
    text = v.sentence(n_test=686)
    assert text.startswith("The worked clip a is labelled -2.8; `msa predict` gives -2.01")
    assert "word error rate of 10.3%" in text
    assert "agrees with the label on 2 of 3 clips" in text and "686 segments" in text
    with pytest.raises(ValueError, match="every one with a label"):
        predict_verdict(scores.assign(label=[1.0, None, 2.0]), preds)
