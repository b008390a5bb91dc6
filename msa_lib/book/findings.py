"""The book's findings at a glance, for the introduction: one sentence per question, each computed
from the tables the chapters saved in this build (``book/results/*.csv``), with a link to the
chapter that shows it.

:func:`write_findings` runs after the chapters and before the HTML build and writes
``book/_findings.md``, which ``book/intro.md`` includes. A finding whose table this build did not
produce (a chapter not run, a real-data part skipped) says so instead of a number; every number
carries its data source (real, or SYNTHETIC).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from msa_lib.book.format import chapter_link, ci_text, source_word
from msa_lib.experiments.mmsa_models import PAPER_MODEL, outcomes
from msa_lib.experiments.paper_review import contradictions
from msa_lib.experiments.transfer import PAPER_KIND, headline_kind

FINDINGS_FILE = "_findings.md"  # in book/, included by intro.md
NOT_RUN = "not computed in this build"


def _mean(cell: object) -> float:
    """The mean of a Table-1 cell written ``mean ± sd`` (or a plain number)."""
    return float(str(cell).split("±")[0])


def _chance(lo: float, hi: float) -> str:
    """Where an interval of r stands against 0, in words."""
    return "above chance" if lo > 0 else "below chance" if hi < 0 else "at chance"


def _read(results: Path, name: str) -> pd.DataFrame | None:
    """A saved table of this build, or None."""
    path = results / f"{name}.csv"
    return pd.read_csv(path) if path.is_file() else None


def paper_adapter_finding(transfer: pd.DataFrame | None) -> str:
    """Does the paper's random-pair adapter transfer zero-shot: its r per transfer against 0."""
    if transfer is None:
        return f"Zero-shot transfer through the paper's adapter: {NOT_RUN}."
    rows = transfer[(transfer["setting"] == "zero-shot") & (transfer["adapter"] == PAPER_KIND)]
    if rows.empty:
        return f"Zero-shot transfer through the paper's adapter: {NOT_RUN}."
    parts = [
        f"{r['data']} ({source_word(r['data_source'])}): r {ci_text(r['r'], r['r_lo'], r['r_hi'])}, "
        f"{_chance(r['r_lo'], r['r_hi'])}"
        for _, r in rows.iterrows()
    ]
    return (
        "Zero-shot, the paper's adapter (trained on random pairs) gives " + "; ".join(parts) + "."
    )


def headline_finding(transfer: pd.DataFrame | None) -> str:
    """What transfers instead: each transfer's headline kind (fixed in advance) against a model
    trained on the target alone."""
    if transfer is None:
        return f"What transfers instead: {NOT_RUN}."
    parts = []
    for data, t in transfer.groupby("data", sort=False):
        zs = t[t["setting"] == "zero-shot"]
        kind = headline_kind(list(zs["adapter"]))
        alone = t[t["setting"] == "target only"]
        if kind is None or alone.empty:
            continue
        z = zs[zs["adapter"] == kind].iloc[0]
        parts.append(
            f"{data} ({source_word(z['data_source'])}): `{kind}` zero-shot r "
            f"{ci_text(z['r'], z['r_lo'], z['r_hi'])} ({_chance(z['r_lo'], z['r_hi'])}), against "
            f"{alone['r'].iloc[0]:.3f} for a model trained on the target alone"
        )
    if not parts:
        return f"What transfers instead: {NOT_RUN}."
    return (
        "The adapter kind fixed in advance for each transfer, with no target label, gives "
        + "; ".join(parts)
        + "."
    )


def baseline_finding(table1: pd.DataFrame | None, subset: str = "T+V+A") -> str:
    """The fusion model against ridge and late fusion on the same inputs (test r, seed means)."""
    if table1 is None:
        return f"The fusion model against simple baselines: {NOT_RUN}."
    t = table1[table1["subset"] == subset].set_index("model")
    if "fusion" not in t.index or "ridge" not in t.index:
        return f"The fusion model against simple baselines: {NOT_RUN}."
    r = {m: _mean(t.loc[m, "test_r"]) for m in t.index}
    late = f", late fusion {r['late fusion']:.3f}" if "late fusion" in r else ""
    return (
        f"On {subset} ({source_word(t['data_source'].iloc[0])}), test r, mean over seeds: the paper's "
        f"fusion model {r['fusion']:.3f}, a ridge regression on the same inputs "
        f"{r['ridge']:.3f}{late}; the chapter says which differences its intervals over seeds "
        "and test segments resolve."
    )


