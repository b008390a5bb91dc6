"""K members of one fusion-model configuration as one network (the seeds of a grid, trained together).

The same architecture as :class:`~msa_lib.models.fusion.FusionModel`, each weight stacked along a
leading member axis (``[K, ...]``): batched matmuls (``torch.baddbmm``) instead of K small ones, one
autograd graph, one optimizer step. The members share nothing: each has its own weights, BatchNorm
statistics and dropout masks, and sees its own mini-batch (inputs ``[K, B, d]``). State-dict names
are those of the fusion model, each tensor with the member axis in front, so member ``i`` is
``{name: t[i]}`` (:meth:`FusionEnsemble.member_state`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from msa_lib.config import ModelConfig
from msa_lib.models.fusion import FusionModel, FusionOutput


class MemberRNG:
    """Every member's dropout masks of one forward pass, drawn up front in one call per member.

    :meth:`start` draws a pass's uniforms for all its dropout layers at once (``[K, n]`` float32,
    one per element, in the order the layers use them) and turns them into every member's
    ``{0, 1/keep}`` masks with one comparison and one product; :meth:`mask` hands the layers their
    slices in order. With ``generators`` (one per member) member ``i``'s masks come from its own
    generator alone, so what a member draws does not depend on the members beside it; without,
    they come from torch's global RNG. These are not the masks a lone ``nn.Dropout`` draws (it
    draws float64 uniforms one layer at a time): an ensemble reproduces itself, not separate runs.
    """

    def __init__(self, generators: list[torch.Generator] | None = None) -> None:
        self.generators = generators
        self._uniform: torch.Tensor | None = None
        self._layout: tuple[tuple[int, float], ...] = ()
        self._threshold = self._scale = torch.empty(0)
        self._masks: torch.Tensor | None = None
        self._next = self._offset = 0

    def start(self, k: int, layout: Sequence[tuple[int, float]]) -> None:
        """Draw the masks of a pass: ``layout`` lists ``(elements per member, keep)`` per layer."""
        layout = tuple(layout)
        n = sum(size for size, _ in layout)
        if self._uniform is None or self._uniform.shape != (k, n):
            self._uniform = torch.empty(k, n)  # reused: no page faults
        u = self._uniform
        if self.generators is None:
            u.uniform_()
        else:
            if len(self.generators) != k:
                raise ValueError(f"{len(self.generators)} dropout generators for {k} members")
            for row, gen in zip(u, self.generators, strict=True):
                row.uniform_(generator=gen)
        if layout != self._layout:
            self._layout = layout
            self._threshold = torch.cat([torch.full((size,), keep) for size, keep in layout])
            self._scale = torch.cat([torch.ones(size).div_(keep) for size, keep in layout])
        self._masks = (u < self._threshold).to(torch.float32).mul_(self._scale)
        self._next = self._offset = 0

    def mask(self, shape: torch.Size, keep: float) -> torch.Tensor:
        """The next layer's ``{0, 1/keep}`` float mask of ``shape`` (member axis first)."""
        n = math.prod(shape[1:])
        if self._masks is None or self._next >= len(self._layout):
            raise RuntimeError("MemberRNG.mask: more masks asked than start() drew")
        size, drawn_keep = self._layout[self._next]
        if (size, drawn_keep) != (n, keep):
            raise RuntimeError(
                f"MemberRNG.mask: layer {self._next} asks {n} elements at keep {keep}; "
                f"start() drew {size} at keep {drawn_keep}"
            )
        out = self._masks[:, self._offset : self._offset + n].view(shape)
        self._next += 1
        self._offset += n
        return out

    def finish(self) -> None:
        """Check that the forward pass used every mask drawn for it."""
        if self._masks is not None and self._next != len(self._layout):
            raise RuntimeError(
                f"MemberRNG: the forward pass used {self._next} of the {len(self._layout)} "
                "masks drawn for it; the layers and the drawn layout disagree"
            )
        self._masks = None

    def select(self, keep: list[int]) -> MemberRNG:
        """The generators of the members ``keep`` (same objects, so their streams continue)."""
        return MemberRNG(None if self.generators is None else [self.generators[i] for i in keep])


