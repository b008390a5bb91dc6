"""Feature adapters: map vectors of a new extractor into the space a model was trained on.

Words used throughout: the **source** features are the ones an adapter maps (a new extractor's,
e.g. MiniLM 384-d on MOSI); the **target** features live in the space to map into (the model's,
e.g. GloVe 300-d on MOSEI). One interface for every kind (:func:`fit_adapter`, then
:meth:`Adapter.transform`, :meth:`Adapter.save` / :meth:`Adapter.load`):

- ``paper``: the paper's MLP (§3.6.2; in -> h -> h -> out, Linear-BatchNorm-ReLU-Dropout(0.3)
  blocks, MSE, batch 16, Adam 1e-3, 30 epochs) trained, as published, on
  ``n_target_samples`` (1000) target vectors drawn at random and paired with randomly drawn source
  vectors. Such pairs carry no information about the input, so the MSE optimum is the target mean.
- ``paired-mlp``: the same network trained on true pairs (one segment seen by both extractors);
- ``paired-ridge``: a multi-output ridge on the same pairs (penalty by generalised CV on the pairs);
- ``coral``: no pairs. Both sets are standardised and reduced to ``components`` principal
  components; the Gaussian (linear) optimal-transport map of POT (``ot.da.LinearTransport``)
  aligns their means and covariances (CORAL's second-moment match); the result is mapped back
  through the target's PCA;
- ``ot``: no pairs. The same PCA spaces, an entropic optimal-transport plan
  (``ot.da.SinkhornTransport``) and its barycentric mapping, out of sample by POT's
  nearest-neighbour rule.

Choices the paper does not state, made here: every kind standardises its inputs and outputs with
the training rows' mean and standard deviation (the MLP is trained on standardised vectors and its
outputs are mapped back); the paper's MLP keeps its last epoch (no selection).

:func:`adabn` is test-time BatchNorm adaptation (AdaBN): a copy of a trained model whose BatchNorm
running statistics are re-estimated on unlabelled target inputs; no weight changes.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from msa_lib.config import ADAPTER_KINDS as KINDS
from msa_lib.config import PAIRED_ADAPTER_KINDS as PAIRED_KINDS
from msa_lib.config import AdapterConfig, TrainConfig, config_from_dict
from msa_lib.data.featureset import FeatureSet
from msa_lib.evaluate import spread_ratio
from msa_lib.io.atomic import atomic_path
from msa_lib.models.adapter import AdapterMLP

CHECKPOINT_FORMAT = "msa-adapter"
# The paper's hidden widths per modality (§3.6.2): 65->512->512->713, 74->256->256->74, text 384.
PAPER_HIDDEN = {"visual": 512, "audio": 256, "text": 384}


class AdapterError(ValueError):
    """Adapter input that cannot be used: wrong width, no pairs, too few rows."""


# ----------------------------------------------------------------- the paper's network


# ----------------------------------------------------------------- checks
def _as_matrix(x: np.ndarray, what: str, width: int | None = None) -> np.ndarray:
    """``x`` as a finite float64 matrix (of ``width`` columns when given), or an AdapterError."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise AdapterError(f"{what}: expected a 2-d array [rows, features], got shape {a.shape}")
    if width is not None and a.shape[1] != width:
        raise AdapterError(f"{what}: the adapter expects {width}-d features, got {a.shape[1]}-d")
    if not np.isfinite(a).all():
        bad = int((~np.isfinite(a)).any(axis=1).sum())
        raise AdapterError(f"{what}: {bad} rows have NaN or infinite values; drop them first")
    if len(a) == 0:
        raise AdapterError(f"{what}: no rows")
    return a


