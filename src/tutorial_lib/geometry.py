"""Word geometry: how a vector sits among words (Eq. 3) and how much of that two models share.

Relative-space transfer rests on one assumption: a word sits among the other words in the same way in both
models. :func:`relative_encoding` is the paper's Eq. 3 (the search of :mod:`transfer.relative` matches it);
the other functions measure the assumption on two embedding matrices whose rows are the same words:
:func:`word_translation` (through Eq. 3), :func:`linear_map_r2` (a linear map, the projector's premise),
:func:`same_index_correlations` (shared coordinates, which real models do not have) and, for two models,
:func:`shared_geometry`. The zoo's model cards and chapters 2 and 6 report them.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .anchors import AnchorError, anchor_pairs


def relative_encoding(vectors: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
    """Eq. 3: r(v) = (cos(v, a_1), ..., cos(v, a_k)) for vectors [..., d] and anchors [k, d] -> [..., k]."""
    return F.normalize(vectors, dim=-1) @ F.normalize(anchors, dim=-1).T


def cosine_matrix(embeddings: torch.Tensor) -> torch.Tensor:
    """Pairwise cosine similarities [n, n] of the rows of ``embeddings`` [n, d] (an all-zero row scores 0),
    computed in float64 and returned as float32, exactly symmetric."""
    unit = F.normalize(embeddings.double(), dim=-1)
    sims = unit @ unit.T
    return ((sims + sims.T) / 2).float()


def word_translation(source_anchors: torch.Tensor, target_anchors: torch.Tensor, source_words: torch.Tensor,
                     target_words: torch.Tensor) -> float:
    """How much word geometry two models share, seen through Eq. 3: the share of probe words (rows i of
    ``source_words`` [n, d_s] and ``target_words`` [n, d_t], the same words, none of them anchors) whose
    relative encoding in the source is closest (cosine) to its own relative encoding in the target among all
    n probe words. 1.0 for a model and a rotated, rescaled copy of itself; 1/n (chance) when nothing is shared.
    Relative transfer assumes this is high."""
    if source_words.shape[0] != target_words.shape[0] or source_anchors.shape[0] != target_anchors.shape[0]:
        raise ValueError("source and target rows must be the same words (probe words and anchors alike)")
    sims = (F.normalize(relative_encoding(source_words.float(), source_anchors.float()), dim=-1)
            @ F.normalize(relative_encoding(target_words.float(), target_anchors.float()), dim=-1).T)
    return (sims.argmax(1) == torch.arange(len(sims))).float().mean().item()


def linear_map_r2(source_train: torch.Tensor, target_train: torch.Tensor, source_test: torch.Tensor,
                  target_test: torch.Tensor) -> float:
    """How well a linear map carries one embedding space into another, on words it was not fitted on: the
    least-squares affine map fitted on the training pairs ([n, d_s] -> [n, d_t], rows the same words), scored
    by R^2 on the test pairs (1 - squared error / squared deviation from the test words' mean). 1.0 for a
    rotated, rescaled copy (given more training pairs than dimensions); about 0 or below when the spaces are
    unrelated (the map only recovers the mean).
    The linear version of the projector's premise."""
    if source_train.shape[0] != target_train.shape[0] or source_test.shape[0] != target_test.shape[0]:
        raise ValueError("source and target rows must be the same words")
    x = torch.cat([source_train.double(), torch.ones(len(source_train), 1, dtype=torch.float64)], 1)
    weights = torch.linalg.lstsq(x, target_train.double()).solution
    predicted = torch.cat([source_test.double(), torch.ones(len(source_test), 1, dtype=torch.float64)], 1) @ weights
    target_test = target_test.double()
    return (1 - ((predicted - target_test) ** 2).sum() / ((target_test - target_test.mean(0)) ** 2).sum()).item()


def same_index_correlations(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Do two embedding spaces share coordinates? |Pearson r| between dimension i of ``source`` and dimension i
    of ``target`` ([n, d_s], [n, d_t], rows the same words), for each of the first min(d_s, d_t) dimensions.
    Near 1 when a dimension means the same in both spaces. For one geometry in two random orientations (a
    random rotation of the other) it is about |Q_ii| of that rotation: the mean about 0.8 / sqrt(d), the largest
    of d of them 0.21-0.24 (median) at the zoo's widths, above 0.2 for 85-98 % of rotations
    (:func:`rotation_chance`)."""
    if source.shape[0] != target.shape[0]:
        raise ValueError("source and target rows must be the same words")
    d = min(source.shape[1], target.shape[1])
    a, b = source[:, :d].double(), target[:, :d].double()
    a, b = a - a.mean(0), b - b.mean(0)
    return ((a * b).sum(0) / (a.norm(dim=0) * b.norm(dim=0))).abs().float()


def random_rotation(width: int, seed: int) -> torch.Tensor:
    """A [width, width] orthogonal matrix drawn uniformly (Haar) from ``seed``: the QR decomposition of a Gaussian
    matrix, with the signs of R's diagonal moved into Q."""
    gaussian = torch.randn(width, width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    return (q * torch.sign(torch.diagonal(r))).float()


def rotation_chance(source: torch.Tensor, draws: int = 100, seed: int = 0) -> torch.Tensor:
    """The largest same-index |r| between ``source`` and each of ``draws`` random rotations of itself
    (:func:`random_rotation`, seeds ``seed`` ... ``seed + draws - 1``), one value per draw: what two models with
    the same geometry and unrelated coordinates show by chance."""
    source = source.float()
    return torch.tensor([same_index_correlations(source, source @ random_rotation(source.shape[1], seed + k)).max()
                         for k in range(draws)])


def shared_geometry(source_lm, target_lm, n_anchors: int | None = None, probe_every: int = 4, exclude=None,
                    words: list[str] | None = None, lama_dir=None) -> dict:
    """:func:`word_translation` between two models on their shared words: every ``probe_every``-th shared
    word (by frequency) is a probe, the others (at most ``n_anchors``) are the anchors. Returns
    ``{"p_at_1", "chance", "probes", "anchors", "relative_cosine", "linear_r2", "same_index_r", "same_index_mean",
    "same_index_chance", "same_index_chance_95"}``:
    ``relative_cosine`` is the mean
    cosine between the source relative encodings of different probe words (near 1: every word looks the same
    through the anchors, as in a strongly anisotropic embedding space); ``linear_r2`` the share of the probes'
    target embeddings that an affine map fitted on the anchors explains (:func:`linear_map_r2`); ``same_index_r``
    and ``same_index_mean`` the largest and the mean |r| between dimension i of one model and dimension i of the
    other over all shared words (:func:`same_index_correlations`: do the models share coordinates, not only
    geometry?), ``same_index_chance`` and ``same_index_chance_95`` the median and the 95th percentile of the
    largest for random rotations of the source (:func:`rotation_chance`)."""
    if probe_every < 2:
        raise ValueError(f"probe_every must be >= 2 (some shared words must stay anchors), got {probe_every}")
    shared, (source_all,), target_all = anchor_pairs(source_lm, target_lm, None, exclude, words, lama_dir)
    probes = torch.arange(0, len(shared), probe_every)
    anchors = torch.tensor([i for i in range(len(shared)) if i % probe_every], dtype=torch.long)[:n_anchors]
    if len(probes) < 2 or not len(anchors):
        raise AnchorError(f"too few shared words ({len(shared)}) to split into anchors and probes")
    encodings = torch.nn.functional.normalize(relative_encoding(source_all[probes], source_all[anchors]), dim=-1)
    off_diagonal = (encodings @ encodings.T).fill_diagonal_(float("nan"))
    return {"p_at_1": word_translation(source_all[anchors], target_all[anchors], source_all[probes],
                                       target_all[probes]),
            "chance": 1 / len(probes), "probes": len(probes), "anchors": len(anchors),
            "relative_cosine": off_diagonal.nanmean().item(),
            "linear_r2": linear_map_r2(source_all[anchors], target_all[anchors], source_all[probes],
                                       target_all[probes]),
            **same_index(source_all, target_all)}


def same_index(source: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Largest and mean same-index |r| of two embedding matrices (rows the same words), and the chance level of
    the largest: its median and 95th percentile over random rotations of the source."""
    r, chance = same_index_correlations(source, target), rotation_chance(source)
    return {"same_index_r": r.max().item(), "same_index_mean": r.mean().item(),
            "same_index_chance": chance.median().item(), "same_index_chance_95": chance.quantile(0.95).item()}