class _StackedLinearFn(torch.autograd.Function):
    """``x @ W^T + b`` per member, with ``nn.Linear``'s backward (weight gradient ``g^T @ x``).

    Autograd's own ``baddbmm`` backward forms ``x^T @ g`` and transposes it, and a weight gradient
    in that layout costs a strided copy; inputs and gradients are made contiguous first, since a
    strided batch (as BatchNorm's transposes leave it) sends ``bmm`` to a slow loop.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:  # noqa: ANN001
        x = x.contiguous()
        ctx.save_for_backward(x, weight)
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # noqa: ANN001, ANN205
        x, weight = ctx.saved_tensors
        grad = grad.contiguous()
        gx = torch.bmm(grad, weight) if ctx.needs_input_grad[0] else None
        gw = torch.bmm(grad.transpose(1, 2), x) if ctx.needs_input_grad[1] else None
        gb = grad.sum(1) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def stacked_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """K linear maps at once: ``x [K, B, in]``, ``weight [K, out, in]``, ``bias [K, out]``."""
    return _StackedLinearFn.apply(x, weight, bias)


class StackedLinear(nn.Module):
    """K independent linear layers: ``[K, B, in] -> [K, B, out]`` (or a shared ``[B, in]`` input)."""

    def __init__(self, k: int, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(k, n_out, n_in))  # nn.Linear's [out, in] per member
        self.bias = nn.Parameter(torch.zeros(k, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One batched GEMM; a 2-d input is shared by all members (one GEMM over all their weights)."""
        k, n_out, n_in = self.weight.shape
        if x.ndim == 2:
            y = (x @ self.weight.reshape(k * n_out, n_in).T).view(len(x), k, n_out)
            return y.transpose(0, 1) + self.bias.unsqueeze(1)
        return stacked_linear(x, self.weight, self.bias)


