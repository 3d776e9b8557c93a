"""Interactive explorers of the book (ipywidgets).

:class:`TransferExplorer` (chapter 4): pick a relation, a source model, a target model and a number of
anchor words; the relative-space transfer runs (or loads from the run store) and the explorer shows, for
each prompt vector, its nearest anchor words in the source model and the found vector's nearest anchor
words in the target, with the test accuracy. :func:`explorer_view` computes one view without any widget
and :func:`draw_explorer` draws it with matplotlib: the static stand-in of the rendered book.
"""
from __future__ import annotations

import html
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from . import experiments
from .results import RunStore


@dataclass
class ExplorerView:
    """One state of the explorer: the nearest anchors of each prompt vector in both models and the scores
    (test P@1, fractions): ``accuracy`` of the transferred prompt on the relation, ``mean_accuracy`` over
    relations, ``source_accuracy`` of the source prompt on the source model (same relation)."""

    relation: str
    label: str
    source: str
    target: str
    n_anchors: int
    seed: int
    source_nearest: list[list[tuple[str, float]]]
    target_nearest: list[list[tuple[str, float]]]
    accuracy: float
    mean_accuracy: float
    source_accuracy: float

    @property
    def overlap(self) -> list[int]:
        """Per prompt vector: how many of its nearest anchors are the same words in both models."""
        return [len({w for w, _ in s} & {w for w, _ in t}) for s, t in zip(self.source_nearest, self.target_nearest)]


def nearest_anchors(vectors: torch.Tensor, anchor_embeddings: torch.Tensor, words: list[str],
                    k: int = 5) -> list[list[tuple[str, float]]]:
    """For each vector of [m, d], the ``k`` anchor words with the highest cosine similarity."""
    sims = F.normalize(vectors.float(), dim=-1) @ F.normalize(anchor_embeddings.float(), dim=-1).T
    top = sims.topk(min(k, len(words)), dim=-1)
    return [[(words[i], float(v)) for v, i in zip(vals.tolist(), ids.tolist())]
            for vals, ids in zip(top.values, top.indices)]


def explorer_view(world: experiments.World, relation: str, source: str, target: str, n_anchors: int,
                  seed: int = 0, m: int = 5, epochs: int = 10, k: int = 5, store: RunStore | None = None,
                  progress: bool = False, **options) -> ExplorerView:
    """Compute one explorer state: relative transfer of the ``source`` prompts (tuned with ``seed``) to
    ``target`` with ``n_anchors`` anchors (``options``: ``steps``, ``topk``, ... as in
    :func:`experiments.transfer_scores`; cached in the run store), then the ``k`` nearest anchors of the
    ``relation``'s prompt vectors in both models."""
    from .transfer import anchor_embeddings, anchor_words, lama_fact_words

    if relation not in world.relations:
        raise ValueError(f"unknown relation {relation!r}; this world has {list(world.relations)}")
    for name in (source, target):
        if name not in world.models:
            raise ValueError(f"model {name!r} is not loaded in this world; loaded: {list(world.models)}")
    scores, vectors = experiments.transfer_scores(world, "relative", [source], target, seed, m, epochs, store,
                                                  progress=progress, n_anchors=n_anchors, **options)
    prompts, metrics = experiments.source_prompts(world, source, seed, m, epochs, store, progress=progress)
    src_lm, tgt_lm = world.models[source], world.models[target]
    exclude = options.get("exclude")
    exclude = lama_fact_words(options.get("lama_dir")) if exclude is None else exclude
    words = anchor_words([src_lm.tokenizer], tgt_lm.tokenizer, n_anchors, exclude, options.get("words"),
                         options.get("lama_dir"))
    r = list(world.relations).index(relation)
    return ExplorerView(
        relation=relation, label=world.relations[relation].label, source=source, target=target,
        n_anchors=len(words), seed=seed,
        source_nearest=nearest_anchors(prompts[relation], anchor_embeddings(src_lm, words), words, k),
        target_nearest=nearest_anchors(vectors[r], anchor_embeddings(tgt_lm, words), words, k),
        accuracy=scores[relation], mean_accuracy=scores["mean"], source_accuracy=metrics["test"][relation])


def view_html(view: ExplorerView) -> str:
    """The explorer's view as an HTML table (one row per prompt vector)."""
    def cell(pairs):
        return ", ".join(f"{html.escape(w)} <small>({c:.2f})</small>" for w, c in pairs)

    rows = "".join(f"<tr><td>v{i + 1}</td><td>{cell(s)}</td><td>{cell(t)}</td><td>{o}</td></tr>"
                   for i, (s, t, o) in enumerate(zip(view.source_nearest, view.target_nearest, view.overlap)))
    return (f"<p><b>{html.escape(view.relation)}</b> ({html.escape(view.label)}), {html.escape(view.source)} &rarr; "
            f"{html.escape(view.target)}, {view.n_anchors} anchors, seed {view.seed}<br>"
            f"test P@1 on the target: <b>{100 * view.accuracy:.1f}%</b> for this relation, "
            f"{100 * view.mean_accuracy:.1f}% mean over relations; the source prompt on its own model: "
            f"{100 * view.source_accuracy:.1f}%</p>"
            "<table><tr><th>vector</th><th>nearest anchors in the source (cosine)</th>"
            "<th>nearest anchors of the found vector in the target (cosine)</th><th>shared</th></tr>"
            f"{rows}</table>")


