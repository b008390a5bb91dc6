"""A seeded synthetic stand-in for CMU-MOSEI and CMU-MOSI, written as real .csd files via mmsdk.

Latent model (documented in the book's chapter 1). For segment ``i`` of video ``v``:

* sentiment label ``y_i`` drawn from a corpus-specific distribution (MOSEI: steps of 1/3, skewed
  positive; MOSI: steps of 0.2, nearer zero) and its standardised value ``z_i``;
* per modality ``m`` a scalar sentiment signal ``s_im = rho_m * z_i + sqrt(1 - rho_m^2) * e_im``,
  ``e_im ~ N(0, 1)`` independent across modalities, so ``rho_m`` is the best correlation any model can
  reach from modality ``m`` alone (the "oracle r"), and fusing modalities helps;
* nuisance factors ``u_v`` (a speaker effect shared by the video's segments) and ``n_i``;
* the segment mean ``mu_im = b_m + W_m [s_im, u_v, n_i]`` in the modality's feature space, and frames
  ``x_t = mu_im + noise``, a few per segment with odd lengths.

MOSEI features live in the paper's source spaces (OpenFace2 713, COVAREP 74, GloVe 300); MOSI in
the new extractors' (face geometry 65, librosa 29 padded with zeros to 74, text encoder 384), with a
different projection, offset and scale: a domain shift. Files carry the defects real ones have:
``-inf`` values in audio frames, all-NaN visual frames, and sequences with no frames at all.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from msa_lib.config import SplitConfig, SynthConfig
from msa_lib.data.csd import write_csd
from msa_lib.data.layout import CSD_NAMES, SYNTHETIC_MARKER, segments_path
from msa_lib.data.splits import grouped_split

MODALITIES = ("visual", "audio", "text")
AUDIO_INFORMATIVE_MOSI = 29  # the paper's 29 librosa values; the rest of the 74 is zero padding
_WORDS = {
    "pos": "good great love loved amazing best enjoyed funny beautiful perfect".split(),
    "neg": "bad worst boring hate awful terrible waste stupid annoying disappointing".split(),
    "neu": "the movie it was and i think that this really plot actors just like story".split(),
}


def config_hash(config: SynthConfig) -> str:
    """A short stable hash of the generator settings (names the cache folder)."""
    blob = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def sample_labels(rng: np.random.Generator, n: int, corpus: str) -> np.ndarray:
    """Sentiment labels in [-3, 3]: MOSEI in steps of 1/3, MOSI in steps of 0.2."""
    if corpus == "mosei":
        raw = rng.normal(0.6, 1.2, n)
        return np.clip(np.round(raw * 3) / 3, -3, 3).astype(np.float32)
    raw = rng.normal(0.0, 1.6, n)
    return np.clip(np.round(raw * 5) / 5, -3, 3).astype(np.float32)


def segment_table(
    rng: np.random.Generator, n: int, corpus: str, split_config: SplitConfig
) -> pd.DataFrame:
    """Videos, segment times and labels: MOSEI ~7 segments of 3-10 s, MOSI ~24 of 1-6 s a video."""
    per_video, (dmin, dmax) = (7, (3.0, 10.0)) if corpus == "mosei" else (24, (1.0, 6.0))
    per_video = min(per_video, max(1, n // 10))  # small corpora still get enough videos to split
    rows, i = [], 0
    v = 0
    while i < n:
        vid = f"syn{corpus}{v:04d}"
        k = min(n - i, max(1, int(rng.poisson(per_video))))
        t = float(rng.uniform(0, 5))
        for j in range(k):
            dur = float(rng.uniform(dmin, dmax))
            rows.append((f"{vid}_{j}", vid, j, round(t, 3), round(t + dur, 3)))
            t += dur + float(rng.uniform(0.3, 3.0))
        i += k
        v += 1
    df = pd.DataFrame(rows, columns=["segment_id", "video_id", "segment_index", "start", "end"])
    df["label"] = sample_labels(rng, len(df), corpus)
    df["split"] = grouped_split(df["video_id"].to_numpy(), split_config)
    return df


def transcript(rng: np.random.Generator, label: float) -> str:
    """An upper-case bag-of-words sentence whose polar words follow the label (MOSI style)."""
    p_pos = 1 / (1 + np.exp(-1.5 * label))
    n_polar = int(rng.integers(1, 4))
    words = list(rng.choice(_WORDS["neu"], size=int(rng.integers(4, 12))))
    for _ in range(n_polar):
        words.insert(
            int(rng.integers(0, len(words) + 1)),
            str(rng.choice(_WORDS["pos" if rng.random() < p_pos else "neg"])),
        )
    return " ".join(words).upper()


@dataclasses.dataclass
class Space:
    """One modality's feature space: offset, projection of the latent factors, scale, noise."""

    offset: np.ndarray
    weights: np.ndarray  # [1 + latent_dim, informative]
    dim: int
    noise: float

    @classmethod
    def random(
        cls, rng: np.random.Generator, dim: int, informative: int, latent_dim: int, shift: float
    ) -> Space:
        """A random space; ``shift`` moves its offset and scale (the domain shift)."""
        w = rng.normal(0, 1, (1 + latent_dim, informative)) / np.sqrt(1 + latent_dim)
        w[0] *= 2.0  # the sentiment direction stands out from any single nuisance factor
        offset = rng.normal(0, 1 + shift, informative)
        return cls(offset=offset, weights=w * (1 + 0.5 * shift), dim=dim, noise=0.6)

    def segment_means(self, signal: np.ndarray, nuisance: np.ndarray) -> np.ndarray:
        """Per-segment means ``[n, dim]`` from the sentiment signal and nuisance factors."""
        latent = np.column_stack([signal, nuisance])
        inf = self.offset + latent @ self.weights
        pad = np.zeros((len(signal), self.dim - inf.shape[1]))
        return np.hstack([inf, pad])


