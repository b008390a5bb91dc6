"""Feature extraction from raw media, as in the paper (§3.2-3.4), plus GloVe for MOSEI-style text.

- ``features/``: the extractors. ``audio`` (librosa, 29 values per frame, averaged, padded to 74,
  §3.2), ``visual`` (MediaPipe FaceLandmarker, 65 face-geometry values per frame, averaged, §3.3),
  ``text`` (a frozen BERT-style encoder, mean over non-padding tokens, §3.4), ``glove`` (averaged
  GloVe word vectors, modality ``glove``).
- ``engines/``: what the extractors drive. ``media`` (PyAV decoding, streamed frames, seeking by
  time; no system ffmpeg), ``landmarks`` (the face landmarker), ``asr`` (speech recognition).
- ``base``: the one ``Extractor`` interface, the registry (``register``, ``get``) and ``Segment``.
- ``plan``: segments from a clip, a folder of clips or a segments table; ``transcripts``: their text.
- ``cache``: per-segment results keyed by content and settings.
- ``run/``: the workers shared by the local process pool and the Ray backend, the output files
  (one per extractor, and the merged set) and the report (``msa extract``).
- ``generate``: generated stand-in media (espeak-ng speech, a face image video) for tests and
  chapters when no real clips are available.

Importing this package loads none of pandas, librosa, MediaPipe, torch or transformers: an
extractor's module is imported when it is first named.
"""

# The built-in extractors and the modules that register them (imported on first use, so that
# naming an extractor, as `msa extract --help` does, loads neither pandas, librosa, MediaPipe nor
# torch).
BUILTIN = {
    "audio": "msa_lib.extract.features.audio",
    "visual": "msa_lib.extract.features.visual",
    "text": "msa_lib.extract.features.text",
    "glove": "msa_lib.extract.features.glove",
}
