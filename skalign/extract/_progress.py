"""Progress bars: the extractor's own, and the loading bars of the libraries."""

import contextlib
import sys

AUTO_PROGRESS_MIN_INPUTS = 1000
"""``show_progress="auto"`` shows a bar from this many inputs to embed on."""


def shows_bar(show_progress, n_inputs):
    """Whether the extractor shows its bar for ``n_inputs`` inputs to embed.

    Examples
    --------
    >>> from skalign.extract._progress import shows_bar
    >>> shows_bar("auto", 10), shows_bar("auto", 5000), shows_bar(True, 1)
    (False, True, True)
    """
    if show_progress == "auto":
        return n_inputs >= AUTO_PROGRESS_MIN_INPUTS
    return bool(show_progress)


@contextlib.contextmanager
def library_bars(enabled):
    """Within the block, ``transformers``' and ``huggingface_hub``'s progress
    bars (e.g. "Loading weights") are shown only when ``enabled``.

    Only libraries already imported are touched (a backend's packages are
    imported before its model loads); their own settings come back after.
    """
    restore = []
    if not enabled:
        if "huggingface_hub" in sys.modules:
            from huggingface_hub import utils as hub_utils

            if not hub_utils.are_progress_bars_disabled():
                hub_utils.disable_progress_bars()
                restore.append(hub_utils.enable_progress_bars)
        if "transformers" in sys.modules:
            from transformers.utils import logging as transformers_logging

            if transformers_logging.is_progress_bar_enabled():
                transformers_logging.disable_progress_bar()
                restore.append(transformers_logging.enable_progress_bar)
    try:
        yield
    finally:
        for undo in restore:
            undo()
