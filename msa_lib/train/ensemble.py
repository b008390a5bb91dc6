"""The seeds of one configuration trained together, as one batched ensemble.

:func:`fit_seeds` does what ``[fit(..., seed=s) for s in seeds]`` does at a fraction of the cost:
the K members are one :class:`~msa_lib.models.FusionEnsemble` (stacked weights, batched
matmuls), so each step is one forward, one backward, one loss call and one optimizer call for all
of them instead of K small ones. Every member keeps what a separate run has, drawn from its own
seed:

- **initial weights**: member ``i`` is built by the same factory under ``seeded(seeds[i])``, so
  its initial weights are those of the separate run;
- **dropout masks**: drawn from a generator per member that continues torch's RNG state where that
  member's construction left it; all of a pass's masks at once (float32 uniforms), so they are
  not the masks a lone ``nn.Dropout`` draws;
- **data order**: its own shuffling generator, seeded like the separate run's, so member ``i`` sees
  the batches of run ``i`` in the same order; its loss is computed on its own batch (the
  correlation loss is a per-batch quantity), every member's in one call over a member axis;
- **optimizer**: Adam is per element, so one fused Adam over stacked parameters is K Adams; weight
  decay is per element too and there is no gradient clipping, so nothing couples members. The
  learning rate is per member (:class:`MemberAdam`), lowered on a plateau of that member's
  validation r by torch's rule (:class:`Plateau`);
- **selection**: per-member validation r, early stopping and best state. A member that stops is
  removed from the ensemble; training ends when every member has stopped.

What this promises is reproducibility, not bit-equality with separate runs: the same seeds and
settings on the same machine give the same ensemble to the bit, and a member draws from its own
seed only: trained beside other seeds or alone, it starts as the same run, and the two part only
by float rounding (batched kernels round by the members' count), which a long training can grow
into another draw. Its
dropout masks and its loss's reductions are not those of a separate run, so a member is another
draw of the same training, statistically equivalent to a separate run: the tests hold seed-mean
test metrics of the two ways within a bootstrap interval of each other, and without dropout the
two ways give the same runs up to float rounding.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from msa_lib.config import LossConfig, ModelConfig, TrainConfig
from msa_lib.data.featureset import FeatureSet
from msa_lib.losses import compute_loss
from msa_lib.models.ensemble import FusionEnsemble, MemberRNG
from msa_lib.models.fusion import FusionModel, FusionOutput
from msa_lib.train.fusion import TrainedModel, prepare, trained_model, validation_scores
from msa_lib.train.loop import Batch, LoopResult, seeded, torch_threads

EnsembleLoss = Callable[[FusionEnsemble, Batch], torch.Tensor]  # -> one loss per member, [K]
EnsembleValidator = Callable[[FusionEnsemble], list[tuple[float, dict[str, float]]]]


def global_rng_generator() -> torch.Generator:
    """A generator in the state of torch's global CPU RNG now (it continues that stream)."""
    gen = torch.Generator()
    gen.set_state(torch.get_rng_state())
    return gen


