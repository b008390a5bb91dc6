"""The networks: the paper's fusion model, its seed ensemble, the temporal model, a text regressor, the adapter MLP.

- :mod:`~msa_lib.models.fusion`: encoders -> attention over modality tokens -> MLP (§4.2);
- :mod:`~msa_lib.models.ensemble`: K seeds of one configuration as one batched network;
- :mod:`~msa_lib.models.temporal`: a sequence model over aligned frames (§3.5);
- :mod:`~msa_lib.models.text`: an encoder, mean-pooled, with a regression head;
- :mod:`~msa_lib.models.adapter`: the paper's adapter MLP (§3.6.2).

Training lives in :mod:`msa_lib.train`; the models only compute.
"""
