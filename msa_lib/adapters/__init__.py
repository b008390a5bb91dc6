"""Adapters: map a new extractor's features into the space a model was trained on (§3.1, §3.6.2).

One estimator per kind (:class:`~msa_lib.adapters.base.Adapter`: ``fit``, ``transform``,
``save``, ``load``), looked up by name in a registry (:func:`~msa_lib.adapters.base.get`,
:func:`~msa_lib.adapters.base.names`):

- :mod:`~msa_lib.adapters.base`: the estimator interface, the registry, :class:`AdapterError`,
  :func:`~msa_lib.adapters.base.build` (a kind with its settings for one modality);
- :mod:`~msa_lib.adapters.mlp`: ``paper`` (the paper's MLP on random pairs) and ``paired-mlp``;
- :mod:`~msa_lib.adapters.ridge`: ``paired-ridge``;
- :mod:`~msa_lib.adapters.alignment`: ``coral`` and ``ot`` (no pairs);
- :mod:`~msa_lib.adapters.pairs`: the rows two feature sets share (``pair_rows``,
  ``paired_featureset``);
- :mod:`~msa_lib.adapters.adabn`: test-time BatchNorm adaptation of a trained model.
"""

# The built-in kinds and the modules that register them (imported on first use, so that naming a
# kind, as `msa adapt --help` does, loads neither torch, scikit-learn nor POT); the same kinds, in
# the same order, as msa_lib.config.ADAPTER_KINDS (a test checks).
BUILTIN = {
    "paper": "msa_lib.adapters.mlp",
    "paired-mlp": "msa_lib.adapters.mlp",
    "paired-ridge": "msa_lib.adapters.ridge",
    "coral": "msa_lib.adapters.alignment",
    "ot": "msa_lib.adapters.alignment",
}
