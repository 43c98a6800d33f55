"""Print the bad-input catalogue's tally: ``python -m tests.catalogue [-v]``.

``-v`` also lists every case that is not clear or correct, with its evidence.
"""

import os
import sys
import tempfile
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # as under pytest (tests/conftest.py)
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from tests.catalogue._harness import GOOD, KINDS, classify, tally  # noqa: E402
from tests.catalogue._registry import all_cases  # noqa: E402


def main(argv):
    outcomes = []
    for case in all_cases():
        with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            outcomes.append((case, classify(case, folder)))
    width = max(len(surface) for surface in tally(outcomes))
    print(f"{'surface':<{width}}  " + "  ".join(f"{k:>7}" for k in KINDS) + "    cases")
    for surface, row in tally(outcomes).items():
        cells = "  ".join(f"{row[k]:>7}" for k in KINDS)
        print(f"{surface:<{width}}  {cells}  {sum(row.values()):>7}")
    faults = [(case, outcome) for case, outcome in outcomes if outcome.kind not in GOOD]
    if "-v" in argv:
        for case, outcome in faults:
            print(f"\n[{outcome.kind}] {case.id}\n    {outcome.detail}")
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
