"""GridSearchCV over the four transforms x 5 folds with an extractor in the Pipeline.

The pipeline embeds raw sentences with the packaged all-MiniLM-L6-v2 and aligns
them into paraphrase-MiniLM-L3's space (targets precomputed). Printed, measured
in the same run from a cold start (model registry and memo cleared, empty
caches):

* the search with the default extractor (its in-process memo: no
  configuration);
* the search with the on-disk cache alone (``cache_dir``, ``memoize=False``);
* the same search with neither (``memoize=False``: every fold re-embeds);
* the baseline: one extraction of all sentences (model load included) plus the
  same search on the precomputed embeddings (the fits alone).

Target (issue 16): the default search <= 1.5x the baseline.

Run: ``python benchmarks/bench_gridsearch.py`` (a few minutes on 2 cores).
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from skalign import LatentAligner
from skalign.datasets import load_docstring_topics
from skalign.extract import EmbeddingExtractor, clear_model_cache

SOURCE, TARGET = "all-minilm-l6-v2", "paraphrase-minilm-l3"
GRID = {"transform_type": ["affine", "linear", "l-ortho", "ortho"]}


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def search(estimator, prefix=""):
    grid = {prefix + key: values for key, values in GRID.items()}
    return GridSearchCV(estimator, grid, cv=KFold(5, shuffle=True, random_state=0))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-topic", type=int, default=200)
    parser.add_argument(
        "--skip-uncached",
        action="store_true",
        help="skip the slow search that re-embeds every fold",
    )
    args = parser.parse_args()
    texts = list(load_docstring_topics(args.per_topic).texts)
    targets = EmbeddingExtractor(TARGET).fit_transform(texts)
    # pay the one-off library imports before timing anything
    EmbeddingExtractor(SOURCE).fit_transform(texts[:2])

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)

        def pipeline(**params):
            embed = EmbeddingExtractor(SOURCE, **params)
            return Pipeline([("embed", embed), ("align", LatentAligner())])

        clear_model_cache()
        default, best = timed(lambda: search(pipeline(), "align__").fit(texts, targets))
        clear_model_cache()
        cached, _ = timed(
            lambda: search(
                pipeline(cache_dir=tmp / "embeddings", memoize=False), "align__"
            ).fit(texts, targets)
        )
        uncached = float("nan")
        if not args.skip_uncached:
            clear_model_cache()
            uncached, _ = timed(
                lambda: search(pipeline(memoize=False), "align__").fit(texts, targets)
            )
        clear_model_cache()
        extract, embeddings = timed(
            lambda: EmbeddingExtractor(SOURCE).fit_transform(texts)
        )
        fits, plain = timed(lambda: search(LatentAligner()).fit(embeddings, targets))

    np.testing.assert_allclose(
        best.cv_results_["mean_test_score"],
        plain.cv_results_["mean_test_score"],
        rtol=1e-4,
    )
    baseline = extract + fits
    print(
        f"\n## GridSearchCV, 4 transforms x 5 folds, {len(texts)} sentences, "
        f"{SOURCE} in the Pipeline"
    )
    print(f"{'run':>52} {'seconds':>8} {'/ baseline':>11}")
    rows = [
        ("one extraction (model load included)", extract),
        ("the 21 fits alone, on precomputed embeddings", fits),
        ("baseline = extraction + fits", baseline),
        ("search, default extractor (in-process memo)", default),
        ("search, cache_dir only (memoize=False)", cached),
        ("search, no memo, no cache (re-embeds every fold)", uncached),
    ]
    for name, seconds in rows:
        print(f"{name:>52} {seconds:8.2f} {seconds / baseline:10.2f}x")


if __name__ == "__main__":
    main()
