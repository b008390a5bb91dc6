"""What the extractors run on: media decoding (PyAV), face landmarks (MediaPipe), speech (Whisper)."""