class MemberAdam:
    """Adam over stacked ``[K, ...]`` parameters with one learning rate per member.

    The update is torch's fused Adam kernel (what ``torch.optim.Adam(fused=True)``, and so
    :func:`msa_lib.train.loop.adam`, runs): one call for all members while their learning rates
    agree, one call per learning rate on its members' slices once they differ.
    """

    def __init__(self, params: Sequence[torch.Tensor], config: TrainConfig, k: int) -> None:
        self.weight_decay = config.weight_decay
        self.lrs = [config.lr] * k
        self.steps = 0
        self._bind(list(params), None, None)

    def _bind(self, params: list, exp_avg: list | None, exp_avg_sq: list | None) -> None:
        """Hold ``params`` and their moments, and each member's slices of them."""
        self.params = params
        self.exp_avg = exp_avg or [torch.zeros_like(p) for p in params]
        self.exp_avg_sq = exp_avg_sq or [torch.zeros_like(p) for p in params]
        with torch.no_grad():  # each member's slices, for the calls of one member (or a few)
            self._per_member = [
                tuple([t[i] for t in ts] for ts in (self.params, self.exp_avg, self.exp_avg_sq))
                for i in range(len(self.lrs))
            ]

    def zero_grad(self) -> None:
        """Drop every gradient (``set_to_none``)."""
        for p in self.params:
            p.grad = None

    def _members(self, grads: list, members: list[int]) -> tuple[list, list, list, list]:
        """The same for some members: their slices of every tensor, in one list per kind."""
        per_grad = list(zip(*(g.unbind(0) for g in grads), strict=True))  # [member][param]
        out: tuple[list, list, list, list] = ([], [], [], [])
        for i in members:
            params, avg, avg_sq = self._per_member[i]
            for dest, part in zip(out, (params, per_grad[i], avg, avg_sq), strict=True):
                dest.extend(part)
        return out

    def _adam(self, tensors: tuple[list, list, list, list], lr: float) -> None:
        """One fused Adam update of these tensors at step ``self.steps + 1``.

        ``torch._fused_adam_`` is the kernel ``torch.optim.Adam(fused=True)`` calls, after adding
        1 to a step tensor per parameter; here one step tensor serves every parameter.
        """
        params, grads, avg, avg_sq = tensors
        step = torch.tensor(float(self.steps + 1))
        torch._fused_adam_(
            params,
            grads,
            avg,
            avg_sq,
            [],
            [step] * len(params),
            lr=lr,
            beta1=0.9,
            beta2=0.999,
            weight_decay=self.weight_decay,
            eps=1e-8,
            amsgrad=False,
            maximize=False,
        )

    @torch.no_grad()
    def step(self) -> None:
        """Update every member with its own learning rate."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params]
        groups: dict[float, list[int]] = {}
        for i, lr in enumerate(self.lrs):
            groups.setdefault(lr, []).append(i)
        if len(groups) == 1:
            self._adam((self.params, grads, self.exp_avg, self.exp_avg_sq), self.lrs[0])
        else:  # one call per learning rate, on the slices of the members that have it
            for lr, members in groups.items():
                self._adam(self._members(grads, members), lr)
        self.steps += 1

    def select(self, keep: Sequence[int], params: Sequence[torch.Tensor]) -> None:
        """Keep the state of members ``keep``, now the parameters ``params`` (in the same order)."""
        idx = torch.tensor(list(keep), dtype=torch.long)
        self.lrs = [self.lrs[i] for i in keep]
        self._bind(
            list(params),
            [m.index_select(0, idx) for m in self.exp_avg],
            [v.index_select(0, idx) for v in self.exp_avg_sq],
        )


@dataclasses.dataclass
class Plateau:
    """torch's ``ReduceLROnPlateau`` (mode max) for one member's learning rate, without an optimizer.

    The rule is torch's, with its defaults: a score is better when it exceeds the best by more
    than a relative 1e-4; after more than ``patience`` epochs without a better one the rate is
    multiplied by ``factor`` (if that changes it by more than 1e-8). torch's own class needs an
    ``Optimizer``, whose first construction in a process imports ``torch._dynamo`` (seconds).
    """

    lr: float
    factor: float
    patience: int
    threshold: float = 1e-4
    eps: float = 1e-8
    best: float = -np.inf
    bad_epochs: int = 0

    def step(self, score: float) -> None:
        """Record an epoch's score; lower the learning rate after a plateau."""
        if score > self.best * (1.0 + self.threshold):
            self.best, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        if self.bad_epochs > self.patience:
            new_lr = self.lr * self.factor
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.bad_epochs = 0


@dataclasses.dataclass
class _Member:
    """Book-keeping of one member: its seed, data order, scheduler, best state and history."""

    seed: int
    order: torch.Generator
    scheduler: Plateau
    best_score: float = -np.inf
    best_epoch: int = 0
    best_logged: dict[str, float] = dataclasses.field(default_factory=dict)
    best_state: dict[str, torch.Tensor] | None = None
    rows: list[dict] = dataclasses.field(default_factory=list)
    train_loss: float = 0.0
    seen: int = 0


