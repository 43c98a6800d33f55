"""run_experiment: the paper's whole experiment from one configuration.

The configuration (:mod:`._experiment_config`) declares data sets, encoders,
stitching tasks and the zero-shot comparison. This module embeds what is
needed (each (encoder, data set) once, stored in the cache folder), runs
the pooled stitching curves and table (:mod:`._pooled`, every cell cached)
and the zero-shot comparison (:func:`zero_shot_report`), and writes the
tables, the three figures and ``report.md``.
"""

import dataclasses
import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._files import atomic_write, check_directory
from ..extract._inputs import KIND_PATH, content_digest
from ._cache import DamagedCellWarning, fingerprint
from ._experiment_config import ExperimentConfig, load_config
from ._io import read_embeddings
from ._outputs import path_inside, safe_file_name, write_outputs
from ._plots import plot_anchor_curve, plot_stitching_table, plot_zero_shot
from ._pooled import plan_pooled, pooled_anchor_curve, pooled_stitching_table
from ._prompt_embeddings import PromptEmbeddingFile
from ._scoring import METRIC_LABELS
from ._stitching import with_unpaired
from ._table1 import methods_markdown, table1_markdown
from ._zeroshot_eval import zero_shot_report

# File stems of the figures (PNG).
FIGURES = {
    "fig3": "fig3_anchor_curves",
    "table1": "table1_stitching",
    "fig4": "fig4_zero_shot",
}


@dataclass(frozen=True)
class _Data:
    """A loaded data set: ids, items (images or texts), reports and labels."""

    ids: np.ndarray
    items: list | None
    reports: list | None
    labels: pd.DataFrame  # label columns, one row per id
    modality: str | None


def run_experiment(
    config, output_dir, *, cache_dir=None, dry_run=False, show_progress=True
):
    """Run the experiment a configuration declares and write its report.

    Stitching (the paper's Fig. 3 and Table 1, pooled over every encoder
    pair, task and anchor draw) and zero-shot classification in a text space
    (Fig. 4: vision encoders aligned once on an anchor set of image–report
    pairs, multimodal baselines, the naive floor and chance). Every
    embedding and every stitching cell is stored in ``cache_dir``: a run
    interrupted and started again resumes where it stopped. This is
    ``skalign experiment``; see its ``--help`` for the configuration keys.

    Parameters
    ----------
    config : str, path-like, dict or ExperimentConfig
        A TOML file, a packaged configuration (``"skalign:demo"``, what
        ``skalign demo`` runs), the same structure as a dict, or a checked
        :class:`ExperimentConfig`.
    output_dir : str or path-like
        Where the CSV tables, the figures and ``report.md`` are written.
    cache_dir : str, path-like or None, default=None
        Embeddings and finished cells; None is ``output_dir / "cache"``.
    dry_run : bool, default=False
        Print the plan (pairs × anchor counts × repeats, what is embedded)
        and what the cache already holds; run and write nothing.
    show_progress : bool, default=True
        Progress bars and messages.

    Returns
    -------
    results : dict
        ``"curve"``, ``"table"``, ``"pairs"`` and ``"zero_shot"``
        :class:`pandas.DataFrame` (absent when the configuration has no such
        part), or ``{"plan": DataFrame}`` for a dry run.

    Examples
    --------
    Two text encoders stitched on a few real sentences (the packaged models):

    >>> import contextlib, io, tempfile
    >>> from skalign.evaluation import run_experiment
    >>> config = {
    ...     "protocol": {"n_anchors": [10, 20], "n_repeats": 1,
    ...                  "n_test_per_class": 3, "anchor_size": 0.5},
    ...     "extract": {"device": "cpu"},
    ...     "datasets": {"topics": {"source": "skalign:docstring-topics",
    ...                             "n_per_class": 12}},
    ...     "encoders": {
    ...         "minilm": {"modality": "text", "domain": "general",
    ...                    "extractor": "all-minilm-l6-v2"},
    ...         "l3": {"modality": "text", "domain": "general",
    ...                "extractor": "paraphrase-minilm-l3"}},
    ...     "stitching": {"topics": {"dataset": "topics"}}}
    >>> with contextlib.redirect_stdout(io.StringIO()):
    ...     results = run_experiment(config, tempfile.mkdtemp(), show_progress=False)
    >>> results["table"].index.tolist()
    [('text', 'general', 'general')]
    """
    for name, value in (("dry_run", dry_run), ("show_progress", show_progress)):
        if not isinstance(value, bool | np.bool_):
            raise TypeError(f"{name} must be True or False, got {value!r}.")
    if not isinstance(config, ExperimentConfig):
        config = load_config(config)
    output_dir = _folder(output_dir, "output_dir")
    cache_dir = (
        output_dir / "cache" if cache_dir is None else _folder(cache_dir, "cache_dir")
    )
    runner = _Runner(config, cache_dir, show_progress)
    if dry_run:
        return {"plan": runner.dry_run()}
    results = {}
    if config.stitching:
        results.update(runner.stitching())
    if config.zero_shot is not None:
        results["zero_shot"] = runner.zero_shot()
    _write_report(config, output_dir, results, runner.say)
    return results