def field_finding(field: pd.DataFrame | None) -> str:
    """The paper's model against MMSA's models on identical rows: wins, losses, ties on r."""
    if field is None or PAPER_MODEL not in set(field["model"]):
        return f"The paper's model against the field's models (MMSA): {NOT_RUN}."
    found = [o for o in outcomes(field) if o.metric == "r"]
    words = {w: [o.model for o in found if o.word == w] for w in ("wins", "loses", "ties")}
    said = [
        f"{'better than' if w == 'wins' else 'worse than' if w == 'loses' else 'not distinguishable from'} "
        f"{', '.join(names)}"
        for w, names in words.items()
        if names
    ]
    return (
        f"Against the field's models on identical features and rows "
        f"({source_word(field['data_source'].iloc[0])}), the paper's fusion model is, on test r over "
        f"seeds and test segments, {'; '.join(said)}."
    )


def text_finding(
    tuned: pd.DataFrame | None, ridge: pd.DataFrame | None, lexicon: pd.DataFrame | None
) -> str:
    """How far text alone goes: fine-tuned MiniLM, a ridge on frozen MiniLM vectors, and the best
    label-free scorer."""
    parts = []
    if tuned is not None and "mean" in set(tuned["seed"].astype(str)):
        m = tuned[tuned["seed"].astype(str) == "mean"].iloc[0]
        parts.append(
            f"MiniLM fine-tuned on the MOSI training fold reaches test r "
            f"{ci_text(m['r'], m['r_lo'], m['r_hi'])} ({source_word(m['data_source'])})"
        )
    if ridge is not None and not ridge.empty:
        best = ridge.loc[ridge["test_r"].idxmax()]
        parts.append(
            f"a ridge on frozen {best['features']} vectors {best['test_r']:.3f} "
            f"({source_word(best['data_source'])})"
        )
    if lexicon is not None and not lexicon.empty:
        best = lexicon.loc[lexicon["r"].idxmax()]
        parts.append(
            f"{best['scorer']}, with no MOSI label at all, "
            f"{ci_text(best['r'], best['r_lo'], best['r_hi'])} ({source_word(best['data_source'])})"
        )
    if not parts:
        return f"Text alone: {NOT_RUN}."
    return "Text alone: " + "; ".join(parts) + "."


def code_finding(fidelity: pd.DataFrame | None) -> str:
    """Where the paper's public code departs from its text, and where the text contradicts itself."""
    review = contradictions()
    said = f"the paper says {len(review)} things twice, differently"
    if fidelity is None:
        return f"Read critically, {said}; its code against its text: {NOT_RUN}."
    silent = fidelity["paper's text"].astype(str).str.startswith("not said")
    differs = ~silent & (
        fidelity["paper's code"].astype(str) != fidelity["paper's text"].astype(str)
    )
    return (
        f"Read critically, {said}, and of {len(fidelity)} feature choices its public code "
        f"settles {int(silent.sum())} that the text leaves open and departs from the text in "
        f"{int(differs.sum())}."
    )


def findings_markdown(results: Path, built: Callable[[str], bool]) -> str:
    """The findings as a Markdown list, each item linking the chapter that shows it."""
    r = Path(results)
    transfer = _read(r, "transfer")
    table1 = _read(r, "table1_mosi_bclstm")
    field = _read(r, "table1_mosi_bclstm_mmsa")
    if table1 is None:
        table1 = _read(r, "table1_mosei_synthetic")
    if field is None:
        field = _read(r, "table1_mosei_synthetic_mmsa")
    items = [
        ("Does the paper's adapter transfer?", paper_adapter_finding(transfer), "07_transfer"),
        ("What transfers instead?", headline_finding(transfer), "07_transfer"),
        ("The fusion model against simple baselines.", baseline_finding(table1), "05_fusion"),
        ("Against the field's models.", field_finding(field), "05_fusion"),
        (
            "How far text alone goes.",
            text_finding(
                _read(r, "text_finetuned"),
                _read(r, "text_ridge_baseline"),
                _read(r, "transfer_lexicon"),
            ),
            "08_1_text",
        ),
        (
            "What the paper's code and text get wrong.",
            code_finding(_read(r, "perf_fidelity")),
            "09_performance",
        ),
    ]
    return (
        "\n".join(f"- **{q}** {text} ({chapter_link(doc, built)})" for q, text, doc in items) + "\n"
    )


def write_findings(book: Path) -> Path:
    """Write ``book/_findings.md`` from ``book/results``; a chapter counts as built where its
    executed notebook is in ``book``."""
    book = Path(book)
    text = findings_markdown(book / "results", lambda doc: (book / f"{doc}.ipynb").is_file())
    path = book / FINDINGS_FILE
    path.write_text(text, encoding="utf-8")
    return path