def modality_signal(rng: np.random.Generator, z: np.ndarray, rho: float) -> np.ndarray:
    """``rho * z + sqrt(1 - rho^2) * noise``: correlation ``rho`` with the standardised label."""
    return rho * z + np.sqrt(1 - rho**2) * rng.normal(0, 1, len(z))


def frames_for(
    rng: np.random.Generator,
    mean: np.ndarray,
    start: float,
    end: float,
    space: Space,
    config: SynthConfig,
    modality: str,
    informative: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames and intervals of one segment, with the defects real .csd files have."""
    if rng.random() < config.p_empty_sequence:
        return np.zeros((0, space.dim), np.float32), np.zeros((0, 2))
    t = int(rng.integers(config.min_frames, config.max_frames + 1))
    x = mean + np.zeros((t, space.dim))
    x[:, :informative] += rng.normal(0, space.noise, (t, informative))
    edges = np.linspace(start, end, t + 1)
    ivals = np.column_stack([edges[:-1], edges[1:]])
    if modality == "audio":
        bad = rng.random(t) < config.p_inf_frame
        x[np.ix_(bad, np.arange(min(5, informative)))] = -np.inf
    if modality == "visual":
        x[rng.random(t) < config.p_nan_frame] = np.nan
    return x.astype(np.float32), ivals


def generate_corpus(
    out: Path, corpus: str, n: int, dims: tuple[int, int, int], config: SynthConfig, shift: float
) -> pd.DataFrame:
    """Write ``<corpus>/segments.csv`` and one .csd per modality under ``csd/``; return the table."""
    rng = np.random.default_rng([config.seed, CORPUS_SEEDS[corpus]])
    seg = segment_table(rng, n, corpus, SplitConfig(seed=config.seed))
    z = (seg["label"].to_numpy() - seg["label"].mean()) / seg["label"].std()
    videos, vidx = np.unique(seg["video_id"], return_inverse=True)
    speaker = rng.normal(0, 1, (len(videos), config.latent_dim))
    nuisance = 0.7 * speaker[vidx] + 0.7 * rng.normal(0, 1, (len(seg), config.latent_dim))
    for m, dim in zip(MODALITIES, dims):
        informative = AUDIO_INFORMATIVE_MOSI if (corpus == "mosi" and m == "audio") else dim
        space = Space.random(rng, dim, informative, config.latent_dim, shift)
        means = space.segment_means(modality_signal(rng, z, config.signal[m]), nuisance)
        entries: dict[str, tuple[list, list]] = {}
        for i, row in enumerate(seg.itertuples(index=False)):
            f, iv = frames_for(rng, means[i], row.start, row.end, space, config, m, informative)
            acc = entries.setdefault(row.video_id, ([], []))
            acc[0].append(f)
            acc[1].append(iv)
        name = CSD_NAMES[corpus][m][-1]
        write_csd(
            out / "csd" / name,
            {v: (np.vstack(f), np.vstack(iv)) for v, (f, iv) in entries.items()},
            root_name=Path(name).stem,
            metadata={
                "computational sequence description": f"SYNTHETIC {corpus} {m} features ({dim}-d)",
                "dataset name": f"synthetic {corpus}",
                "creator": "msa_lib.data.synthetic",
            },
        )
    if corpus == "mosi":
        seg["text"] = [transcript(rng, y) for y in seg["label"]]
        seg = seg.drop(columns=["segment_index"])
    else:
        seg = seg.rename(columns={"label": "sentiment"})
    (out / corpus).mkdir(parents=True, exist_ok=True)
    seg.to_csv(segments_path(out, corpus), index=False)
    return seg


CORPUS_SEEDS = {"mosei": 1, "mosi": 2}


def generate(out: str | Path, config: SynthConfig = SynthConfig()) -> Path:
    """Generate both synthetic corpora into ``out`` (overwriting) and mark the folder synthetic."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    generate_corpus(out, "mosei", config.mosei_segments, config.mosei_dims, config, 0.0)
    generate_corpus(
        out, "mosi", config.mosi_segments, config.mosi_dims, config, config.domain_shift
    )
    info = {
        "generator": "msa_lib.data.synthetic",
        "config": dataclasses.asdict(config),
        "config_hash": config_hash(config),
        "note": "SYNTHETIC data: not CMU-MOSI/MOSEI. Numbers computed on it are not results on the real corpora.",
    }
    (out / SYNTHETIC_MARKER).write_text(json.dumps(info, indent=2, default=str))
    return out


def ensure_synthetic(cache: str | Path, config: SynthConfig = SynthConfig()) -> Path:
    """The synthetic folder for ``config`` under ``cache``, generated on first use."""
    from msa_lib.io.lock import locked

    folder = Path(cache) / config_hash(config)
    if (folder / SYNTHETIC_MARKER).is_file():
        return folder
    # one process generates, another (a chapter run beside it) waits and then finds it made
    with locked(
        folder.with_name(f".{folder.name}.lock"), f"the synthetic corpus {folder}", wait=True
    ):
        if (folder / SYNTHETIC_MARKER).is_file():
            return folder
        tmp = folder.with_name(folder.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        generate(tmp, config)
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    return folder
