"""The bad-input catalogue: hostile and careless inputs, each classified.

Every case is one call a user could make, with what a sound package does
about it: refuse with an error that names the problem and the fix
(:class:`Raises`), go on with a warning that names what it did
(:class:`Warns`), or do the right thing (:class:`Behaves`).
:func:`classify` runs a case and says what happened: ``clear`` and
``correct`` are the two good outcomes; ``vague`` (the right error type with a
message that does not name the problem or the fix), ``silent`` (no error and a
wrong result, or a missing warning) and ``crash`` (an exception the case does
not expect: a raw ``KeyError``, ``IndexError``, a torch error) are faults.

One module per surface (``cases_*.py``) defines ``CASES``, a list of
:class:`Case`; ``test_catalogue.py`` runs them all, and
``python -m tests.catalogue`` prints the tally per surface.
"""
