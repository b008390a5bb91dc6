"""Training: input preparation, one generic loop, the fusion model's fit and checkpoints, grids.

- :mod:`~msa_lib.train.inputs`: checks, the training-split standardiser, missing-modality rules;
- :mod:`~msa_lib.train.loop`: the generic loop for any ``nn.Module`` (seeding, plateau scheduler,
  early stopping, best state) and batched prediction;
- :mod:`~msa_lib.train.fusion`: the fusion model's :func:`fit`, :class:`TrainedModel` (with
  ``save``/``load``), :func:`predict`, scoring;
- :mod:`~msa_lib.train.ensemble`: the seeds of one configuration trained together as one batched
  ensemble, statistically equivalent to separate runs (:func:`fit_seeds`);
- :mod:`~msa_lib.train.grid`: subsets x seeds, resumable (:func:`run_grid`);
"""

from msa_lib.train.ensemble import fit_seeds, train_ensemble
from msa_lib.train.fusion import (
    TrainedModel,
    evaluate_model,
    fine_tune,
    fit,
    predict,
    score_predictions,
    split_loss,
)
from msa_lib.train.grid import SUBSETS, GridResult, run_grid, run_key
from msa_lib.train.inputs import (
    MISSING_RULES,
    Standardizer,
    TrainInputError,
    check_featureset,
    labels_constant,
    require_varied_labels,
    usable_rows,
)
from msa_lib.train.loop import LoopResult, adam, predict_batches, seeded, train_loop

__all__ = [
    "MISSING_RULES",
    "SUBSETS",
    "GridResult",
    "LoopResult",
    "Standardizer",
    "TrainInputError",
    "TrainedModel",
    "adam",
    "check_featureset",
    "evaluate_model",
    "fine_tune",
    "fit",
    "fit_seeds",
    "labels_constant",
    "predict",
    "predict_batches",
    "require_varied_labels",
    "run_grid",
    "run_key",
    "score_predictions",
    "seeded",
    "split_loss",
    "train_ensemble",
    "train_loop",
    "usable_rows",
]