def train_ensemble(
    factory: Callable[[], FusionModel],
    seeds: Sequence[int],
    train_data: Sequence[torch.Tensor],
    batch_loss: EnsembleLoss,
    validate: EnsembleValidator,
    config: TrainConfig,
    progress: bool = True,
    desc: str = "ensemble",
) -> list[LoopResult]:
    """:func:`~msa_lib.train.loop.train_loop` for every seed at once; one result per seed, in order.

    ``train_data`` holds tensors with one row per training example; member ``i``'s mini-batch is
    rows ``perm_i[start:start + batch_size]`` of each, stacked into ``[K, B, ...]``. ``batch_loss``
    returns each member's loss on its own batch (``[K]``); ``validate`` one ``(score, logged)`` per
    member. ``config.seed`` is ignored: the seeds are ``seeds``.
    """
    seeds = list(seeds)
    if not seeds:
        raise ValueError("train_ensemble needs at least one seed")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"train_ensemble: seeds repeat ({seeds})")
    tensors = tuple(train_data)
    if not tensors:
        raise ValueError("train_ensemble needs at least one training tensor")
    n = len(tensors[0])
    if any(len(t) != n for t in tensors):
        raise ValueError(f"training tensors differ in length: {[len(t) for t in tensors]}")
    with torch_threads(config.num_threads):
        models, gens = [], []
        for s in seeds:
            with seeded(s):  # as train_loop builds a separate run's model
                models.append(factory())
                gens.append(global_rng_generator())  # that run's dropout stream from here on
        ens = FusionEnsemble.from_members(models)
        ens.set_rng(MemberRNG(gens))
        members = [
            _Member(
                s,
                torch.Generator().manual_seed(s),
                Plateau(config.lr, config.plateau_factor, config.plateau_patience),
            )
            for s in seeds
        ]
        _epochs(ens, members, tensors, n, batch_loss, validate, config, progress, desc)
    return [_result(m, models[i]) for i, m in enumerate(members)]


