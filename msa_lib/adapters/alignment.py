"""Distribution alignment without pairs: ``coral`` and ``ot``.

Both standardise each set and reduce it to ``components`` principal components (scikit-learn's
PCA, one per set), align the source components with the target's, and map the result back
through the target's PCA:

- ``coral``: the Gaussian (linear) optimal-transport map of POT (``ot.da.LinearTransport``), which
  matches means and covariances (CORAL's second-moment match);
- ``ot``: an entropic optimal-transport plan (``ot.da.SinkhornTransport``) on at most
  ``ot_max_samples`` rows of each set and its barycentric mapping, out of sample by POT's
  nearest-neighbour rule.

The transport is rebuilt from stored arrays, so a saved adapter needs no pickle.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from msa_lib.adapters.base import Adapter, AdapterError, register, stored_arrays, tensors

PCA_ARRAYS = ("src_pca", "src_pca_mean", "tgt_pca", "tgt_pca_mean")


class AlignmentAdapter(Adapter):
    """PCA of each set, an alignment of the components (a subclass's), PCA back."""

    transport_arrays: ClassVar[tuple[str, ...]]  # what the alignment keeps beside the PCAs
    arrays: dict[str, np.ndarray]

    def _fit(self, zs: np.ndarray, zt: np.ndarray) -> None:
        from sklearn.decomposition import PCA

        k = min(self.config.components, zs.shape[1], zt.shape[1])
        for name, z in (("source", zs), ("target", zt)):
            if len(z) < k + 1:
                raise AdapterError(
                    f"{self.kind}: the {name} set has {len(z)} rows; a covariance of {k} principal "
                    f"components needs at least {k + 1} (lower components or add rows)"
                )
        ps = PCA(n_components=k, random_state=self.config.seed).fit(zs)
        pt = PCA(n_components=k, random_state=self.config.seed).fit(zt)
        self.arrays = {
            "src_pca": ps.components_,
            "src_pca_mean": ps.mean_,
            "tgt_pca": pt.components_,
            "tgt_pca_mean": pt.mean_,
        }
        self.arrays.update(self._align(ps.transform(zs), pt.transform(zt)))

    @abstractmethod
    def _align(self, cs: np.ndarray, ct: np.ndarray) -> dict[str, np.ndarray]:
        """The transport's arrays from source and target principal components."""

    @abstractmethod
    def _transport(self) -> Any:
        """A POT transport object rebuilt from the stored arrays."""

    def _map(self, z: np.ndarray) -> np.ndarray:
        a = self.arrays
        pcs = (z - a["src_pca_mean"]) @ a["src_pca"].T
        mapped = self._transport().transform(Xs=pcs)
        return mapped @ a["tgt_pca"] + a["tgt_pca_mean"]

    def _weights(self) -> dict[str, Any]:
        return tensors(self.arrays)

    def _restore(self, weights: Mapping[str, Any] | None, path: Path) -> None:
        shapes: dict[str, tuple[int, ...] | None] = {
            "src_pca_mean": (self.in_dim,),
            "tgt_pca_mean": (self.out_dim,),
        }
        shapes.update({n: None for n in (*PCA_ARRAYS, *self.transport_arrays) if n not in shapes})
        a = stored_arrays(weights, shapes, path)
        k = a["src_pca"].shape[0]
        if a["src_pca"].shape != (k, self.in_dim) or a["tgt_pca"].shape != (k, self.out_dim):
            raise AdapterError(
                f"{path}: PCA matrices {a['src_pca'].shape} and {a['tgt_pca'].shape} do not fit "
                f"a {self.in_dim}-d -> {self.out_dim}-d adapter"
            )
        self.arrays = a


@register
class CoralAdapter(AlignmentAdapter):
    """Means and covariances matched in principal components (POT's linear Gaussian transport)."""

    kind = "coral"
    transport_arrays = ("A", "B")

    def _align(self, cs: np.ndarray, ct: np.ndarray) -> dict[str, np.ndarray]:
        import ot

        lt = ot.da.LinearTransport(reg=1e-6).fit(Xs=cs, Xt=ct)
        return {"A": np.asarray(lt.A_), "B": np.atleast_2d(np.asarray(lt.B_))}

    def _transport(self) -> Any:
        import ot

        a = self.arrays
        lt = ot.da.LinearTransport()
        lt.A_, lt.B_, lt.nx = a["A"], a["B"], ot.backend.get_backend(a["A"])
        return lt


@register
class OTAdapter(AlignmentAdapter):
    """An entropic optimal-transport plan in principal components and its barycentric mapping."""

    kind = "ot"
    transport_arrays = ("ot_xs", "ot_xt", "ot_coupling")

    def _align(self, cs: np.ndarray, ct: np.ndarray) -> dict[str, np.ndarray]:
        import ot

        rng = np.random.default_rng(self.config.seed)
        cs = cs[rng.permutation(len(cs))[: self.config.ot_max_samples]]
        ct = ct[rng.permutation(len(ct))[: self.config.ot_max_samples]]
        st = ot.da.SinkhornTransport(
            reg_e=self.config.ot_reg, norm="median", out_of_sample_map="ferradans"
        ).fit(Xs=cs, Xt=ct)
        return {"ot_xs": cs, "ot_xt": ct, "ot_coupling": np.asarray(st.coupling_)}

    def _transport(self) -> Any:
        import ot

        a = self.arrays
        st = ot.da.SinkhornTransport(out_of_sample_map="ferradans")
        st.xs_, st.xt_, st.coupling_ = a["ot_xs"], a["ot_xt"], a["ot_coupling"]
        st.nx = ot.backend.get_backend(a["ot_xs"])
        return st
