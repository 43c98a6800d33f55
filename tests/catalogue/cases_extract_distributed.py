"""embed_distributed's output folder shared or edited between runs: a damaged
manifest, truncated or forged partition files, a folder that is a file. Runs
on a one-thread Dask cluster inside this process."""

import numpy as np

from skalign.extract import embed_distributed
from skalign.extract._store import CacheEntryWarning
from tests.catalogue._harness import Behaves, Case, Raises, Warns
from tests.extract._catalogue_helpers import IMAGES, counting, reference

S = "extractor distributed"


def _embed(output, **options):
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        return embed_distributed(
            counting(memoize=False),
            IMAGES,
            output,
            client=client,
            partition_size=2,
            **options,
        )


def _after(tmp, edit):
    """Embed into ``tmp/out``, apply ``edit`` to the folder, embed again."""
    output = tmp / "out"
    _embed(output)
    edit(output)
    return _embed(output)


def _parts(output):
    return sorted(output.glob("part-*.parquet"))


def _truncate_first(output):
    first = _parts(output)[0]
    first.write_bytes(first.read_bytes()[:30])


def _forge_nan(output):
    """Rewrite a partition with NaN rows and the right metadata."""
    import pyarrow.parquet as pq

    first = _parts(output)[0]
    table = pq.read_table(first)
    values = np.full(2 * 6, np.nan, dtype=np.float32)
    import pyarrow as pa

    forged = pa.table(
        {
            "row": table.column("row"),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(values), 6),
        }
    ).replace_schema_metadata(table.schema.metadata)
    pq.write_table(forged, first)


def _recomputed(result):
    np.testing.assert_allclose(result, reference(), rtol=1e-6)
    return True


CASES = [
    Case(
        S,
        "a partition file truncated between runs is redone",
        lambda tmp: _after(tmp, _truncate_first),
        Warns(
            CacheEntryWarning,
            r"part-000000-.*\.parquet.*(damaged|unreadable).*again",
            _recomputed,
        ),
    ),
    Case(
        S,
        "a partition rewritten with NaN rows (metadata kept) is redone",
        lambda tmp: _after(tmp, _forge_nan),
        Warns(CacheEntryWarning, r"part-000000-.*\.parquet.*NaN.*again", _recomputed),
    ),
    Case(
        S,
        "a partition deleted between runs is redone",
        lambda tmp: _after(tmp, lambda output: _parts(output)[1].unlink()),
        Behaves(_recomputed),
    ),
    Case(
        S,
        "a partition file swapped for another's (moved by hand)",
        lambda tmp: _after(
            tmp,
            lambda output: _parts(output)[0].write_bytes(
                _parts(output)[1].read_bytes()
            ),
        ),
        Raises(ValueError, r"part-000000-.*rows 0 to 1.*changed by hand.*Delete"),
    ),
    Case(
        S,
        "the manifest overwritten with garbage",
        lambda tmp: _after(
            tmp, lambda output: (output / "embeddings.json").write_text("{nope")
        ),
        Raises(
            ValueError, r"embeddings\.json.*(damaged|not JSON).*(delete|new output)"
        ),
    ),
    Case(
        S,
        "the manifest replaced by a JSON list",
        lambda tmp: _after(
            tmp, lambda output: (output / "embeddings.json").write_text("[1, 2]")
        ),
        Raises(
            ValueError, r"embeddings\.json.*(damaged|manifest).*(delete|new output)"
        ),
    ),
    Case(
        S,
        "output is an existing file",
        lambda tmp: (tmp / "out.txt").write_text("x") and _embed(tmp / "out.txt"),
        Raises((NotADirectoryError, ValueError), r"out\.txt.*file.*folder"),
    ),
]