def _epochs(
    ens: FusionEnsemble,
    members: list[_Member],
    tensors: Batch,
    n: int,
    batch_loss: EnsembleLoss,
    validate: EnsembleValidator,
    cfg: TrainConfig,
    progress: bool,
    desc: str,
) -> None:
    """The epochs: every active member one step per batch; stopped members leave the ensemble."""
    opt = MemberAdam(ens.parameters(), cfg, len(members))
    active = list(members)
    bar = tqdm(range(1, cfg.max_epochs + 1), desc=desc, disable=not progress, leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        ens.train()
        perms = torch.stack([torch.randperm(n, generator=m.order) for m in active])
        for m in active:
            m.train_loss, m.seen = 0.0, 0
        for start in range(0, n, cfg.batch_size):
            idx = perms[:, start : start + cfg.batch_size]
            if idx.shape[1] < cfg.min_batch:
                continue
            losses = batch_loss(ens, tuple(t[idx] for t in tensors))
            opt.zero_grad()
            losses.sum().backward()  # member i's weights get the gradient of its own loss only
            opt.step()
            for m, v in zip(active, losses.detach().tolist(), strict=True):
                m.train_loss += v * idx.shape[1]
                m.seen += idx.shape[1]
        scores = validate(ens)
        seconds = (time.perf_counter() - t0) / len(active)  # each member's share of the epoch
        keep = []
        for j, (m, (score, logged)) in enumerate(zip(active, scores, strict=True)):
            if not np.isfinite(score):
                raise ValueError(
                    f"{desc}: the validation score of epoch {epoch} (seed {m.seed}) is {score}; "
                    "the scorer must return a finite number to select a model"
                )
            m.rows.append(
                {
                    "epoch": epoch,
                    "lr": opt.lrs[j],
                    "train_loss": m.train_loss / max(m.seen, 1),
                    **logged,
                    "seconds": seconds,
                }
            )
            m.scheduler.step(score)
            opt.lrs[j] = m.scheduler.lr
            if score > m.best_score:
                m.best_score, m.best_epoch, m.best_logged = score, epoch, dict(logged)
                m.best_state = ens.member_state(j)
            if epoch - m.best_epoch < cfg.patience:
                keep.append(j)
        bar.set_postfix(active=len(keep))
        if not keep:
            break
        if len(keep) < len(active):  # the stopped members leave: later steps cost less
            ens = ens.select(keep)
            opt.select(keep, ens.parameters())
            active = [active[j] for j in keep]


def _result(member: _Member, model: FusionModel) -> LoopResult:
    """A member's outcome as :func:`train_loop` reports it (its model holds the best state)."""
    model.load_state_dict(member.best_state)
    model.eval()
    history = pd.DataFrame(member.rows)
    history["best"] = history["epoch"] == member.best_epoch
    return LoopResult(
        model, member.best_epoch, float(member.best_score), member.best_logged, history
    )


@torch.no_grad()
def ensemble_outputs(
    ens: FusionEnsemble, x: dict[str, torch.Tensor], chunk: int = 8192
) -> FusionOutput:
    """Evaluation-mode outputs of every member for the same rows ``x`` (``[K, n]``), in chunks."""
    ens.eval()
    n = len(next(iter(x.values())))
    parts = [ens({m: v[i : i + chunk] for m, v in x.items()}) for i in range(0, n, chunk)]
    logits = None if parts[0].logits is None else torch.cat([p.logits for p in parts], dim=1)
    return FusionOutput(torch.cat([p.score for p in parts], dim=1), logits)


def fit_seeds(
    model_config: ModelConfig,
    train_config: TrainConfig,
    train_fs: FeatureSet,
    valid_fs: FeatureSet,
    seeds: Sequence[int],
    loss_config: LossConfig = LossConfig(),
    modalities: Sequence[str] | None = None,
    progress: bool = True,
    desc: str = "ensemble",
) -> list[tuple[TrainedModel, pd.DataFrame]]:
    """:func:`~msa_lib.train.fit` for each seed (``train_config.seed`` replaced), trained together.

    The same checks, scaler, model and recipe as ``[fit(..., replace(train_config, seed=s), ...)
    for s in seeds]``, each seed's initial weights and data order; its own dropout masks (see the
    module's docstring). Reproducible to the bit with itself.
    """
    prep = prepare(model_config, train_config, train_fs, valid_fs, loss_config, modalities)
    mods = prep.modalities
    x_tr = prep.scaler.transform(prep.train_fs)
    x_va = {m: torch.from_numpy(v) for m, v in prep.scaler.transform(prep.valid_fs).items()}
    y_tr = torch.from_numpy(prep.train_fs.label.astype(np.float32))
    y_va = torch.from_numpy(prep.valid_fs.label.astype(np.float32))

    def batch_loss(ens: FusionEnsemble, batch: Batch) -> torch.Tensor:
        *xb, yb = batch  # every member's loss on its own rows, in one call
        return compute_loss(ens(dict(zip(mods, xb, strict=True))), yb, loss_config)

    def validate(ens: FusionEnsemble) -> list[tuple[float, dict[str, float]]]:
        out = ensemble_outputs(ens, x_va)
        valid_losses = compute_loss(out, y_va.expand(len(out.score), -1), loss_config)
        y = y_va.numpy()
        return [
            validation_scores(y, out.score[i].numpy(), loss) for i, loss in enumerate(valid_losses)
        ]

    results = train_ensemble(
        lambda: FusionModel(prep.dims, model_config),
        seeds,
        (*(torch.from_numpy(x_tr[m]) for m in mods), y_tr),
        batch_loss,
        validate,
        train_config,
        progress=progress,
        desc=desc,
    )
    out = []
    for seed, res in zip(seeds, results, strict=True):
        cfg = dataclasses.replace(train_config, seed=seed)
        out.append((trained_model(prep, res, model_config, cfg, loss_config), res.history))
    return out
