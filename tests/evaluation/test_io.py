"""Embedding files: every format, pairing by id, and the errors."""

import numpy as np
import pandas as pd
import pytest

from skalign.evaluation import pair_files, read_embeddings, read_labels, read_prompts

pytest.importorskip("pyarrow")

RNG = np.random.default_rng(0)
EMBEDDINGS = RNG.normal(size=(5, 3))
IDS = np.array(["a", "b", "c", "d", "e"])
LABELS = np.array([0, 1, 0, 1, 1])


def test_npy_holds_embeddings_only(tmp_path):
    np.save(tmp_path / "x.npy", EMBEDDINGS)
    file = read_embeddings(tmp_path / "x.npy")
    np.testing.assert_array_equal(file.embeddings, EMBEDDINGS)
    assert file.ids is None and file.labels is None and file.split is None


@pytest.mark.parametrize("key", ["embeddings", "X"])
def test_npz_with_metadata(tmp_path, key):
    split = np.array(["train", "anchor", "test", "train", "test"])
    np.savez(
        tmp_path / "x.npz", **{key: EMBEDDINGS}, ids=IDS, labels=LABELS, split=split
    )
    file = read_embeddings(tmp_path / "x.npz")
    np.testing.assert_array_equal(file.embeddings, EMBEDDINGS)
    assert file.ids.tolist() == IDS.tolist()
    assert file.labels.tolist() == LABELS.tolist()
    assert file.split.tolist() == split.tolist()


def test_parquet_vector_column_and_numbered_columns(tmp_path):
    frame = pd.DataFrame({"id": IDS, "label": LABELS, "embedding": list(EMBEDDINGS)})
    frame.to_parquet(tmp_path / "vectors.parquet")
    vectors = read_embeddings(tmp_path / "vectors.parquet")
    wide = pd.DataFrame(EMBEDDINGS, columns=["0", "1", "2"]).assign(
        id=IDS, label=LABELS
    )
    wide.to_parquet(tmp_path / "wide.parquet")
    columns = read_embeddings(tmp_path / "wide.parquet")
    for file in (vectors, columns):
        np.testing.assert_allclose(file.embeddings, EMBEDDINGS)
        assert file.ids.tolist() == IDS.tolist()
        assert file.labels.tolist() == LABELS.tolist()


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="'missing.npz' does not exist"):
        read_embeddings("missing.npz")
    with pytest.raises(ValueError, match="unknown file type '.txt'"):
        read_embeddings(tmp_path / "x.txt")
    np.savez(tmp_path / "wrong.npz", vectors=EMBEDDINGS)
    with pytest.raises(ValueError, match="found \\['vectors'\\]"):
        read_embeddings(tmp_path / "wrong.npz")
    np.savez(tmp_path / "short.npz", embeddings=EMBEDDINGS, ids=IDS[:4])
    with pytest.raises(ValueError, match="'ids' has shape \\(4,\\) but there are 5"):
        read_embeddings(tmp_path / "short.npz")
    np.savez(tmp_path / "dup.npz", embeddings=EMBEDDINGS, ids=["a", "b", "a", "c", "d"])
    with pytest.raises(ValueError, match="id 'a' appears 2 times"):
        read_embeddings(tmp_path / "dup.npz")
    pd.DataFrame({"id": IDS, "text": list("vwxyz")}).to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="non-numeric columns \\['text'\\]"):
        read_embeddings(tmp_path / "t.parquet")


def _file(tmp_path, name, order, **fields):
    np.savez(tmp_path / f"{name}.npz", embeddings=EMBEDDINGS[order], **fields)
    return read_embeddings(tmp_path / f"{name}.npz")


def test_pairing_by_id_reorders_rows(tmp_path):
    order = np.array([3, 0, 4, 1, 2])
    files = {
        "a": _file(tmp_path, "a", slice(None), ids=IDS, labels=LABELS),
        "b": _file(tmp_path, "b", order, ids=IDS[order], labels=LABELS[order]),
    }
    embeddings, y, split, ids = pair_files(files)
    np.testing.assert_array_equal(embeddings["a"], embeddings["b"])
    assert ids.tolist() == IDS.tolist() and y.tolist() == LABELS.tolist()
    assert split is None