def _folder(value, parameter):
    """``value`` as a Path, refused up front (before anything is embedded) when
    it is not a path or cannot be a folder."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"{parameter} must be the path of a folder (str or path-like), got "
            f"{value!r}."
        )
    check_directory(value, parameter=parameter)
    return Path(value)


class _Runner:
    def __init__(self, config, cache_dir, show_progress):
        self.config = config
        self.cache_dir = cache_dir
        self.show_progress = show_progress
        self._data = {}
        self._extractors = {}
        self._store_paths = {}

    def say(self, text):
        if self.show_progress:
            print(text, flush=True)

    # --- data and embeddings -------------------------------------------------

    def data(self, name):
        if name not in self._data:
            self._data[name] = _load_dataset(self.config.datasets[name])
        return self._data[name]

    def labels(self, dataset, label):
        """The label column ``label`` (or the data set's own) as strings."""
        data = self.data(dataset)
        column = label or self.config.datasets[dataset].label
        if column is None:
            if data.labels.shape[1] == 0:
                raise ValueError(_no_label_column(self.config.datasets[dataset]))
            if data.labels.shape[1] != 1:
                raise ValueError(
                    f"Data set {dataset!r} has the label columns "
                    f"{list(data.labels.columns)!r}; choose one with label = ... "
                    f"in [datasets.{dataset}] or in the task."
                )
            column = data.labels.columns[0]
        if column not in data.labels.columns:
            raise ValueError(
                f"Data set {dataset!r} has no label column {column!r} (its label "
                f"columns: {list(data.labels.columns)!r}); fix the task's label = "
                "... (or the data set's)."
            )
        return np.array(
            [None if pd.isna(v) else _label_text(v) for v in data.labels[column]],
            dtype=object,
        )

    def _store_path(self, encoder, dataset):
        """Where ``encoder``'s embeddings of ``dataset`` are stored: named by a
        key of everything they depend on, the items themselves included (an
        edited text under the same id, or an image file with other bytes, is
        another key). Computed once per run (image files are read to hash)."""
        if (encoder, dataset) not in self._store_paths:
            self._store_paths[encoder, dataset] = self._new_store_path(encoder, dataset)
        return self._store_paths[encoder, dataset]

    def _new_store_path(self, encoder, dataset):
        spec = self.config.encoders[encoder]
        data = self.data(dataset)
        try:
            items = _items_identity(self._items(spec, dataset))
        except ValueError:  # nothing to embed: the run says so when it needs it
            items = None
        key = fingerprint(spec.extractor, spec.modality, data.ids.tolist(), items)
        # names given by the configuration: sanitised, the key tells them apart
        name = f"{safe_file_name(encoder)}--{safe_file_name(dataset)}--{key}.npy"
        return path_inside(self.cache_dir / "embeddings", name)

    def status(self, encoder, dataset):
        """ "file", "cached" or "embed": where the embeddings would come from."""
        if dataset in self.config.encoders[encoder].embeddings:
            return "file"
        return "cached" if self._store_path(encoder, dataset).exists() else "embed"

    def embeddings(self, encoder, dataset):
        """``encoder``'s embeddings of ``dataset``'s items, rows in id order."""
        spec = self.config.encoders[encoder]
        data = self.data(dataset)
        if dataset in spec.embeddings:
            return _aligned_file(spec.embeddings[dataset], data.ids, encoder, dataset)
        path = self._store_path(encoder, dataset)
        stored = _read_stored(path, n_rows=len(data.ids))
        if stored is not None:
            return stored
        items = self._items(spec, dataset)
        self.say(f"embedding {len(items)} items of {dataset!r} with {encoder!r}")
        X = np.asarray(self._extractor(encoder).fit_transform(items))
        _write_stored(path, X)
        return X

    def _items(self, spec, dataset):
        data = self.data(dataset)
        if spec.modality == "text":
            items = data.reports if data.modality == "image" else data.items
        else:
            items = data.items if data.modality == "image" else None
        if items is None:
            what = "reports" if spec.modality == "text" else "images"
            raise ValueError(
                f"Encoder {spec.name!r} ({spec.modality}) cannot embed data set "
                f"{dataset!r}: it has no {what}. Give the data set a source with "
                f"them, or the encoder an embedding file: [encoders.{spec.name}] "
                f"embeddings = {{{dataset} = 'file.npz'}}."
            )
        return items

    def _extractor(self, encoder):
        from ..extract import EmbeddingExtractor

        spec = self.config.encoders[encoder]
        if spec.extractor is None:
            raise ValueError(
                f"Encoder {encoder!r} has no extractor, so it can only read "
                "embedding files; add extractor = 'SPEC' to [encoders."
                f"{encoder}] (it embeds prompts and data sets without a file)."
            )
        if encoder not in self._extractors:
            extract = self.config.extract
            self._extractors[encoder] = EmbeddingExtractor(
                spec.extractor,
                modality=spec.modality,
                device=extract["device"],
                batch_size=extract["batch_size"],
                cache_dir=self.cache_dir / "extractor",
                show_progress=self.show_progress,
            )
        return self._extractors[encoder]

    # --- stitching -------------------------------------------------------------

    def _stitching_tasks(self):
        tasks = {}
        for name, task in self.config.stitching.items():
            y = self.labels(task.dataset, task.label)
            keep = np.flatnonzero(pd.notna(y))
            embeddings = {
                encoder: self.embeddings(encoder, task.dataset)[keep]
                for encoder in task.encoders
            }
            tasks[name] = (embeddings, y[keep].astype(str))
        return tasks

    def _unpaired_pools(self, tasks=None):
        """Task -> encoder -> its embeddings of the task's unpaired pool (None
        when no task has one), after refusing a pool sharing items with the
        task's data set."""
        pools = {}
        for name, task in self.config.stitching.items():
            if task.unpaired is None or (tasks is not None and name not in tasks):
                continue
            self._refuse_shared_items(
                task.unpaired, [task.dataset], f"stitching.{name}.unpaired"
            )
            pools[name] = {
                encoder: self.embeddings(encoder, task.unpaired)
                for encoder in task.encoders
            }
        return pools or None

    def _refuse_shared_items(self, pool, datasets, key, role="test"):
        """An unpaired pool never holds a tested item: refuse ids it shares
        with ``datasets`` when both come from one file (their source, or
        without one their labels file: ids of two files are two id spaces)."""

        def origin(name):
            dataset = self.config.datasets[name]
            return dataset.labels if dataset.source is None else dataset.source

        for dataset in datasets:
            if origin(pool) != origin(dataset):
                continue
            shared = np.intersect1d(self.data(pool).ids, self.data(dataset).ids)
            if shared.size:
                raise ValueError(
                    f"{key} = {pool!r} shares {shared.size} items with data set "
                    f"{dataset!r}, whose items are {role} items (e.g. "
                    f"{shared[:3].tolist()!r}); an unpaired pool must never "
                    f"contain {role} items. Make the pool other items (e.g. "
                    "disjoint rows = [start, stop] of the same source)."
                )

    def _protocol(self):
        """The configuration's protocol, its cells stored in the cache."""
        return dataclasses.replace(
            self.config.protocol,
            cache_dir=self.cache_dir / "cells",
            show_progress=self.show_progress,
        )

    def _modalities(self):
        return {name: spec.modality for name, spec in self.config.encoders.items()}

    def stitching(self):
        self.say("== stitching: anchor curves and table ==")
        unpaired = self._unpaired_pools()
        tasks = self._stitching_tasks()
        options = self._protocol().keywords(without=("split",))
        curves = self.config.curves
        n_anchors = curves["n_anchors"]
        curve, runs = pooled_anchor_curve(
            tasks,
            modalities=self._modalities(),
            n_anchors=n_anchors,
            unpaired=unpaired,
            return_runs=True,
            **options,
        )
        reused = int(runs["cached"].sum())
        self.say(f"stitching: {len(runs)} runs, {reused} reused from the cache")
        table_anchors = curves["table_n_anchors"]
        if table_anchors is None and n_anchors is not None:
            table_anchors = int(np.max(n_anchors))
        table, pairs = pooled_stitching_table(
            tasks,
            {name: spec.domain for name, spec in self.config.encoders.items()},
            modalities=self._modalities(),
            n_anchors=table_anchors,
            unpaired=unpaired,
            metric=curves["metric"],
            change_transform=curves["change_transform"],
            return_pairs=True,
            **options,
        )
        return {"curve": curve, "runs": runs, "table": table, "pairs": pairs}

    # --- zero-shot -----------------------------------------------------------

    def zero_shot(self):
        zs = self.config.zero_shot
        self.say("== zero-shot classification in the text space ==")
        task_datasets = list(dict.fromkeys(t.dataset for t in zs.tasks.values()))
        # images of every task data set, stacked; anchors excluded from tests
        excluded = self._anchor_overlap(task_datasets)
        starts = np.cumsum([0] + [len(self.data(d).ids) for d in task_datasets])
        n_images = int(starts[-1])

        def stacked(encoder):
            return np.vstack([self.embeddings(encoder, d) for d in task_datasets])

        tasks = {}
        for name, task in zs.tasks.items():
            labels = np.full(n_images, None, dtype=object)
            start = starts[task_datasets.index(task.dataset)]
            values = self.labels(task.dataset, task.label)
            values[excluded[task.dataset]] = None
            labels[start : start + len(values)] = values
            prompts = _prompts(task)
            if isinstance(task.prompts, str) and task.prompts.startswith("skalign:"):
                # a builtin set prompts every class of its data set: keep those
                # of the task (e.g. digits 0-4 only)
                present = set(values[pd.notna(values)])
                prompts = {c: p for c, p in prompts.items() if c in present}
            tasks[name] = (labels, prompts)
        methods, anchors = {}, {}
        if zs.vision_encoders:
            reports = self.embeddings(zs.text_encoder, zs.anchors)
            if zs.unpaired is not None:
                self._refuse_shared_items(
                    zs.unpaired, task_datasets, "zero_shot.unpaired"
                )
                if zs.anchors is not None:
                    self._refuse_shared_items(
                        zs.unpaired,
                        [zs.anchors],
                        "zero_shot.unpaired",
                        "paired anchor",
                    )
                pool_reports = self.embeddings(zs.text_encoder, zs.unpaired)
            for encoder in zs.vision_encoders:
                methods[encoder] = stacked(encoder)
                anchors[encoder] = (self.embeddings(encoder, zs.anchors), reports)
                if zs.unpaired is not None:  # NaN-marked unpaired rows
                    anchors[encoder] = with_unpaired(
                        *anchors[encoder],
                        self.embeddings(encoder, zs.unpaired),
                        pool_reports,
                    )
        for name, (image_encoder, text_tower) in zs.baselines.items():
            methods[name] = (stacked(image_encoder), None, self._prompts(text_tower))
        text_encoder = zs.text_encoder
        if zs.prompt_embeddings is not None:
            text_encoder = zs.prompt_embeddings
        return zero_shot_report(
            methods,
            tasks,
            anchors=anchors,
            transforms=list(zs.transforms),
            naive=zs.naive,
            text_encoder=self._prompts(text_encoder),
            prompt_pooling=zs.prompt_pooling,
            hubness=zs.hubness,
            hubness_neighbors=zs.hubness_neighbors,
            anchor_repeats=zs.anchor_repeats,
            anchor_size=zs.anchor_size,
            n_per_class=zs.n_per_class,
            n_repeats=zs.n_repeats,
            random_state=self.config.protocol.random_state,
            show_progress=self.show_progress,
        )

    def _prompts(self, text_tower):
        """What embeds the prompts: an encoder's extractor, or a file of them
        already embedded (``prompt_embeddings``, ids = the prompt texts)."""
        if isinstance(text_tower, Path):
            return PromptEmbeddingFile(text_tower)
        return self._extractor(text_tower)

    def _anchor_overlap(self, task_datasets):
        """Per task data set, the rows that are also anchors (never tested)."""
        zs = self.config.zero_shot
        overlap = {}
        for dataset in task_datasets:
            rows = np.zeros(len(self.data(dataset).ids), dtype=bool)
            if zs.anchors is not None and zs.vision_encoders:
                if self._same_items(dataset, zs.anchors):
                    rows = np.isin(self.data(dataset).ids, self.data(zs.anchors).ids)
            overlap[dataset] = rows
        return overlap

    def _same_items(self, dataset, other):
        """Whether the ids of two data sets name the same items: one source,
        one labels file (without a source), or one embedding file of an
        encoder for both. Two different label files are two data sets."""
        first, second = self.config.datasets[dataset], self.config.datasets[other]
        if first.source is not None or second.source is not None:
            if first.source == second.source:
                return True
        elif first.labels.resolve() == second.labels.resolve():
            return True
        for encoder in self.config.encoders.values():
            files = encoder.embeddings
            if dataset in files and other in files:
                if files[dataset].resolve() == files[other].resolve():
                    return True
        return False

    # --- dry run -------------------------------------------------------------

    def dry_run(self):
        config = self.config
        lines = ["Plan of the experiment (dry run: nothing is embedded or run)"]
        needed = {}
        pool_of = {}  # stitching task -> its data set and its pool's, if any
        for name, task in config.stitching.items():
            pool_of[name] = [task.dataset]
            if task.unpaired is not None:
                pool_of[name].append(task.unpaired)
            for encoder in task.encoders:
                for dataset in pool_of[name]:
                    needed[encoder, dataset] = None
        zs = config.zero_shot
        if zs is not None:
            datasets = [t.dataset for t in zs.tasks.values()]
            unpaired = [zs.unpaired] if zs.unpaired is not None else []
            for encoder in zs.vision_encoders:
                for dataset in [zs.anchors, *datasets, *unpaired]:
                    needed[encoder, dataset] = None
            if zs.vision_encoders:
                needed[zs.text_encoder, zs.anchors] = None
                for dataset in unpaired:
                    needed[zs.text_encoder, dataset] = None
            for image_encoder, _ in zs.baselines.values():
                for dataset in datasets:
                    needed[image_encoder, dataset] = None
        lines.append("embeddings:")
        status = {}
        for encoder, dataset in needed:
            status[encoder, dataset] = self.status(encoder, dataset)
            n = len(self.data(dataset).ids)
            what = {
                "file": "read from its file",
                "cached": "in the cache (skipped)",
                "embed": f"to embed with {config.encoders[encoder].extractor}",
            }[status[encoder, dataset]]
            lines.append(f"  {encoder:>20} x {dataset:<20} {n:>6} items, {what}")
        rows = []
        if config.stitching:
            ready = {
                name: task
                for name, task in config.stitching.items()
                if all(
                    status[e, dataset] != "embed"
                    for e in task.encoders
                    for dataset in pool_of[name]
                )
            }
            lines.append("stitching (pairs x anchor counts x repeats x methods):")
            for name, task in config.stitching.items():
                n = len(task.encoders)
                if name not in ready:
                    lines.append(
                        f"  {name}: {n * (n - 1)} pairs; cached cells unknown until "
                        "its embeddings exist (0 cells cached)"
                    )
            if ready:
                plan = plan_pooled(
                    {
                        name: value
                        for name, value in self._stitching_tasks().items()
                        if name in ready
                    },
                    modalities=self._modalities(),
                    n_anchors=config.curves["n_anchors"],
                    unpaired=self._unpaired_pools(ready),
                    **self._protocol().keywords(without=("split",)),
                )
                for row in plan.itertuples():
                    lines += [
                        f"  {row.task} ({row.modality}): {row.n_pairs} pairs x "
                        f"{len(row.n_anchors)} anchor counts {row.n_anchors} x "
                        f"{row.n_repeats} repeats x {row.n_methods} methods",
                        f"    = {row.n_cells} cells, {row.n_cached} cached "
                        f"(skipped), {row.n_cells - row.n_cached} to run",
                    ]
                rows.append(plan)
        if zs is not None:
            n_methods = len(zs.vision_encoders) * (len(zs.transforms) + zs.naive)
            n_methods += len(zs.baselines)
            fitted = "once"
            if zs.anchor_size is not None:
                fitted = f"on {zs.anchor_repeats} draw(s) of {zs.anchor_size} anchors"
            lines.append(
                f"zero-shot: {n_methods} methods x {len(zs.tasks)} tasks x "
                f"{zs.n_repeats} balanced subsets (T fitted {fitted} per vision "
                f"encoder on {zs.anchors!r})"
            )
        print("\n".join(lines), flush=True)
        return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


# --- data sets -------------------------------------------------------------------


def _load_dataset(dataset):
    if dataset.source == "skalign:digits":
        from ..datasets import load_digit_images

        digits = load_digit_images(size=112)
        data = _Data(
            np.array([f"digit-{i}" for i in range(len(digits.target))]),
            list(digits.images),
            list(digits.descriptions),
            pd.DataFrame({"digit": digits.target.astype(str)}),
            "image",
        )
    elif dataset.source == "skalign:docstring-topics":
        from ..datasets import load_docstring_topics

        topics = load_docstring_topics(200)
        data = _Data(
            np.array([f"topic-{i}" for i in range(len(topics.target))]),
            list(topics.texts),
            None,
            pd.DataFrame({"topic": topics.target.astype(str)}),
            "text",
        )
    else:
        data = _csv_dataset(dataset)
    return _select(data, dataset)


def _csv_dataset(dataset):
    path = dataset.source if dataset.source is not None else dataset.labels
    table = pd.read_csv(path, encoding="utf-8-sig")  # a BOM (Excel) is skipped
    if "id" not in table.columns:
        raise ValueError(
            f"{path}: no 'id' column; a data set's CSV needs one id per row (it "
            "pairs the rows with embedding files)."
        )
    modality, items, reports = None, None, None
    if "image" in table.columns:
        modality = "image"
        items = [str(path.parent / p) for p in table["image"]]
    elif "text" in table.columns:
        modality, items = "text", table["text"].astype(str).tolist()
    if "report" in table.columns:
        reports = table["report"].astype(str).tolist()
    labels = table.drop(
        columns=[c for c in ("id", "image", "text", "report") if c in table]
    )
    return _Data(table["id"].astype(str).to_numpy(), items, reports, labels, modality)


def _select(data, dataset):
    """The rows slice, the classes kept, then the first ``n_per_class`` rows of
    each class."""
    rows = np.arange(len(data.ids))
    if dataset.rows is not None:
        _check_rows(dataset, len(rows))
        rows = rows[slice(*dataset.rows)]
    column = _label_column(data, dataset)
    if dataset.classes is not None:
        labels = data.labels[column].to_numpy()[rows]
        texts = np.array([None if pd.isna(v) else _label_text(v) for v in labels])
        _check_classes(dataset, column, texts)
        rows = rows[np.isin(texts, dataset.classes)]
    if dataset.n_per_class is not None:
        labels = data.labels[column].to_numpy()[rows]
        if not pd.notna(labels).any():
            raise ValueError(
                f"datasets.{dataset.name}.n_per_class keeps rows per class, but no "
                f"selected row has a label in the column {column!r}; fill in the "
                "labels or remove n_per_class."
            )
        keep = np.concatenate(
            [
                rows[labels == value][: dataset.n_per_class]
                for value in pd.unique(labels[pd.notna(labels)])
            ]
        )
        rows = np.sort(keep)

    def pick(values):
        return None if values is None else [values[i] for i in rows]

    return _Data(
        data.ids[rows],
        pick(data.items),
        pick(data.reports),
        data.labels.iloc[rows].reset_index(drop=True),
        data.modality,
    )


def _check_rows(dataset, n_rows):
    start, stop = dataset.rows
    if stop > n_rows:
        raise ValueError(
            f"datasets.{dataset.name}.rows = {list(dataset.rows)!r} reaches beyond "
            f"the data set's {n_rows} rows; give a slice within them, e.g. "
            f"[{min(start, n_rows - 1)}, {n_rows}]."
        )


def _label_column(data, dataset):
    """The label column the data set's ``label``, ``classes`` and
    ``n_per_class`` refer to (its only one when ``label`` is not given)."""
    columns = list(data.labels.columns)
    where = f"[datasets.{dataset.name}]"
    selects = dataset.classes is not None or dataset.n_per_class is not None
    if not columns:
        if dataset.label is None and not selects:
            return None  # e.g. anchor images paired with reports, unlabelled
        raise ValueError(_no_label_column(dataset))
    if dataset.label is not None and dataset.label not in columns:
        raise ValueError(
            f"datasets.{dataset.name}.label = {dataset.label!r} names no column of "
            f"the data set (its label columns: {columns!r}); fix label = ... in "
            f"{where}."
        )
    if (
        dataset.label is None
        and len(columns) > 1
        and (dataset.classes is not None or dataset.n_per_class is not None)
    ):
        raise ValueError(
            f"datasets.{dataset.name}.classes / n_per_class select rows by a label, "
            f"but the data set has the label columns {columns!r}; choose one with "
            f"label = ... in {where}."
        )
    return dataset.label or columns[0]


def _no_label_column(dataset):
    csv = dataset.source if isinstance(dataset.source, Path) else dataset.labels
    where = f"its CSV {str(csv)!r}" if csv is not None else "its data"
    return (
        f"Data set {dataset.name!r} has no label column ({where} holds only 'id' "
        "and the items); add a column of labels to it."
    )


def _check_classes(dataset, column, texts):
    present = sorted({str(t) for t in texts if t is not None})
    absent = [c for c in dataset.classes if c not in present]
    if absent:
        raise ValueError(
            f"datasets.{dataset.name}.classes names {absent!r}, which are no label "
            f"of the column {column!r} (its labels: {present[:20]!r}); fix classes "
            "= [...]."
        )


def _items_identity(items):
    """What embeddings of ``items`` depend on: texts and arrays by value, image
    files by path and the digest of their bytes (a file replaced by another of
    the same size and modification time, as ``cp -p`` or ``rsync -a`` leave
    it, is new)."""
    identity = []
    for item in items:
        if isinstance(item, str) and os.path.isfile(item):
            identity.append((item, content_digest(item, KIND_PATH)))
        else:
            identity.append(item)
    return identity


def _checksum(X):
    return hashlib.sha256(np.ascontiguousarray(X).tobytes()).hexdigest()


def _write_stored(path, X):
    """``X`` as ``path`` (.npy) beside a JSON record of its key (the file's
    stem), shape, dtype and SHA-256, both written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda handle: np.save(handle, X, allow_pickle=False))
    record = {
        "key": path.stem,
        "shape": list(X.shape),
        "dtype": str(X.dtype),
        "sha256": _checksum(X),
    }
    atomic_write(
        path.with_suffix(".json"),
        lambda handle: handle.write(json.dumps(record).encode()),
    )


def _read_stored(path, *, n_rows):
    """The stored embeddings at ``path``, or None when there are none or they
    cannot be trusted (unreadable, not the recorded array, not one finite row
    per item): then a warning names the file, and they are recomputed."""
    if not path.exists():
        return None
    try:
        record = json.loads(path.with_suffix(".json").read_text())
        X = np.load(path, allow_pickle=False)
        problem = None
        if not isinstance(record, dict) or record.get("key") != path.stem:
            problem = "it was stored for another key (copied or renamed)"
        elif X.ndim != 2 or X.shape[0] != n_rows:
            problem = f"shape {X.shape}, but the data set has {n_rows} items"
        elif list(X.shape) != record.get("shape") or _checksum(X) != record.get(
            "sha256"
        ):
            problem = "its content differs from the checksum written with it"
        elif not np.isfinite(X).all():
            problem = "it holds NaN or infinite values"
    except (OSError, ValueError, json.JSONDecodeError) as exc:
        problem = f"it cannot be read ({exc})"
    if problem is None:
        return X
    warnings.warn(
        f"Stored embeddings {str(path)!r} are not used: {problem}. They are "
        "computed again and the file is replaced.",
        DamagedCellWarning,
        stacklevel=3,
    )
    return None


def _aligned_file(path, ids, encoder, dataset):
    file = read_embeddings(path)
    if file.ids is None:
        if len(file.embeddings) != len(ids):
            raise ValueError(
                f"{path}: {len(file.embeddings)} rows without ids for data set "
                f"{dataset!r} of {len(ids)} rows; save 'ids' in the file."
            )
        return np.asarray(file.embeddings)
    position = {str(item): row for row, item in enumerate(file.ids)}
    missing = [item for item in ids if item not in position]
    if missing:
        raise ValueError(
            f"{path} (encoder {encoder!r}) has no embedding for {len(missing)} ids "
            f"of data set {dataset!r}, e.g. {missing[:3]!r}; embed every item."
        )
    return np.asarray(file.embeddings)[[position[item] for item in ids]]


def _label_text(value):
    return str(int(value) if isinstance(value, float) and value.is_integer() else value)


def _prompts(task):
    if task.prompts == "skalign:digits":
        from ..datasets import load_digit_images

        return {str(k): v for k, v in load_digit_images(size=None).prompts.items()}
    if task.prompts == "skalign:docstring-topics":
        from ..datasets import TOPIC_PROMPTS

        return dict(TOPIC_PROMPTS)
    if isinstance(task.prompts, dict):
        return task.prompts
    return json.loads(Path(task.prompts).read_text())


# --- outputs -------------------------------------------------------------------


def _write_report(config, output_dir, results, say):
    """Write the results' tables, figures and ``report.md`` (write_outputs)."""
    metric = config.curves["metric"]
    tables, figures = {}, {}
    sections = ["# Experiment report", ""]
    if config.path is not None:
        sections += [f"Configuration: `{config.path}`", ""]
    if "curve" in results:
        tables = {
            "stitching_curve": results["curve"],
            "stitching_runs": results["runs"],
            "stitching_table": results["table"].reset_index(),
            "stitching_pairs": results["pairs"],
        }
        figures[FIGURES["fig3"]] = _figure3(results["curve"], metric)
        figures[FIGURES["table1"]] = lambda ax: plot_stitching_table(
            results["table"],
            metric=metric,
            ax=ax,
            title="Stitching by domain: mean ± std over pairs, tasks and draws",
        )
        sections += [
            "## Stitching against the number of anchors (Fig. 3)",
            "",
            f"Mean ± std of {METRIC_LABELS[metric]} over every encoder → decoder "
            "pair, task and anchor draw, per modality.",
            "",
            f"![Fig. 3]({FIGURES['fig3']}.png)",
            "",
            "## Stitching by domain (Table 1)",
            "",
            _markdown_table1(results["table"]),
            "",
            f"![Table 1]({FIGURES['table1']}.png)",
            "",
        ]
    if "zero_shot" in results:
        report = results["zero_shot"]
        tables["zero_shot"] = report
        figures[FIGURES["fig4"]] = lambda ax: plot_zero_shot(
            report,
            metric=metric,
            ax=ax,
            title="Zero-shot classification: mean ± std over balanced subsets",
        )
        sections += [
            "## Zero-shot classification in the text space (Fig. 4)",
            "",
            _markdown_zero_shot(report, metric),
            "",
            f"![Fig. 4]({FIGURES['fig4']}.png)",
            "",
        ]
    written = write_outputs(output_dir, tables, figures, "\n".join(sections))
    for path in written:
        say(f"wrote {path}")
    for path in _stale_outputs(output_dir, written):
        path.unlink()
        say(f"removed {path} (an earlier run's; this configuration has no such part)")


#: Every table a run may write; with :data:`FIGURES`, the files it owns in -o.
TABLES = (
    "stitching_curve",
    "stitching_runs",
    "stitching_table",
    "stitching_pairs",
    "zero_shot",
)


def _stale_outputs(output_dir, written):
    """The files of an earlier run in ``output_dir`` that this run did not
    write (a part the configuration dropped): left there, they would read as
    this run's results. Only the run's own file names are considered."""
    names = [f"{t}.csv" for t in TABLES] + [f"{f}.png" for f in FIGURES.values()]
    written = {Path(path).name for path in written}
    return [
        path
        for path in (Path(output_dir) / name for name in names)  # fixed names
        if path.name not in written and path.is_file() and not path.is_symlink()
    ]


def _figure3(curve, metric):
    """One panel per modality."""

    def panel(modality):
        rows = curve[curve["modality"] == modality]
        n_pairs = int(rows["n_pairs"].max())
        return lambda ax: plot_anchor_curve(
            rows,
            metric=metric,
            ax=ax,
            title=f"{modality} encoders: mean ± std over {n_pairs} pairs "
            "(all tasks, all draws)",
        )

    return [panel(modality) for modality in dict.fromkeys(curve["modality"])]


def _markdown(frame):
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(map(str, row)) + " |" for row in frame.to_numpy()]
    return "\n".join([header, rule, *body])


def _markdown_table1(table):
    return (
        table1_markdown(table)
        + "\n\nEvery method, mean ± std:\n\n"
        + methods_markdown(table)
    )


def _markdown_zero_shot(report, metric):
    rows = report[report["metric"] == metric]
    cells = rows.assign(
        score=[
            f"{m:.3f} ± {s:.3f}" for m, s in zip(rows["mean"], rows["std"], strict=True)
        ]
    )
    wide = cells.pivot(index="method", columns="task", values="score")
    wide = wide.loc[list(dict.fromkeys(rows["method"]))].reset_index()
    return f"{METRIC_LABELS[metric]}:\n\n" + _markdown(wide)