def pair_rows(
    source_ids: Sequence[str], target_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the segment ids present in both sets (in source order), or an AdapterError."""
    s = np.asarray(source_ids).astype(str)
    t = np.asarray(target_ids).astype(str)
    for name, ids in (("source", s), ("target", t)):
        if len(np.unique(ids)) != len(ids):
            raise AdapterError(f"paired training: the {name} segment ids are not unique")
    where = {v: i for i, v in enumerate(t)}
    si = np.array([i for i, v in enumerate(s) if v in where], dtype=int)
    if len(si) == 0:
        raise AdapterError(
            f"paired training: no segment id is in both sets ({len(s)} source ids, e.g. "
            f"{list(s[:2])}; {len(t)} target ids, e.g. {list(t[:2])}); pairs need both "
            "extractors run on the same segments"
        )
    return si, np.array([where[v] for v in s[si]], dtype=int)


@dataclass
class _Scale:
    """Column mean and standard deviation (1 where a column is constant)."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> _Scale:
        std = x.std(axis=0)
        return cls(x.mean(axis=0), np.where(std > 0, std, 1.0))

    def to(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std

    def back(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean


# ----------------------------------------------------------------- the adapter
@dataclass
class Adapter:
    """A fitted adapter of one kind: ``transform`` maps source vectors into the target space."""

    kind: str
    config: AdapterConfig
    in_dim: int
    out_dim: int
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # scalers, PCA, maps
    mlp: AdapterMLP | None = None
    info: dict[str, float] = field(default_factory=dict)  # n pairs, chosen penalty, ...

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Source vectors ``[n, in_dim]`` mapped to ``[n, out_dim]`` target-space vectors."""
        x = _as_matrix(x, f"{self.kind} adapter input", self.in_dim)
        a = self.arrays
        z = (x - a["src_mean"]) / a["src_std"]
        if self.kind in ("paper", "paired-mlp"):
            assert self.mlp is not None
            self.mlp.eval()
            with torch.no_grad():
                out = self.mlp(torch.from_numpy(z.astype(np.float32))).numpy().astype(np.float64)
        elif self.kind == "paired-ridge":
            out = z @ a["coef"] + a["intercept"]
        else:
            pcs = (z - a["src_pca_mean"]) @ a["src_pca"].T
            mapped = _pot_map(self.kind, a).transform(Xs=pcs)
            out = mapped @ a["tgt_pca"] + a["tgt_pca_mean"]
        return out * a["tgt_std"] + a["tgt_mean"]

    def save(self, path: str | os.PathLike) -> Path:
        """Kind, config, widths, arrays and weights in one file, written atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        blob = {
            "format": CHECKPOINT_FORMAT,
            "kind": self.kind,
            "config": dataclasses.asdict(self.config),
            "in_dim": self.in_dim,
            "out_dim": self.out_dim,
            "arrays": {
                k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in self.arrays.items()
            },
            "state_dict": self.mlp.state_dict() if self.mlp is not None else None,
            "info": dict(self.info),
        }
        with atomic_path(path) as tmp:
            torch.save(blob, tmp)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Adapter:
        """Read an adapter written by :meth:`save`; a defect is one AdapterError naming the file."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: adapter file not found")
        try:
            blob = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            first = str(exc).strip().split(". ")[0].splitlines()[0] if str(exc).strip() else ""
            raise AdapterError(f"{path}: not a readable adapter file ({first})") from exc
        if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
            raise AdapterError(f"{path}: not an msa adapter file (no format '{CHECKPOINT_FORMAT}')")
        if blob.get("kind") not in KINDS:
            raise AdapterError(f"{path}: unknown adapter kind {blob.get('kind')!r}")
        config = config_from_dict(AdapterConfig, blob["config"], f"{path} [config]")
        adapter = cls(
            kind=blob["kind"],
            config=config,
            in_dim=int(blob["in_dim"]),
            out_dim=int(blob["out_dim"]),
            arrays={k: v.numpy() for k, v in blob["arrays"].items()},
            info=dict(blob["info"]),
        )
        if blob["state_dict"] is not None:
            adapter.mlp = AdapterMLP(adapter.in_dim, adapter.out_dim, config.hidden, config.dropout)
            try:
                adapter.mlp.load_state_dict(blob["state_dict"])
            except RuntimeError as exc:
                first = str(exc).strip().splitlines()[0]
                raise AdapterError(f"{path}: weights do not fit the adapter ({first})") from exc
            adapter.mlp.eval()
        return adapter


# ----------------------------------------------------------------- fitting
def fit_adapter(
    kind: str,
    source: np.ndarray,
    target: np.ndarray,
    config: AdapterConfig = AdapterConfig(),
    source_ids: Sequence[str] | None = None,
    target_ids: Sequence[str] | None = None,
    num_threads: int | None = 1,
) -> Adapter:
    """Fit an adapter of ``kind`` mapping ``source`` rows into ``target``'s space.

    Paired kinds use only the segments whose id is in both ``source_ids`` and ``target_ids``
    (row order does not matter); the other kinds ignore ids and treat the sets as unpaired.
    """
    if kind not in KINDS:
        raise AdapterError(f"unknown adapter kind {kind!r}; known kinds are {list(KINDS)}")
    xs = _as_matrix(source, "source features")
    xt = _as_matrix(target, "target features")
    info: dict[str, float] = {}
    if kind in PAIRED_KINDS:
        if source_ids is None or target_ids is None:
            raise AdapterError(f"{kind}: paired training needs the segment ids of both sets")
        if len(source_ids) != len(xs) or len(target_ids) != len(xt):
            raise AdapterError(
                f"{kind}: {len(source_ids)} source ids for {len(xs)} rows, "
                f"{len(target_ids)} target ids for {len(xt)} rows"
            )
        si, ti = pair_rows(source_ids, target_ids)
        xs, xt = xs[si], xt[ti]
        info["n_pairs"] = float(len(si))
    s_scale, t_scale = _Scale.fit(xs), _Scale.fit(xt)
    arrays = {
        "src_mean": s_scale.mean,
        "src_std": s_scale.std,
        "tgt_mean": t_scale.mean,
        "tgt_std": t_scale.std,
    }
    zs, zt = s_scale.to(xs), t_scale.to(xt)
    adapter = Adapter(kind, config, xs.shape[1], xt.shape[1], arrays, info=info)
    if kind == "paper":
        zs, zt = _random_pairs(zs, zt, config)
        info["n_pairs"] = float(len(zs))
        adapter.mlp = _train_mlp(zs, zt, config, num_threads)
    elif kind == "paired-mlp":
        adapter.mlp = _train_mlp(zs, zt, config, num_threads)
    elif kind == "paired-ridge":
        from sklearn.linear_model import RidgeCV

        ridge = RidgeCV(alphas=config.ridge_alphas).fit(zs, zt)
        arrays["coef"], arrays["intercept"] = ridge.coef_.T.copy(), np.atleast_1d(ridge.intercept_)
        info["alpha"] = float(ridge.alpha_)
    else:
        arrays.update(_fit_alignment(kind, zs, zt, config))
    return adapter


def _random_pairs(
    zs: np.ndarray, zt: np.ndarray, config: AdapterConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The paper's training set: ``n_target_samples`` random target rows, each with a random source row."""
    rng = np.random.default_rng(config.seed)
    n = config.n_target_samples
    ti = rng.choice(len(zt), size=n, replace=n > len(zt))
    si = rng.choice(len(zs), size=n, replace=n > len(zs))
    return zs[si], zt[ti]


def _train_mlp(
    zs: np.ndarray, zt: np.ndarray, config: AdapterConfig, num_threads: int | None
) -> AdapterMLP:
    """The paper's recipe through the generic loop: MSE, Adam, fixed epochs, the last epoch kept."""
    from msa_lib.train.loop import train_loop

    if len(zs) < config.batch_size:
        raise AdapterError(
            f"adapter training: {len(zs)} pairs, fewer than one batch ({config.batch_size})"
        )
    recipe = TrainConfig(
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=0.0,
        max_epochs=config.epochs,
        patience=config.epochs,
        seed=config.seed,
        num_threads=num_threads,
    )
    epoch = {"n": 0}

    def batch_loss(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        xb, yb = batch
        return nn.functional.mse_loss(model(xb), yb)

    def last_epoch(model: nn.Module) -> tuple[float, dict[str, float]]:
        epoch["n"] += 1  # a rising score: the loop keeps the last epoch, as the paper does
        return float(epoch["n"]), {}

    in_dim, out_dim = zs.shape[1], zt.shape[1]
    result = train_loop(
        lambda: AdapterMLP(in_dim, out_dim, config.hidden, config.dropout),
        (torch.from_numpy(zs.astype(np.float32)), torch.from_numpy(zt.astype(np.float32))),
        batch_loss,
        last_epoch,
        recipe,
        progress=False,
        desc="adapter",
    )
    return result.model


def _fit_alignment(
    kind: str, zs: np.ndarray, zt: np.ndarray, config: AdapterConfig
) -> dict[str, np.ndarray]:
    """PCA of each standardised set to ``components`` dims, then POT's linear or Sinkhorn map."""
    from sklearn.decomposition import PCA

    k = min(config.components, zs.shape[1], zt.shape[1])
    for name, z in (("source", zs), ("target", zt)):
        if len(z) < k + 1:
            raise AdapterError(
                f"{kind}: the {name} set has {len(z)} rows; a covariance of {k} principal "
                f"components needs at least {k + 1} (lower components or add rows)"
            )
    ps = PCA(n_components=k, random_state=config.seed).fit(zs)
    pt = PCA(n_components=k, random_state=config.seed).fit(zt)
    out = {
        "src_pca": ps.components_,
        "src_pca_mean": ps.mean_,
        "tgt_pca": pt.components_,
        "tgt_pca_mean": pt.mean_,
    }
    cs, ct = ps.transform(zs), pt.transform(zt)
    if kind == "coral":
        import ot

        lt = ot.da.LinearTransport(reg=1e-6).fit(Xs=cs, Xt=ct)
        out["A"], out["B"] = np.asarray(lt.A_), np.atleast_2d(np.asarray(lt.B_))
        return out
    import ot

    rng = np.random.default_rng(config.seed)
    cs = cs[rng.permutation(len(cs))[: config.ot_max_samples]]
    ct = ct[rng.permutation(len(ct))[: config.ot_max_samples]]
    st = ot.da.SinkhornTransport(
        reg_e=config.ot_reg, norm="median", out_of_sample_map="ferradans"
    ).fit(Xs=cs, Xt=ct)
    out["ot_xs"], out["ot_xt"] = cs, ct
    out["ot_coupling"] = np.asarray(st.coupling_)
    return out


def _pot_map(kind: str, a: dict[str, np.ndarray]):
    """A POT transport object rebuilt from stored arrays (so a saved adapter needs no pickle)."""
    import ot

    if kind == "coral":
        lt = ot.da.LinearTransport()
        lt.A_, lt.B_, lt.nx = a["A"], a["B"], ot.backend.get_backend(a["A"])
        return lt
    st = ot.da.SinkhornTransport(out_of_sample_map="ferradans")
    st.xs_, st.xt_, st.coupling_ = a["ot_xs"], a["ot_xt"], a["ot_coupling"]
    st.nx = ot.backend.get_backend(a["ot_xs"])
    return st


# ----------------------------------------------------------------- diagnostics
def reconstruction(mapped: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Per-row MSE and cosine of mapped vectors to the true vectors of the same segments (means)."""
    m = np.asarray(mapped, float)
    t = np.asarray(truth, float)
    cos = (m * t).sum(1) / (np.linalg.norm(m, axis=1) * np.linalg.norm(t, axis=1) + 1e-12)
    return {"mse": float(((m - t) ** 2).mean()), "cosine": float(cos.mean())}


# ----------------------------------------------------------------- AdaBN
def adabn(model: nn.Module, batches: Sequence[object], forward=None) -> nn.Module:
    """A copy of ``model`` whose BatchNorm running statistics are re-estimated on ``batches``.

    Each BatchNorm layer's statistics are reset and accumulated as a plain average over the
    batches (momentum None); every other layer stays in evaluation mode (no dropout) and no weight
    changes. ``forward(model, batch)`` runs one batch (default: ``model(batch)``).
    """
    if not batches:
        raise AdapterError("AdaBN needs at least one batch of target inputs")
    forward = forward or (lambda m, b: m(b))
    out = copy.deepcopy(model)
    norms = [m for m in out.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise AdapterError("AdaBN: the model has no BatchNorm layer")
    out.eval()
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None
        bn.train()
    with torch.no_grad():
        for b in batches:
            forward(out, b)
    for bn in norms:
        bn.momentum = 0.1
    out.eval()
    return out


def adabn_fusion(trained, fs, chunk: int = 4096):
    """A copy of a :class:`~msa_lib.train.fusion.TrainedModel` with AdaBN on ``fs``'s segments.

    Inputs are standardised with the model's own training scaler, as at prediction time; a
    missing modality gets the training mean, as in :func:`~msa_lib.train.fusion.predict`.
    """
    from msa_lib.train.inputs import check_featureset, input_tensor, split_inputs

    check_featureset(fs, trained.modalities, "AdaBN", trained.dims)
    x, cols = input_tensor(trained.scaler, fs, trained.modalities)
    if len(x) < 2:
        raise AdapterError(f"AdaBN needs at least 2 target segments, got {len(x)}")
    batches = [x[i : i + chunk] for i in range(0, len(x), chunk) if len(x[i : i + chunk]) >= 2]
    model = adabn(trained.model, batches, lambda m, b: m(split_inputs(b, cols)))
    return dataclasses.replace(trained, model=model)


# ----------------------------------------------------------------- quality where the truth is known
def paired_featureset(
    source: FeatureSet, target: FeatureSet, modality: str = "text", corpus: str = ""
) -> FeatureSet:
    """One FeatureSet with modalities ``source`` and ``target``: the segments both sets have, no NaN row.

    Ids, videos, labels and folds come from ``target`` (for the bc-LSTM features: their own split).
    """
    si, ti = pair_rows(source.segment_id, target.segment_id)
    xs, xt = source.features[modality][si], target.features[modality][ti]
    ok = np.isfinite(xs).all(axis=1) & np.isfinite(xt).all(axis=1)
    t = target.take(ti[ok])
    return FeatureSet(
        segment_id=t.segment_id,
        video_id=t.video_id,
        split=t.split,
        label=t.label,
        features={"source": xs[ok], "target": xt[ok]},
        corpus=corpus or t.corpus,
        source=t.source,
    )


def adapter_quality(
    splits: Mapping[str, FeatureSet],
    kinds: Sequence[str] = KINDS,
    seeds: Sequence[int] = (0,),
    config: AdapterConfig = AdapterConfig(),
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Each adapter kind fitted on train, scored on test against the true target vectors.

    ``splits`` (train/valid/test) hold modalities ``source`` and ``target`` for the same segments
    (:func:`paired_featureset`). A ridge trained on the true ``target`` features (penalty chosen on
    valid) is the sentiment model; it scores the true test vectors (``truth``), the training mean
    vector for every segment (``target mean``), and each adapter's outputs. Paired kinds learn from
    the train pairs; the others see the train sets unpaired. Returns one row per kind and seed, and
    the first seed's mapped test vectors per kind (for plots).
    """
    from msa_lib.train.baselines import fit_ridge

    train, test = splits["train"], splits["test"]
    ridge = fit_ridge(train, splits["valid"], ["target"])
    truth = test.features["target"]

    def score(kind: str, seed: int, mapped: np.ndarray) -> dict:
        fs = dataclasses.replace(test, features={"target": mapped.astype(np.float32)})
        down = ridge.score(fs)
        return {
            "adapter": kind,
            "seed": seed,
            **reconstruction(mapped, truth),
            "spread": spread_ratio(mapped, truth),
            **{k: down[k] for k in ("r", "mae", "acc2_non0", "f1_non0")},
            "n": down["n"],
        }

    rows = [score("truth", 0, truth)]
    mean = np.repeat(train.features["target"].mean(axis=0, keepdims=True), len(test), axis=0)
    rows.append(score("target mean", 0, mean))
    mapped_first: dict[str, np.ndarray] = {"truth": truth}
    for kind in kinds:
        for seed in seeds:
            ad = fit_adapter(
                kind,
                train.features["source"],
                train.features["target"],
                dataclasses.replace(config, seed=seed),
                train.segment_id,
                train.segment_id,
            )
            mapped = ad.transform(test.features["source"])
            rows.append(score(kind, seed, mapped))
            mapped_first.setdefault(kind, mapped)
    out = pd.DataFrame(rows)
    out["alpha"] = ridge.alpha
    return out, mapped_first