def test_pairing_keeps_common_ids_with_a_warning(tmp_path):
    files = {
        "a": _file(tmp_path, "a", slice(None), ids=IDS),
        "b": _file(tmp_path, "b", slice(1, None), ids=IDS[1:]),
    }
    with pytest.warns(UserWarning, match="1 of the 5 items of 'a' are not embedded"):
        embeddings, _, _, ids = pair_files(files)
    assert ids.tolist() == IDS[1:].tolist()
    np.testing.assert_array_equal(embeddings["a"], EMBEDDINGS[1:])


def test_pairing_errors(tmp_path):
    with_ids = _file(tmp_path, "a", slice(None), ids=IDS, labels=LABELS)
    without_ids = _file(tmp_path, "b", slice(None))
    with pytest.raises(ValueError, match="have ids but those of \\['b'\\] do not"):
        pair_files({"a": with_ids, "b": without_ids})
    short = _file(tmp_path, "c", slice(0, 4))
    with pytest.raises(
        ValueError, match="different numbers of rows: \\{'b': 5, 'c': 4\\}"
    ):
        pair_files({"b": without_ids, "c": short})
    other_labels = _file(tmp_path, "d", slice(None), ids=IDS, labels=1 - LABELS)
    with pytest.raises(ValueError, match="labels of 'a' and 'd' do not match: id 'a'"):
        pair_files({"a": with_ids, "d": other_labels})
    disjoint = _file(tmp_path, "e", slice(None), ids=np.char.add(IDS, "x"))
    with pytest.raises(ValueError, match="share no id"):
        pair_files({"a": with_ids, "e": disjoint})


def test_labels_file_by_id_and_by_position(tmp_path):
    order = np.array([4, 3, 2, 1, 0])
    pd.DataFrame({"id": IDS[order], "pneumonia": LABELS[order], "effusion": 0}).to_csv(
        tmp_path / "labels.csv", index=False
    )
    labels = read_labels(tmp_path / "labels.csv")
    files = {"a": _file(tmp_path, "a", slice(None), ids=IDS)}
    _, y, _, _ = pair_files(files, labels=labels, task="pneumonia")
    assert y.tolist() == [str(v) for v in LABELS]
    with pytest.raises(
        ValueError, match="several label columns.*choose one with task="
    ):
        pair_files(files, labels=labels)
    with pytest.raises(ValueError, match="task='edema' is not a column"):
        pair_files(files, labels=labels, task="edema")
    labels.loc[0, "id"] = "z"
    with pytest.raises(ValueError, match="1 embedded items have no row.*id 'e'"):
        pair_files(files, labels=labels, task="pneumonia")
    positional = pd.DataFrame({"label": LABELS[:4]})
    with pytest.raises(ValueError, match="4 rows but the embeddings have 5"):
        pair_files({"b": _file(tmp_path, "b", slice(None))}, labels=positional)


def test_labelled_only_drops_unlabelled_rows_with_a_warning(tmp_path):
    labels = pd.DataFrame({"id": IDS, "pneumonia": ["1", None, "0", "1", None]})
    files = {"a": _file(tmp_path, "a", slice(None), ids=IDS)}
    with pytest.warns(UserWarning, match="2 of 5 items have no label"):
        embeddings, y, _, ids = pair_files(files, labels=labels, labelled_only=True)
    assert ids.tolist() == IDS[[0, 2, 3]].tolist() and y.tolist() == ["1", "0", "1"]
    np.testing.assert_array_equal(embeddings["a"], EMBEDDINGS[[0, 2, 3]])
    with pytest.raises(ValueError, match="No labels.*Pass labels="):
        pair_files(files, labelled_only=True)


def test_read_prompts(tmp_path):
    path = tmp_path / "prompts.json"
    path.write_text('{"effusion": {"1": ["pleural effusion"], "0": "normal"}}')
    assert read_prompts(path) == {
        "effusion": {"1": ["pleural effusion"], "0": ["normal"]}
    }
    path.write_text('{"effusion": ["a prompt"]}')
    with pytest.raises(ValueError, match="task -> \\{class -> \\[prompts\\]\\}"):
        read_prompts(path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_prompts(tmp_path / "missing.json")
