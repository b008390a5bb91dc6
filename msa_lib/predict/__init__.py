"""Scoring raw clips: model bundles (:mod:`~msa_lib.predict.bundle`) and the predictor (:mod:`~msa_lib.predict.predictor`)."""
