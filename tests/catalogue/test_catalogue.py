"""Run the bad-input catalogue: every case is refused clearly or handled correctly."""

from collections import Counter

import pytest

from tests.catalogue._harness import GOOD, classify
from tests.catalogue._registry import all_cases

CASES = all_cases()


#: Every surface issue 23 names, each with at least a handful of cases: a
#: module that stops being collected (a renamed ``cases_`` file, an import
#: error swallowed) shows here instead of silently shrinking the catalogue.
SURFACES = {
    "experiment config", "experiment", "evaluation cache", "evaluation files",
    "outputs", "cli", "protocol arguments", "streaming", "weights", "aligners",
    "self-learning", "adapter", "kernel", "tensors", "retrieval", "zero-shot",
    "extractor parameters", "extractor identity", "extractor store",
    "extractor inputs", "extractor runtime",
}  # fmt: skip


def test_the_catalogue_covers_every_surface():
    counts = Counter(case.surface for case in CASES)
    thin = {surface: counts[surface] for surface in SURFACES if counts[surface] < 5}
    assert not thin, f"surfaces with fewer than 5 cases: {thin}"
    assert len(CASES) >= 700


def test_the_catalogue_has_unique_names():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case, tmp_path):
    outcome = classify(case, tmp_path)
    assert outcome.kind in GOOD, f"{outcome.kind}: {outcome.detail}"
