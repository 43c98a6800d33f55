"""Atomic file writes shared by the caches and the distributed extractor."""

import os
import tempfile
from pathlib import Path


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


def check_directory(path, *, parameter):
    """Raise ``NotADirectoryError`` up front if ``path`` cannot be a folder.

    ``path`` may not exist yet (it is created on first write), but neither it
    nor any of its parents may be a file. ``parameter`` (e.g. ``"cache_dir"``,
    ``"-o/--output"``) is named in the message.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skalign._files import check_directory
    >>> file = Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = file.write_text("hello")
    >>> check_directory(file.parent / "cache", parameter="cache_dir")
    >>> check_directory(file / "cache", parameter="cache_dir")
    Traceback (most recent call last):
    ...
    NotADirectoryError: cache_dir ... is inside the file ...
    """
    path = Path(os.fspath(path))
    for folder in (path, *path.parents):
        if folder.exists() and not folder.is_dir():
            where = "is" if folder == path else "is inside"
            raise NotADirectoryError(
                f"{parameter} {str(path)!r} {where} the file {str(folder)!r}, but "
                "it must be a folder. Pass the path of a folder (it is created "
                "if missing), or move that file away."
            )
