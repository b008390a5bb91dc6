"""Scoring a raw clip end to end (msa_lib.predict.predictor): bundles, transcripts, modalities, bad input."""

from __future__ import annotations

import copy
import json
import os
import shutil

import numpy as np
import pytest
import torch

from msa_lib.config import TrainConfig
from msa_lib.data import DataFolder
from msa_lib.data.featureset import FeatureSet
from msa_lib.extract.base import default_settings
from msa_lib.extract.engines.media import MediaError, probe
from msa_lib.extract.generate import make_clip
from msa_lib.io.checkpoint import load_checkpoint
from msa_lib.predict.bundle import (
    BUNDLE_VERSION,
    Bundle,
    BundleError,
    build_model_bundle,
    bundle_matches,
    read_manifest,
    train_bundle,
)
from msa_lib.predict.predictor import PredictError, Predictor, predict_folder

POSITIVE = ["i loved it", "a wonderful film", "great acting", "truly amazing", "the best movie"]
NEGATIVE = ["i hated it", "an awful film", "terrible acting", "truly boring", "the worst movie"]
NOT_TRAINED = {"audio": "no audio training features", "visual": "no visual training features"}
TINY_TRAIN = TrainConfig(max_epochs=2, batch_size=8, patience=1, seed=0)


@pytest.fixture(scope="session")
def text_model():
    """A MiniLM regressor fine-tuned for one epoch on ten sentences (seconds)."""
    from msa_lib.config import TextFineTuneConfig
    from msa_lib.train.text import fine_tune_text

    texts, y = POSITIVE + NEGATIVE, [2.5] * 5 + [-2.5] * 5
    cfg = TextFineTuneConfig(epochs=1, batch_size=5, max_length=16)
    return fine_tune_text(
        texts, y, texts[::3], y[::3], cfg, seed=0, trained_on="ten test sentences"
    )


@pytest.fixture(scope="session")
def text_bundle(tmp_path_factory, text_model):
    """A text-only bundle, as the real data gives."""
    return build_model_bundle(
        tmp_path_factory.mktemp("bundles") / "text",
        text_model=text_model,
        text_provenance={"trained_on": "ten test sentences", "data_source": "synthetic"},
        not_trained=NOT_TRAINED,
    )


@pytest.fixture(scope="session")
def fusion_model(small_synthetic):
    """A fusion model trained for two epochs on the small synthetic MOSI features."""
    from msa_lib.config import ModelConfig
    from msa_lib.train.fusion import fit

    fs, _ = DataFolder.open(small_synthetic).features("mosi")
    tr, va = (fs.take(np.flatnonzero(fs.split == s)) for s in ("train", "valid"))
    return fit(ModelConfig(), TINY_TRAIN, tr, va, progress=False)[0]


@pytest.fixture(scope="session")
def fusion_bundle(tmp_path_factory, fusion_model):
    """A fusion-only bundle over visual/audio/text features (65/74/384)."""
    from msa_lib.extract.base import default_settings

    return build_model_bundle(
        tmp_path_factory.mktemp("bundles") / "fusion",
        fusion_model=fusion_model,
        fusion_provenance={"trained_on": "small synthetic MOSI", "data_source": "synthetic"},
        extractor_settings=default_settings(),
    )


@pytest.fixture(scope="session")
def both_bundle(tmp_path_factory, text_model, fusion_model):
    """A bundle with a text part and a fusion part."""
    from msa_lib.extract.base import default_settings

    return build_model_bundle(
        tmp_path_factory.mktemp("bundles") / "both",
        text_model=text_model,
        fusion_model=fusion_model,
        text_provenance={"trained_on": "ten test sentences", "data_source": "synthetic"},
        fusion_provenance={"trained_on": "small synthetic MOSI", "data_source": "synthetic"},
        extractor_settings=default_settings(),
    )


@pytest.fixture(scope="session")
def faceless_speech_clip(media_dir, speech_samples):
    """espeak-ng speech over grey frames: audio and text, no face."""
    return make_clip(media_dir / "faceless_speech.mp4", "what a wonderful film", face=False).path


# ----------------------------------------------------------------- the bundle
def test_bundle_manifest_says_what_each_part_is(text_bundle, both_bundle):
    m = read_manifest(text_bundle)
    assert m["data_source"] == "synthetic" and list(m["parts"]) == ["text"]
    assert m["parts"]["text"]["trained_on"] == "ten test sentences"
    assert m["not_trained"] == NOT_TRAINED
    b = Bundle.load(both_bundle)
    assert b.needs == ["text", "audio", "visual"]
    assert b.manifest["parts"]["fusion"]["dims"] == {"visual": 65, "audio": 74, "text": 384}
    assert any("SYNTHETIC data" in line for line in b.describe_parts())


