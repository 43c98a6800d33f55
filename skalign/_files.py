"""Atomic file writes shared by the caches and the distributed extractor."""

import os
import tempfile


def atomic_write(path, dump):
    """Call ``dump(handle)`` on a hidden temporary file, then rename it to ``path``.

    The temporary file lives in ``path``'s folder, so the rename is atomic:
    concurrent writers and interrupted runs never leave a partial ``path``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skalign._files import atomic_write
    >>> path = Path(tempfile.mkdtemp()) / "hello.txt"
    >>> atomic_write(path, lambda handle: handle.write(b"hello"))
    >>> path.read_text()
    'hello'
    """
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=".tmp-", suffix=".partial", delete=False
    ) as handle:
        dump(handle)
    os.replace(handle.name, path)
