"""The extractors, one per modality: audio (librosa), visual (face geometry), text (BERT-style), GloVe."""
