"""msa_lib: cross-domain multimodal sentiment analysis, the library behind the msa-book."""

__version__ = "0.1.0"
