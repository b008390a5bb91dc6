"""Adapters: map a new extractor's features into the space a model was trained on (§3.1, §3.6.2)."""
