"""Settings of the adapters that map new extractors' features into a model's spaces (§3.1, §3.6.2)."""

from __future__ import annotations

from dataclasses import dataclass

from msa_lib.config.base import Checked, Noted

# Every adapter kind (msa_lib.adapters registers one estimator per kind); defined here so that
# the CLI can offer them as choices without importing torch.
ADAPTER_KINDS = ("paper", "paired-mlp", "paired-ridge", "coral", "ot")
PAIRED_ADAPTER_KINDS = ("paired-mlp", "paired-ridge")  # fitted on paired rows of both domains


@dataclass(frozen=True)
class AdapterConfig(Checked):
    """Adapter networks (§3.1, §3.6.2): MSE, batch 16, Adam 1e-3, 30 epochs, dropout 0.3."""

    batch_size: int = 16
    lr: float = 1e-3
    epochs: int = 30
    dropout: float = 0.3
    n_target_samples: int = 1000
    # Hidden width of both blocks of ``paired-mlp`` (the paper's text width, 384, for every
    # modality). The ``paper`` kind uses the paper's width per modality instead (§3.6.2: visual
    # 512, audio 256, text 384; msa_lib.config.paper.ADAPTER_HIDDEN), and this value only for a
    # modality the paper has no adapter for.
    hidden: int = 384
    # Not in the paper; msa_lib.adapters' choices for the kinds the paper lacks.
    ridge_alphas: tuple[float, ...] = (0.1, 1.0, 10.0, 100.0, 1000.0)  # paired ridge, by GCV
    components: int = 32  # PCA width in which CORAL and optimal transport align the two sets
    ot_reg: float = 1.0  # entropic regularisation of the Sinkhorn transport (standardised PCs)
    ot_max_samples: int = 1000  # rows of each set the transport plan is computed on
    seed: int = 0

    BOUNDS = {
        "batch_size": Noted(">= 2", "BatchNorm"),
        "hidden": ">= 1",
        "ridge_alphas": "each > 0",
        "components": ">= 1",
        "ot_reg": "> 0",
        "ot_max_samples": ">= 2",
        "lr": "> 0",
        "epochs": ">= 1",
        "dropout": "[0, 1)",
        "n_target_samples": ">= 1",
    }