def test_missing_or_foreign_bundle_is_one_line_naming_make_book(tmp_path):
    with pytest.raises(BundleError, match=r"no model bundle at .*`make book`"):
        Bundle.load(tmp_path / "absent")
    with pytest.raises(BundleError, match="no manifest.json"):
        Bundle.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "other"}')
    with pytest.raises(BundleError, match="not a model bundle manifest"):
        Bundle.load(tmp_path)


def test_bundle_needs_provenance_and_a_part(tmp_path, text_model):
    with pytest.raises(BundleError, match="needs a text model"):
        build_model_bundle(tmp_path / "b")
    with pytest.raises(BundleError, match="data_source"):
        build_model_bundle(
            tmp_path / "b", text_model=text_model, text_provenance={"trained_on": "x"}
        )
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()


def test_bundle_parts_are_checkpoint_folders(both_bundle, fusion_model):
    m = read_manifest(both_bundle)
    assert m["version"] == BUNDLE_VERSION
    assert {n: p["path"] for n, p in m["parts"].items()} == {"text": "text", "fusion": "fusion"}
    assert load_checkpoint(both_bundle / "text", "text").weights is not None
    assert (both_bundle / "text" / "encoder" / "config.json").is_file()
    fusion = load_checkpoint(both_bundle / "fusion", "fusion")
    assert fusion.config["dims"] == m["parts"]["fusion"]["dims"] == fusion_model.dims
    b = Bundle.load(both_bundle)
    assert b.fusion.modalities == fusion_model.modalities
    for name, value in fusion_model.model.state_dict().items():
        assert torch.equal(b.fusion.model.state_dict()[name], value), name


def test_a_bundle_of_an_older_format_is_refused_and_rebuilt(tmp_path, fusion_model):
    out = tmp_path / "b"
    prov = {"trained_on": "x", "data_source": "synthetic"}
    build_model_bundle(out, fusion_model=fusion_model, fusion_provenance=prov, recipe={"r": 1})
    assert bundle_matches(out, {"r": 1})
    manifest = json.loads((out / "manifest.json").read_text())
    (out / "manifest.json").write_text(json.dumps({**manifest, "version": 1}))
    with pytest.raises(BundleError, match="b: bundle format version 1, written by an older"):
        Bundle.load(out)
    assert not bundle_matches(out, {"r": 1})  # so train_bundle makes it again
    (out / "manifest.json").write_text(json.dumps({**manifest, "version": BUNDLE_VERSION + 1}))
    newer = f"bundle format version {BUNDLE_VERSION + 1}; this code reads version {BUNDLE_VERSION}"
    with pytest.raises(BundleError, match=f"{newer} .a newer msa-lib wrote it"):
        Bundle.load(out)
    (out / "manifest.json").write_text(json.dumps(manifest))
    shutil.rmtree(out / "fusion")
    (out / "fusion").mkdir()
    (out / "fusion" / "model.pt").write_bytes(b"a single-file model")
    with pytest.raises(BundleError, match="fusion part cannot be loaded .*no config.json"):
        Bundle.load(out)


def broken_copy(bundle, tmp_path, edit) -> object:
    """A copy of ``bundle`` whose manifest ``edit(manifest)`` changed."""
    out = tmp_path / "broken"
    shutil.copytree(bundle, out)
    manifest = json.loads((out / "manifest.json").read_text())
    edit(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest))
    return out


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda m: m["parts"]["fusion"]["extractor_settings"]["audio"].update(duration=-1),
            r"manifest\.json.*duration must be > 0",
        ),
        (
            lambda m: m["parts"]["fusion"]["extractor_settings"].update(audio={"hop": 512}),
            r"manifest\.json.*hop",
        ),
        (lambda m: m["parts"]["fusion"].update(modalities=["text", "smell"]), "smell"),
        (lambda m: m["parts"]["fusion"].pop("trained_on"), "fusion part has no 'trained_on'"),
        (lambda m: m["parts"]["text"].update(data_source="mixed"), "data_source 'mixed'"),
    ],
)
def test_a_broken_bundle_is_refused_when_it_loads(both_bundle, tmp_path, edit, message):
    # found before any clip is heard, not clip by clip after each transcription
    with pytest.raises(BundleError, match=message):
        Predictor(broken_copy(both_bundle, tmp_path, edit))
    with pytest.raises(BundleError, match=message):  # loading the parts in the background too
        Predictor(broken_copy(both_bundle, tmp_path / "bg", edit), background=True)