def draw_explorer(view: ExplorerView):
    """The explorer's view drawn with matplotlib (the static figure of the rendered book): one panel per
    model, one row per prompt vector, the nearest anchor words written in cells coloured by cosine."""
    import matplotlib.pyplot as plt
    import numpy as np

    m, k = len(view.source_nearest), len(view.source_nearest[0]) if view.source_nearest else 0
    # Stacked (source above target) at the book's column width; constrained layout keeps the title clear.
    fig, axes = plt.subplots(2, 1, figsize=(6.5, 2 * (0.32 * m + 0.9) + 0.5), sharex=True, layout="constrained")
    shared = [{w for w, _ in s} & {w for w, _ in t} for s, t in zip(view.source_nearest, view.target_nearest)]
    panels = ((axes[0], view.source_nearest, f"source prompt in {view.source} (P@1 {100 * view.source_accuracy:.1f}%)"),
              (axes[1], view.target_nearest, f"found prompt in {view.target} (P@1 {100 * view.accuracy:.1f}%)"))
    for ax, nearest, title in panels:
        sims = np.array([[c for _, c in row] for row in nearest])
        image = ax.imshow(sims, cmap="Blues", vmin=0, vmax=1, aspect="auto")
        ax.grid(False)
        for i, row in enumerate(nearest):
            for j, (word, c) in enumerate(row):
                ax.text(j, i, word, ha="center", va="center", fontsize=8,
                        color="white" if c > 0.6 else "black",
                        fontweight="bold" if word in shared[i] else "normal")
        ax.set_yticks(range(m), [f"v{i + 1}" for i in range(m)])
        ax.set_ylabel("prompt vector")
        ax.set_title(title, fontsize=9)
    axes[1].set_xticks(range(k), [f"#{j + 1}" for j in range(k)])
    axes[1].set_xlabel("rank of the anchor (by cosine similarity)")
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="cosine similarity")
    fig.suptitle(f"{view.relation} ({view.label}): {view.source} → {view.target}, {view.n_anchors} anchors\n"
                 "(bold: anchor near the vector in both models)", fontsize=10)
    return fig


class TransferExplorer:
    """The chapter-4 explorer: dropdowns for relation, source, target and anchor count; every change
    recomputes (or loads) the relative transfer and redraws the table. ``update()`` is the callback;
    ``widget`` the ipywidgets box to display (``display(explorer)`` works too)."""

    def __init__(self, world: experiments.World, seed: int = 0, m: int = 5, epochs: int = 10,
                 anchor_counts=(500, 1000, 2000, 4000), n_anchors: int | None = None, relation: str | None = None,
                 source: str | None = None, target: str | None = None, k: int = 5,
                 store: RunStore | None = None, **options):
        import ipywidgets as widgets

        names = list(world.models)
        if not names or not world.relations:
            raise ValueError("the explorer needs a world with at least one model and one relation")
        counts = sorted({int(c) for c in anchor_counts} | ({int(n_anchors)} if n_anchors else set()))
        self.world, self.seed, self.m, self.epochs, self.k = world, seed, m, epochs, k
        self.store, self.options = store, options
        rel_options = [(f"{r} ({world.relations[r].label})", r) for r in world.relations]
        self.relation = widgets.Dropdown(options=rel_options, value=relation or rel_options[0][1],
                                         description="relation")
        self.source = widgets.Dropdown(options=names, value=source or names[0], description="source")
        self.target = widgets.Dropdown(options=names, value=target or names[-1], description="target")
        self.anchors = widgets.SelectionSlider(options=counts, value=int(n_anchors or counts[-1]),
                                               description="anchors", continuous_update=False)
        self.status = widgets.HTML()
        self.table = widgets.HTML()
        self.view: ExplorerView | None = None
        for control in (self.relation, self.source, self.target, self.anchors):
            control.observe(self.update, names="value")
        self.widget = widgets.VBox([widgets.HBox([self.relation, self.source]),
                                    widgets.HBox([self.target, self.anchors]), self.status, self.table])
        self.update()

    def update(self, change=None) -> ExplorerView:
        """Recompute the view for the current choices and redraw (the widgets' callback)."""
        self.status.value = "<i>computing (cached runs load instantly)...</i>"
        try:
            self.view = explorer_view(self.world, self.relation.value, self.source.value, self.target.value,
                                      self.anchors.value, self.seed, self.m, self.epochs, self.k, self.store,
                                      **self.options)
        except Exception as err:  # show the message in the widget rather than losing it in a callback
            self.status.value = f"<b>error:</b> {html.escape(str(err))}"
            if change is None:
                raise
            return self.view
        self.status.value = ""
        self.table.value = view_html(self.view)
        return self.view

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)
