"""The paper read as a referee reads it (chapters 1 and 5): where it says one thing twice,
differently, and whether its narrative matches its own Table 1.

- :func:`contradictions`: what the paper states twice, differently, each with the choice the book
  makes (read from the code that makes it: the model's encoder, the adapter network, the
  configurations), so the table cannot drift from what runs;
- :func:`table1_claims` and :class:`Table1Claims`: the paper's statements about its Table 1
  recomputed from the table as printed (:func:`msa_lib.experiments.reference.paper_table1`);
- :func:`signal_sentence`: the synthetic corpus's signal strengths beside the paper's
  single-modality validation r that they were chosen to resemble.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from torch import nn

from msa_lib.config import ModelConfig, TemporalConfig
from msa_lib.config.paper import ADAPTER_HIDDEN, MOSEI_WIDTHS, VISUAL_FEATURES
from msa_lib.experiments.reference import paper_table1
from msa_lib.models.adapter import AdapterMLP
from msa_lib.models.fusion import ModalityEncoder

NAMES = {"A": "audio", "V": "visual", "T": "text"}
CONTRADICTION_COLUMNS = ["topic", "the paper says", "and elsewhere", "the book's choice"]
THREE = "all three modalities above every pair"


def linear_widths(module: nn.Module) -> list[int]:
    """The widths a stack of Linear layers passes through: ``[65, 192, 192, 96]``."""
    linear = [m for m in module.modules() if isinstance(m, nn.Linear)]
    if not linear:
        raise ValueError(f"{type(module).__name__} has no Linear layer")
    return [linear[0].in_features, *(m.out_features for m in linear)]


def arrow(widths: list[int]) -> str:
    """``65→192→192→96``."""
    return "→".join(str(w) for w in widths)


def contradictions(
    model: ModelConfig = ModelConfig(), temporal: TemporalConfig = TemporalConfig()
) -> pd.DataFrame:
    """What the paper says twice, differently, and the book's choice for each (columns:
    :data:`CONTRADICTION_COLUMNS`). The choices are read from the networks and settings in use."""
    encoder = linear_widths(ModalityEncoder(VISUAL_FEATURES, model))
    adapter = linear_widths(
        AdapterMLP(VISUAL_FEATURES, MOSEI_WIDTHS["visual"], ADAPTER_HIDDEN["visual"], 0.0)
    )
    widths = "/".join(str(MOSEI_WIDTHS[m]) for m in ("visual", "audio", "text"))
    rows = [
        (
            "visual encoder",
            "§3.3: 65→192→96",
            "§4.2.1: three layers per encoder",
            f"§4.2.1's: every encoder is {len(encoder) - 1} Linear layers, {arrow(encoder)} on "
            "the visual features (`msa_lib.models.fusion.ModalityEncoder`)",
        ),
        (
            "encoder inputs",
            "§4.2.1: encoders take 65/74/300",
            f"§3.1, §3.6.1: the MOSEI model is trained on OpenFace2 {MOSEI_WIDTHS['visual']}-d "
            "features",
            f"widths come from the data: the MOSEI-trained model takes {widths} (visual/audio/"
            "text); the new extractors' features reach it through adapters",
        ),
        (
            "adapter depth",
            "§3.1: two-layer adapters",
            f"§3.6.2: three Linear layers ({arrow([65, 512, 512, 713])})",
            f"§3.6.2's: {len(adapter) - 1} Linear layers, {arrow(adapter)} for visual, the "
            "paper's hidden width per modality (`msa_lib.config.paper.ADAPTER_HIDDEN`)",
        ),
        (
            "visual input",
            "§3.3: one vector per segment, the mean over frames",
            "§3.5: visual aligned on 30 frames",
            "§3.3's: the fusion model reads one averaged vector per modality; the "
            f"{temporal.steps}-step alignment of §3.5 feeds only the sequence model of the "
            "chapter beyond the paper",
        ),
        (
            "Table 1 features",
            'Table 1\'s caption: "COVAREP, GLoVe, and text", no visual extractor',
            "Table 2 repeats Table 1's numbers",
            f"visual rows read as OpenFace2 ({MOSEI_WIDTHS['visual']}-d, §3.1's MOSEI visual "
            "features); one table reproduced",
        ),
    ]
    return pd.DataFrame(rows, columns=CONTRADICTION_COLUMNS)


# ----------------------------------------------------------------- the narrative against Table 1
@dataclass(frozen=True)
class Claim:
    """One statement of the paper about its Table 1, recomputed on the training and validation
    columns: the value compared and whether the statement holds on each."""

    claim: str
    compared: str
    train: float
    valid: float
    holds_train: bool
    holds_valid: bool


def _ratio_claim(table: pd.DataFrame, value: str, other: str, factor: int) -> Claim:
    """Text against one other subset: the ratio of ``value`` (the other's loss over text's, or
    text's r over the other's), holding where it rounds to ``factor``."""
    loss = value == "loss"
    ratio = {}
    for s in ("train", "valid"):
        t, o = table.loc["T", f"{s}_{value}"], table.loc[other, f"{s}_{value}"]
        ratio[s] = float(o / t if loss else t / o)
    claim = (
        f"text's loss \"{factor} times less\" than {NAMES[other]}'s"
        if loss
        else f"text's r \"nearly {factor} times more\" than {NAMES[other]}'s"
    )
    compared = f"loss {other} / T" if loss else f"r T / {other}"
    return Claim(
        claim,
        compared,
        ratio["train"],
        ratio["valid"],
        round(ratio["train"]) == factor,
        round(ratio["valid"]) == factor,
    )


def table1_claims(table: pd.DataFrame | None = None) -> list[Claim]:
    """The paper's statements about its Table 1, recomputed from the table as printed:

    - text's loss "5 times less" than audio's and visual's (holds where the ratio rounds to 5);
    - text's correlation "nearly 3 times more" (holds where the ratio rounds to 3);
    - text beats audio+visual (r above, on each split);
    - all three modalities above every pair (T+V+A's r above the best pair's).
    """
    p = (paper_table1() if table is None else table).set_index("subset")
    claims = [_ratio_claim(p, "loss", o, 5) for o in ("A", "V")]
    claims += [_ratio_claim(p, "r", o, 3) for o in ("A", "V")]
    d = {s: p.loc["T", f"{s}_r"] - p.loc["A+V", f"{s}_r"] for s in ("train", "valid")}
    claims.append(
        Claim(
            "text beats audio+visual",
            "r T − A+V",
            float(d["train"]),
            float(d["valid"]),
            bool(d["train"] > 0),
            bool(d["valid"] > 0),
        )
    )
    pairs = ["A+V", "A+T", "T+V"]
    best = {s: max(pairs, key=lambda k: p.loc[k, f"{s}_r"]) for s in ("train", "valid")}
    d = {s: p.loc["T+V+A", f"{s}_r"] - p.loc[best[s], f"{s}_r"] for s in ("train", "valid")}
    claims.append(
        Claim(
            THREE,
            f"r T+V+A − best pair ({best['valid']})",
            float(d["train"]),
            float(d["valid"]),
            bool(d["train"] > 0),
            bool(d["valid"] > 0),
        )
    )
    return claims


def claims_table(claims: list[Claim]) -> pd.DataFrame:
    """:func:`table1_claims` as a table: claim, compared, train, valid, holds on each."""
    return pd.DataFrame(
        {
            "claim": [c.claim for c in claims],
            "compared": [c.compared for c in claims],
            "train": [c.train for c in claims],
            "valid": [c.valid for c in claims],
            "holds on train": [c.holds_train for c in claims],
            "holds on valid": [c.holds_valid for c in claims],
        }
    )


def claims_sentence(claims: list[Claim], table: pd.DataFrame | None = None) -> str:
    """What the recomputed claims show, as the chapter states it."""
    p = (paper_table1() if table is None else table).set_index("subset")
    ratios = [c for c in claims if "times" in c.claim]
    parts = []
    if ratios and all(c.holds_train and not c.holds_valid for c in ratios):
        share = [c.valid / c.train for c in ratios]
        parts.append(
            "The paper's ratios hold in its training columns only: "
            + "; ".join(
                f"{c.claim}: {c.train:.2f} on train, {c.valid:.2f} on validation" for c in ratios
            )
            + f". On held-out data, where a model is judged, each ratio is {min(share):.0%} to "
            f"{max(share):.0%} of its training value."
        )
    elif ratios:
        parts.append(
            "The paper's ratios, recomputed: "
            + "; ".join(
                f"{c.claim}: {c.train:.2f} on train "
                f"({'holds' if c.holds_train else 'does not hold'}), {c.valid:.2f} on validation "
                f"({'holds' if c.holds_valid else 'does not hold'})"
                for c in ratios
            )
            + "."
        )
    beats = next((c for c in claims if c.claim == "text beats audio+visual"), None)
    if beats is not None:
        parts.append(
            f"Text {'beats' if beats.holds_valid else 'does not beat'} audio+visual on validation "
            f"(r {p.loc['T', 'valid_r']:.4f} against {p.loc['A+V', 'valid_r']:.4f})."
        )
    three = next((c for c in claims if c.claim == THREE), None)
    if three is not None:
        pair = three.compared.split("(")[-1].rstrip(")")
        with_text = [k for k in ("A+T", "T+V") if p.loc["T+V+A", "valid_r"] < p.loc[k, "valid_r"]]
        parts.append(
            f"T+V+A {'is' if three.holds_valid else 'is not'} the best subset of the paper's "
            f"own table: its validation r is {p.loc['T+V+A', 'valid_r']:.4f}, "
            f"{'above' if three.holds_valid else 'below'} {pair}'s {p.loc[pair, 'valid_r']:.4f}"
            + (
                "; it is below both pairs with text, so adding the third modality to text and "
                "one other lowers the paper's own validation r."
                if len(with_text) == 2
                else "."
            )
        )
    return " ".join(parts)


def signal_sentence(signal: Mapping[str, float], table: pd.DataFrame | None = None) -> str:
    """The synthetic generator's signal strength per modality beside the paper's single-modality
    validation r (Table 1, published) that it was chosen to resemble."""
    p = (paper_table1() if table is None else table).set_index("subset")
    paper = {NAMES[k]: float(p.loc[k, "valid_r"]) for k in ("T", "V", "A")}
    order_syn = sorted(paper, key=lambda m: -signal[m])
    order_paper = sorted(paper, key=lambda m: -paper[m])
    same = order_syn == order_paper
    return (
        "The synthetic corpus's signal strengths are a setting (`SynthConfig.signal`), chosen to "
        "resemble the paper's Table 1, not measured: "
        + ", ".join(f"{m} {signal[m]:.2f}" for m in order_syn)
        + " against the paper's single-modality validation r (published) "
        + ", ".join(f"{m} {paper[m]:.4f}" for m in order_paper)
        + (
            ", the same order, with text far ahead. A synthetic Table 1 that ranks the modalities "
            "as the paper does therefore confirms the code path, not the paper."
            if same
            else f". The orders differ ({', '.join(order_syn)} against {', '.join(order_paper)})."
        )
    )
