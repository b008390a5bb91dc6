"""``paired-ridge``: a multi-output ridge on true pairs, its penalty by generalised CV on the pairs."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from msa_lib.adapters.base import Adapter, register, stored_arrays, tensors


@register
class PairedRidgeAdapter(Adapter):
    """A linear map fitted on the segments both extractors saw (scikit-learn's ``RidgeCV``)."""

    kind = "paired-ridge"
    paired = True
    coef: np.ndarray  # [in_dim, out_dim]
    intercept: np.ndarray  # [out_dim]

    def minimum(self) -> tuple[int, str]:
        """Three pairs: each penalty is scored by leaving one pair out of a fit on the others."""
        return 3, "the penalty is chosen by leaving one pair out of a fit on at least two"

    def _fit(self, zs: np.ndarray, zt: np.ndarray) -> None:
        from sklearn.linear_model import RidgeCV

        ridge = RidgeCV(alphas=self.config.ridge_alphas).fit(zs, zt)
        self.coef, self.intercept = ridge.coef_.T.copy(), np.atleast_1d(ridge.intercept_)
        self.info["alpha"] = float(ridge.alpha_)

    def _map(self, z: np.ndarray) -> np.ndarray:
        return z @ self.coef + self.intercept

    def _weights(self) -> dict[str, Any]:
        return tensors({"coef": self.coef, "intercept": self.intercept})

    def _restore(self, weights: Mapping[str, Any] | None, path: Path) -> None:
        shapes = {"coef": (self.in_dim, self.out_dim), "intercept": (self.out_dim,)}
        a = stored_arrays(weights, shapes, path)
        self.coef, self.intercept = a["coef"], a["intercept"]
