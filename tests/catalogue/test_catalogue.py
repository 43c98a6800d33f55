"""Run the bad-input catalogue: every case is refused clearly or handled correctly."""

import pytest

from tests.catalogue._harness import GOOD, classify
from tests.catalogue._registry import all_cases

CASES = all_cases()


def test_the_catalogue_has_unique_names():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case, tmp_path):
    outcome = classify(case, tmp_path)
    assert outcome.kind in GOOD, f"{outcome.kind}: {outcome.detail}"