class StackedBatchNorm(nn.Module):
    """K independent ``BatchNorm1d`` layers on ``[K, B, C]``: statistics per member and channel."""

    def __init__(self, k: int, channels: int, eps: float = 1e-5, momentum: float = 0.1) -> None:
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(k, channels))
        self.bias = nn.Parameter(torch.zeros(k, channels))
        self.register_buffer("running_mean", torch.zeros(k, channels))
        self.register_buffer("running_var", torch.ones(k, channels))
        self.register_buffer("num_batches_tracked", torch.zeros(k, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """torch's own kernel on ``[B, K*C]``: member i's channels are columns ``i*C..(i+1)*C``."""
        k, b, c = x.shape
        if self.training:
            self.num_batches_tracked.add_(1)
        y = nn.functional.batch_norm(
            x.transpose(0, 1).reshape(b, k * c),
            self.running_mean.view(-1),
            self.running_var.view(-1),
            self.weight.view(-1),
            self.bias.view(-1),
            self.training,
            self.momentum,
            self.eps,
        )
        return y.view(b, k, c).transpose(0, 1)


class MemberDropout(nn.Module):
    """Dropout with an independent mask per member, drawn by the ensemble's :class:`MemberRNG`."""

    def __init__(self, p: float, rng: MemberRNG) -> None:
        super().__init__()
        self.p, self.rng = p, rng

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x * mask`` in training (no draw when ``p`` is 0, as ``F.dropout``); ``x`` otherwise."""
        if not self.training or self.p == 0:
            return x
        return x * self.rng.mask(x.shape, 1 - self.p)


class StackedAttention(nn.Module):
    """K independent ``nn.MultiheadAttention`` (self-attention, batch first) on ``[K, B, T, E]``.

    The arithmetic is that of torch's own path (packed in-projection, both q and k scaled by
    ``sqrt(1/sqrt(d))``, softmax, dropout on the attention weights, out-projection).
    """

    def __init__(self, k: int, dim: int, heads: int, dropout: float, rng: MemberRNG) -> None:
        super().__init__()
        self.heads, self.dropout, self.rng = heads, dropout, rng
        self.in_proj_weight = nn.Parameter(torch.zeros(k, 3 * dim, dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(k, 3 * dim))
        self.out_proj = StackedLinear(k, dim, dim)

    def forward(self, tok: torch.Tensor) -> torch.Tensor:
        """Attended tokens ``[K, B, T, E]`` (Q = K = V = ``tok``).

        Rows go through the projections token-major (``[T, B]``), as in torch's batch-first path.
        """
        k, b, t, e = tok.shape
        d = e // self.heads
        rows = tok.transpose(1, 2).reshape(k, t * b, e)
        qkv = stacked_linear(rows, self.in_proj_weight, self.in_proj_bias)
        q, key, v = qkv.view(k, t, b, 3, self.heads, d).permute(3, 0, 2, 4, 1, 5)
        scale = (1.0 / math.sqrt(d)) ** 0.5
        attn = torch.softmax((q * scale) @ (key * scale).transpose(-2, -1), dim=-1)
        if self.training and self.dropout > 0:
            attn = attn * self.rng.mask(attn.shape, 1 - self.dropout)
        out = (attn @ v).permute(0, 3, 1, 2, 4).reshape(k, t * b, e)  # [K, T*B, E]
        return self.out_proj(out).view(k, t, b, e).transpose(1, 2)


def _stacked_block(k: int, n_in: int, n_out: int, p: float, rng: MemberRNG) -> list[nn.Module]:
    """:func:`_block` with a member axis."""
    return [
        StackedLinear(k, n_in, n_out),
        StackedBatchNorm(k, n_out),
        nn.ReLU(),
        MemberDropout(p, rng),
    ]


class FusionEnsemble(nn.Module):
    """K :class:`FusionModel` s of one configuration as one network (stacked weights, see above).

    Built from trained or fresh members with :meth:`from_members`; its forward takes
    ``{modality: [K, B, d]}`` (each member its own batch) or ``{modality: [B, d]}`` (one batch for
    all) and returns scores ``[K, B]`` (and logits ``[K, B, n_classes]``).
    """

    def __init__(self, dims: Mapping[str, int], config: ModelConfig, k: int) -> None:
        super().__init__()
        if k < 1:
            raise ValueError(f"an ensemble needs at least one member, got k={k}")
        if not dims:
            raise ValueError("FusionEnsemble needs at least one modality")
        self.k, self.config = k, config
        self.modalities = list(dims)
        self.dims = {m: int(d) for m, d in dims.items()}
        self.rng = MemberRNG()
        h, e, p = config.hidden, config.token_dim, config.encoder_dropout
        self.encoders = nn.ModuleDict(
            {
                m: nn.Sequential(
                    *_stacked_block(k, d, h, p, self.rng),
                    *_stacked_block(k, h, h, p, self.rng),
                    StackedLinear(k, h, e),
                    StackedBatchNorm(k, e),
                )
                for m, d in self.dims.items()
            }
        )
        self.attention = StackedAttention(k, e, config.heads, config.attention_dropout, self.rng)
        self.mlp = nn.Sequential(
            *_stacked_block(k, len(self.modalities) * e, h, p, self.rng),
            *_stacked_block(k, h, e, p, self.rng),
        )
        self.regressor = StackedLinear(k, e, 1)
        self.classifier = StackedLinear(k, e, config.n_classes) if config.n_classes > 0 else None

    @classmethod
    def from_members(cls, members: Sequence[FusionModel]) -> FusionEnsemble:
        """Stack the weights and BatchNorm statistics of models of one configuration."""
        if not members:
            raise ValueError("FusionEnsemble.from_members needs at least one model")
        first = members[0]
        for i, m in enumerate(members[1:], 1):
            if m.dims != first.dims or m.config != first.config:
                raise ValueError(
                    f"member {i} differs from member 0 (dims {m.dims} vs {first.dims}, config "
                    f"{m.config} vs {first.config}): an ensemble stacks one configuration"
                )
        ens = cls(first.dims, first.config, len(members))
        states = [m.state_dict() for m in members]
        ens.load_state_dict({name: torch.stack([s[name] for s in states]) for name in states[0]})
        return ens

    def member_state(self, i: int) -> dict[str, torch.Tensor]:
        """Member ``i``'s weights and statistics under :class:`FusionModel`'s state-dict names."""
        return {name: t[i].clone() for name, t in self.state_dict().items()}

    def member(self, i: int) -> FusionModel:
        """Member ``i`` as an ordinary :class:`FusionModel` (in evaluation mode)."""
        with torch.random.fork_rng(devices=[]):  # its initial weights are overwritten at once
            model = FusionModel(self.dims, self.config)
        model.load_state_dict(self.member_state(i))
        return model.eval()

    def select(self, keep: Sequence[int]) -> FusionEnsemble:
        """A new ensemble of members ``keep`` (their weights copied; dropout streams continue)."""
        keep = list(keep)
        ens = FusionEnsemble(self.dims, self.config, len(keep))
        idx = torch.tensor(keep, dtype=torch.long)
        ens.load_state_dict({n: t.index_select(0, idx) for n, t in self.state_dict().items()})
        ens.set_rng(self.rng.select(keep))
        return ens.train(self.training)

    def set_rng(self, rng: MemberRNG) -> None:
        """Draw every dropout mask from ``rng`` (e.g. one generator per member)."""
        self.rng = rng
        for mod in self.modules():
            if isinstance(mod, (MemberDropout, StackedAttention)):
                mod.rng = rng

    def forward(self, inputs: Mapping[str, torch.Tensor]) -> FusionOutput:
        """Scores ``[K, B]`` and, with a classification head, logits ``[K, B, n_classes]``."""
        absent = [m for m in self.modalities if m not in inputs]
        if absent:
            raise KeyError(f"ensemble expects modalities {self.modalities}; missing {absent}")
        for m in self.modalities:
            x = inputs[m]
            ok = x.shape[-1] == self.dims[m] and (
                x.ndim == 2 or (x.ndim == 3 and x.shape[0] == self.k)
            )
            if not ok:
                raise ValueError(
                    f"modality '{m}': expected input [{self.k}, batch, {self.dims[m]}] or "
                    f"[batch, {self.dims[m]}], got {tuple(x.shape)}"
                )
        layout = self.mask_layout(inputs[self.modalities[0]].shape[-2]) if self.training else []
        drawing = bool(layout)
        if drawing:  # every dropout mask of this pass, drawn up front in the order layers use them
            self.rng.start(self.k, layout)
        tok = torch.stack([self.encoders[m](inputs[m]) for m in self.modalities], dim=2)
        h = self.mlp(self.attention(tok).flatten(2))
        if drawing:
            self.rng.finish()
        logits = self.classifier(h) if self.classifier is not None else None
        return FusionOutput(self.regressor(h).squeeze(-1), logits)

    def mask_layout(self, batch: int) -> list[tuple[int, float]]:
        """``(mask elements per member, keep)`` of each dropout of a training pass, in order."""
        c, t = self.config, len(self.modalities)
        enc = [(batch * c.hidden, 1 - c.encoder_dropout)] if c.encoder_dropout > 0 else []
        att = (
            [(batch * c.heads * t * t, 1 - c.attention_dropout)] if c.attention_dropout > 0 else []
        )
        mlp = (
            [
                (batch * c.hidden, 1 - c.encoder_dropout),
                (batch * c.token_dim, 1 - c.encoder_dropout),
            ]
            if c.encoder_dropout > 0
            else []
        )
        return enc * 2 * t + att + mlp
