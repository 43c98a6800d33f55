"""embed_distributed on a local Dask cluster of two worker processes."""

import json
import os

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

from skalign.datasets import load_digit_images, load_docstring_topics  # noqa: E402
from skalign.extract import (  # noqa: E402
    EmbeddingExtractor,
    clear_model_cache,
    embed_distributed,
)
from tests.extract import _cluster  # noqa: E402
from tests.extract._loads import count_loads  # noqa: E402

ONE_THREAD = dict.fromkeys(
    ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"), "1"
)

pytestmark = pytest.mark.usefixtures("fresh_model_registry")


def _local_cluster(n_workers=2, processes=True):
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # any free port: xdist workers run clusters at once
        **({"env": ONE_THREAD} if processes else {}),
    )


@pytest.fixture
def thread_client():
    """A one-worker cluster in this process: cheap, for the checks of inputs."""
    with (
        _local_cluster(1, processes=False) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _digit_images(n):
    return list(load_digit_images(size=None).images[:n])


def _module_extractor(**model_params):
    return EmbeddingExtractor(
        _cluster.KillOnceEncoder(**model_params),
        preprocess=_cluster.thumbnail,
        batch_size=10,
        n_workers=0,
    )


def test_real_model_on_two_processes_equals_single_process(tmp_path):
    texts = list(load_docstring_topics(24).texts)  # 120 real sentences
    extractor = EmbeddingExtractor("all-minilm-l6-v2", normalize=True)
    expected = extractor.transform(texts)
    with _local_cluster() as cluster, distributed.Client(cluster) as client:
        client.run(_cluster.count_loads)
        embeddings = embed_distributed(
            extractor, texts, tmp_path / "out", client=client, partition_size=20
        )
        loads = client.run(_cluster.n_loads)
        again = embed_distributed(
            extractor, texts, tmp_path / "out", client=client, partition_size=20
        )
        assert client.run(_cluster.n_loads) == loads  # the repeat loads nothing
    assert embeddings.shape == expected.shape and embeddings.dtype == np.float32
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)
    np.testing.assert_array_equal(again, embeddings)
    # A worker loads the model at most once for its share of the 6 partitions.
    assert set(loads.values()) <= {0, 1} and sum(loads.values()) >= 1
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files[0] == "embeddings.json" and len(files) == 1 + 6


def test_killed_worker_loses_and_duplicates_no_row(tmp_path):
    images = _digit_images(120)  # 12 partitions, one forward pass each
    expected = _module_extractor().transform(images)
    log_dir = tmp_path / "forwards"
    log_dir.mkdir()
    extractor = _module_extractor(log_dir=str(log_dir), kill_after=4)
    with _local_cluster() as cluster, distributed.Client(cluster) as client:
        embeddings = embed_distributed(
            extractor, images, tmp_path / "out", client=client, partition_size=10
        )
        killed = (log_dir / "killed").read_text()
        forwards = sorted(p.name.split(".")[0] for p in log_dir.iterdir())
        forwards.remove("killed")
        again = embed_distributed(
            extractor, images, tmp_path / "out", client=client, partition_size=10
        )
    np.testing.assert_allclose(embeddings, expected, atol=1e-5)
    np.testing.assert_array_equal(again, embeddings)
    # Only the partition embedded when its worker died ran twice; those
    # finished before (their results lost with the worker) were not redone,
    # and the second call embedded nothing.
    counts = {digest: forwards.count(digest) for digest in set(forwards)}
    assert len(counts) == 12
    assert counts.pop(killed) == 2 and set(counts.values()) == {1}
    assert len(os.listdir(log_dir)) == 1 + 13

    import pyarrow.parquet as pq

    rows = np.concatenate(
        [
            pq.read_table(path).column("row").to_numpy()
            for path in sorted((tmp_path / "out").glob("*.parquet"))
        ]
    )
    np.testing.assert_array_equal(rows, np.arange(120))


def test_repeat_call_whose_partitions_are_done_loads_no_model(
    thread_client, tmp_path, monkeypatch
):
    loads = count_loads(monkeypatch)
    texts = ["a pleural effusion", "no acute disease", "a small nodule"]
    extractor = EmbeddingExtractor("paraphrase-minilm-l3")
    first = embed_distributed(
        extractor, texts, tmp_path, client=thread_client, partition_size=2
    )
    assert len(loads) == 1
    clear_model_cache()
    again = embed_distributed(
        extractor, texts, tmp_path, client=thread_client, partition_size=2
    )
    assert len(loads) == 1
    np.testing.assert_array_equal(again, first)


def test_groups_and_paths_pool_as_transform(thread_client, tmp_path):
    from PIL import Image

    paths = []
    for i, pixels in enumerate(_digit_images(5)):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(pixels).save(paths[-1])
    groups = [[paths[0], paths[1]], [paths[2]], [paths[3], None, paths[4]]]
    extractor = _module_extractor()
    embeddings = embed_distributed(extractor, groups, tmp_path / "o", partition_size=2)
    np.testing.assert_allclose(embeddings, extractor.transform(groups), atol=1e-6)


def test_output_of_another_model_or_input_set_is_refused(thread_client, tmp_path):
    images = _digit_images(6)
    out = tmp_path / "out"
    embed_distributed(_module_extractor(), images, out, partition_size=4)
    other_model = EmbeddingExtractor(
        _cluster.KillOnceEncoder(), preprocess=_cluster.thumbnail, normalize=True
    )
    with pytest.raises(ValueError, match="another model configuration"):
        embed_distributed(other_model, images, out, partition_size=4)
    with pytest.raises(ValueError, match="another input set"):
        embed_distributed(_module_extractor(), images[:5], out, partition_size=4)
    with pytest.raises(ValueError, match="another input set"):
        embed_distributed(_module_extractor(), images, out, partition_size=3)
    manifest = json.loads((out / "embeddings.json").read_text())
    assert manifest["n_samples"] == 6 and len(manifest["partitions"]) == 2


def test_foreign_folder_and_edited_partition_are_refused(thread_client, tmp_path):
    images = _digit_images(4)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an embed_distributed output"):
        embed_distributed(_module_extractor(), images, tmp_path / "foreign")
    out = tmp_path / "out"
    embed_distributed(_module_extractor(), images, out, partition_size=2)
    first, second = sorted(out.glob("*.parquet"))
    os.replace(second, first)
    second.write_bytes(first.read_bytes())
    with pytest.raises(ValueError, match="changed by hand"):
        embed_distributed(_module_extractor(), images, out, partition_size=2)


def test_missing_client_and_empty_input_say_what_to_do(tmp_path):
    extractor = _module_extractor()
    with pytest.raises(ValueError, match="No Dask client.*LocalCluster"):
        embed_distributed(extractor, _digit_images(2), tmp_path)
    with pytest.raises(ValueError, match="X is empty"):
        embed_distributed(extractor, [], tmp_path)