def test_bundle_is_replaced_whole(tmp_path, text_model, fusion_model):
    out = tmp_path / "b"
    prov = {"trained_on": "x", "data_source": "synthetic"}
    build_model_bundle(out, fusion_model=fusion_model, fusion_provenance=prov)
    build_model_bundle(out, text_model=text_model, text_provenance=prov)
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "text"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


# ----------------------------------------------------------------- scoring
def test_speech_is_transcribed_and_scored_by_the_text_model(speech_clip, text_bundle, text_model):
    p = Predictor(text_bundle).predict(speech_clip)
    assert p.transcript_source.startswith("speech recognition")
    assert "surprisingly good" in p.transcript.lower()
    assert p.model == "text"
    assert p.score == pytest.approx(float(text_model.predict([p.transcript])[0]))
    assert p.polarity == ("positive" if p.score > 0 else "negative")
    assert p.modalities["text"].used
    for m in ("audio", "visual"):
        st = p.modalities[m]
        assert not st.usable and not st.used and NOT_TRAINED[m] in st.why
    report = "\n".join(p.lines())
    assert "ten test sentences" in report and "SYNTHETIC" in report
    json.dumps(p.as_dict(), allow_nan=False)


@pytest.mark.parametrize("name", ["text_bundle", "both_bundle"])
def test_parts_loaded_while_whisper_listens_give_the_same_prediction(speech_clip, name, request):
    bundle = request.getfixturevalue(name)
    ahead = Predictor(bundle, background=True)
    ahead.settle()
    # the fusion model's extractors were built, their models loaded, in the same thread
    fusion = ahead.bundle.fusion
    assert sorted(ahead._extractors) == sorted(fusion.modalities if fusion else [])
    p = ahead.predict(speech_clip)
    q = Predictor(bundle).predict(speech_clip)
    assert (p.score, p.transcript, p.model) == (q.score, q.transcript, q.model)


def test_a_part_that_cannot_load_in_the_background_fails_the_prediction(
    speech_clip, text_bundle, tmp_path
):
    broken = tmp_path / "b"
    shutil.copytree(text_bundle, broken)
    for f in (broken / "text").rglob("*.safetensors"):
        f.write_bytes(b"not weights")
    pred = Predictor(broken, background=True)  # the manifest is sound: accepted at once
    with pytest.raises(BundleError, match="text part cannot be loaded"):
        pred.predict(speech_clip, text="a fine film")
    pred.settle()  # settled: nothing left running


def test_given_text_and_transcript_file(speech_clip, text_bundle, text_model, tmp_path):
    pred = Predictor(text_bundle)
    p = pred.predict(speech_clip, text="an awful film")
    assert p.transcript == "an awful film" and p.transcript_source == "given"
    assert p.score == pytest.approx(float(text_model.predict(["an awful film"])[0]))
    f = tmp_path / "t.txt"
    f.write_text("a wonderful film\n")
    p = pred.predict(speech_clip, transcript_file=f)
    assert p.transcript == "a wonderful film" and p.transcript_source == f"file {f}"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"text": "   "}, "--text is empty"),
        ({"transcript_file": "EMPTY"}, "transcript file is empty"),
        ({"transcript_file": "LATIN1"}, "not utf-8 text"),
        ({"transcript_file": "ABSENT"}, "transcript file not found"),
        ({"transcript_file": "FOLDER"}, "is a folder, not a transcript file"),
        ({"text": "x", "transcript_file": "EMPTY"}, "not both"),
    ],
)
def test_bad_transcripts_are_one_clear_error(speech_clip, text_bundle, tmp_path, kwargs, message):
    files = {
        "EMPTY": tmp_path / "e.txt",
        "LATIN1": tmp_path / "l.txt",
        "ABSENT": tmp_path / "a.txt",
        "FOLDER": tmp_path,
    }
    files["EMPTY"].write_text(" \n")
    files["LATIN1"].write_bytes("très bien".encode("latin-1"))
    if "transcript_file" in kwargs:
        kwargs = {**kwargs, "transcript_file": files[kwargs["transcript_file"]]}
    with pytest.raises(PredictError, match=message):
        Predictor(text_bundle).predict(speech_clip, **kwargs)


def test_missing_and_non_video_files(text_bundle, tmp_path, corrupt_clip):
    pred = Predictor(text_bundle)
    with pytest.raises(PredictError, match="absent.mp4: file not found"):
        pred.predict(tmp_path / "absent.mp4", text="fine")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    with pytest.raises(MediaError, match="notes.txt: not a readable media file"):
        pred.predict(notes, text="fine")
    with pytest.raises(MediaError, match="corrupt.mp4"):
        pred.predict(corrupt_clip, text="fine")


def test_no_audio_with_a_text_only_model(no_audio_clip, text_bundle):
    pred = Predictor(text_bundle)
    with pytest.raises(PredictError, match=r"takes text.*no audio track.*give --text"):
        pred.predict(no_audio_clip)
    p = pred.predict(no_audio_clip, text="a wonderful film")
    assert p.model == "text" and p.modalities["text"].used


def fusion_input(visual: np.ndarray, dims: dict[str, int]) -> FeatureSet:
    """One clip's fusion input: its visual vector, every other modality missing (NaN)."""
    feats = {m: np.full((1, d), np.nan, np.float32) for m, d in dims.items()}
    feats["visual"] = visual.astype(np.float32).reshape(1, -1)
    return FeatureSet(["c"], ["c"], ["unassigned"], [np.nan], feats, corpus="clip", source="real")


def test_silence_is_said_and_the_rest_is_used(
    silent_clip, text_bundle, fusion_bundle, fusion_model
):
    with pytest.raises(PredictError, match="no speech heard"):
        Predictor(text_bundle).predict(silent_clip)
    pred = Predictor(fusion_bundle)
    p = pred.predict(silent_clip)
    assert p.model == "fusion (partial)"
    assert p.modalities["visual"].used and not p.modalities["audio"].usable
    assert "silent" in p.modalities["audio"].why and "no speech" in p.modalities["text"].why
    assert len(p.gaps) == 2 and all("training mean" in g for g in p.gaps)
    # the score is the fusion model's own prediction for the clip's face, the rest missing
    visual, _ = pred.media_vector("visual", silent_clip, probe(silent_clip))
    expected = fusion_model.predict(fusion_input(visual, fusion_model.dims))[0]
    assert p.score == pytest.approx(float(np.clip(expected, -3, 3)), abs=1e-6)


def test_a_pure_tone_is_no_speech_not_words(tmp_path, text_bundle, both_bundle):
    from msa_lib.extract.engines.media import write_media

    t = np.arange(10 * 16000) / 16000  # Whisper alone hears "I'll see you in the next video."
    clip = write_media(
        tmp_path / "tone.mp4",
        audio=(0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32),
        sample_rate=16000,
    )
    with pytest.raises(PredictError, match=r"no speech heard"):
        Predictor(text_bundle).predict(clip)


def test_scores_beyond_the_label_range_are_clipped(silent_clip, fusion_model, tmp_path):
    # fusion models whose output is shifted far up or down: the score stops at +3 or -3
    visual = None
    for shift, bound in ((40.0, 3.0), (-40.0, -3.0)):
        shifted = copy.deepcopy(fusion_model)
        with torch.no_grad():
            shifted.model.regressor.bias += shift
        out = build_model_bundle(
            tmp_path / f"shift{shift:+.0f}",
            fusion_model=shifted,
            fusion_provenance={"trained_on": "shifted", "data_source": "synthetic"},
            extractor_settings=default_settings(),
        )
        pred = Predictor(out)
        if visual is None:
            visual, _ = pred.media_vector("visual", silent_clip, probe(silent_clip))
        raw = float(shifted.predict(fusion_input(visual, shifted.dims))[0])
        assert raw * np.sign(bound) > 3, raw  # the model's own output leaves [-3, 3]
        p = pred.predict(silent_clip)
        assert p.score == bound and p.polarity == ("positive" if bound > 0 else "negative")


def test_all_modalities_go_to_the_fusion_model(speech_clip, fusion_bundle, both_bundle):
    p = Predictor(fusion_bundle).predict(speech_clip)
    assert p.model == "fusion" and not p.gaps
    assert all(p.modalities[m].used for m in ("text", "audio", "visual"))
    assert Predictor(both_bundle).predict(speech_clip).model == "fusion"


def test_no_face_falls_back_to_the_text_model_and_says_so(faceless_speech_clip, both_bundle):
    p = Predictor(both_bundle).predict(faceless_speech_clip)
    assert p.model == "text" and p.modalities["audio"].usable and not p.modalities["audio"].used
    assert not p.modalities["visual"].usable and "no face found" in p.modalities["visual"].why
    assert p.gaps == [f"visual not used: {p.modalities['visual'].why}"]


def test_no_face_with_a_fusion_only_model_is_partial(no_face_clip, fusion_bundle):
    p = Predictor(fusion_bundle).predict(no_face_clip, text="a wonderful film")
    assert p.model == "fusion (partial)"
    assert [m for m, s in p.modalities.items() if s.used] == ["text", "audio"]
    assert p.gaps and "visual missing (no face found" in p.gaps[0]


def test_a_folder_is_scored_clip_by_clip(clip_folder, text_bundle):
    rows = {r["clip"]: r for r in predict_folder(clip_folder, Predictor(text_bundle))}
    assert set(rows) == {"good.mp4", "noface.mp4", "empty.mp4", "mute.mp4"}
    assert (
        rows["good.mp4"]["transcript_source"].startswith("file") and not rows["good.mp4"]["error"]
    )
    assert "file is empty" in rows["empty.mp4"]["error"]
    assert "transcript file is empty" in rows["noface.mp4"]["error"]  # a blank sidecar
    assert "no audio track" in rows["mute.mp4"]["error"]
    with pytest.raises(PredictError, match="no media files"):
        predict_folder(clip_folder / "nothing", Predictor(text_bundle))


# ----------------------------------------------------------------- the book's bundle
def test_synthetic_bundle_is_a_fusion_model_labelled_synthetic(small_synthetic, tmp_path):
    folder = DataFolder.open(small_synthetic)
    out = train_bundle(folder, tmp_path / "model", train_config=TINY_TRAIN)
    m = read_manifest(out)
    assert m["data_source"] == "synthetic" and list(m["parts"]) == ["fusion"]
    assert "SYNTHETIC" in m["parts"]["fusion"]["trained_on"]
    stamp = os.stat(out / "manifest.json").st_mtime_ns
    assert train_bundle(folder, out, train_config=TINY_TRAIN) == out  # same recipe: reused
    assert os.stat(out / "manifest.json").st_mtime_ns == stamp


def test_real_bundle_is_text_only_and_says_why(real_data_dir, tmp_path, text_model):
    folder = DataFolder.open(real_data_dir)
    out = train_bundle(folder, tmp_path / "model", text_model=text_model)
    m = read_manifest(out)
    assert m["data_source"] == "real" and list(m["parts"]) == ["text"]
    n = len(folder.raw_clips("mosi"))
    assert f"has {n} raw MOSI clip(s)" in m["not_trained"]["visual"]


def test_book_tables(speech_clip, both_bundle):
    from msa_lib.extract.base import Segment
    from msa_lib.predict.bundle import bundle_table
    from msa_lib.predict.predictor import predict_segments

    t = bundle_table(both_bundle)
    assert list(t["part"]) == ["text", "fusion"] and set(t["data"]) == {"synthetic"}
    seg = Segment(
        "speech", "speech", str(speech_clip), label=1.5, text="this movie was surprisingly good"
    )
    df, preds = predict_segments(Predictor(both_bundle), [seg])
    row = df.iloc[0]
    assert row["label"] == 1.5 and row["score"] == preds[0].score and row["model"] == "fusion"
    assert row["wer"] <= 0.4 and "surprisingly" in row["asr"].lower()


def test_zeros_for_a_missing_face_are_not_used_as_a_face(no_face_clip, fusion_model, tmp_path):
    # under the paper's protocol a clip with no face gives 65 zeros and the no_face flag
    from msa_lib.extract.base import with_section

    paper = with_section(default_settings(), "visual", protocol="paper")
    out = build_model_bundle(
        tmp_path / "paper",
        fusion_model=fusion_model,
        fusion_provenance={"trained_on": "small synthetic MOSI", "data_source": "synthetic"},
        extractor_settings=paper,
    )
    p = Predictor(out).predict(no_face_clip, text="a wonderful film")
    assert not p.modalities["visual"].usable and "no face found" in p.modalities["visual"].why
    assert p.model == "fusion (partial)" and "visual missing (no face found" in p.gaps[0]
