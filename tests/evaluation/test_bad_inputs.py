"""Bad inputs to skalign.evaluation: files, pairing, protocol, result cache.

Each case asserts the error type and that the message names the file or the
parameter and the fix; damaged result-cache files are recomputed with a
warning naming them.
"""

import json

import numpy as np
import pandas as pd
import pytest
from joblib import delayed
from sklearn.utils._param_validation import InvalidParameterError

from skalign.evaluation import (
    EmbeddingFile,
    anchor_curve,
    balanced_subset,
    pair_files,
    read_embeddings,
    read_labels,
    read_prompts,
    stitching_table,
)
from skalign.evaluation._cache import DamagedCellWarning, ResultCache, run_cached

RNG = np.random.default_rng(0)
X = RNG.normal(size=(100, 5))
Y = RNG.normal(size=(100, 4))
y = np.repeat([0, 1], 50)


@pytest.fixture
def folder(tmp_path):
    """A folder of broken files, one per case."""
    np.savez(tmp_path / "ok.npz", embeddings=np.ones((5, 3)))
    whole = (tmp_path / "ok.npz").read_bytes()
    (tmp_path / "truncated.npz").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "text.npz").write_text("hello")
    (tmp_path / "text.npy").write_text("hello")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object))
    np.savez(
        tmp_path / "object_ids.npz",
        embeddings=np.ones((2, 3)),
        ids=np.array([None, 1], dtype=object),
    )
    np.savez(tmp_path / "no_key.npz", Z=np.ones((2, 3)))
    np.savez(tmp_path / "dup_ids.npz", embeddings=np.ones((2, 3)), ids=["a", "a"])
    np.savez(tmp_path / "short_labels.npz", embeddings=np.ones((3, 3)), labels=[0, 1])
    np.save(tmp_path / "nan.npy", np.array([[1.0, np.nan]]))
    frames = {
        "ragged": [np.ones(3), np.ones(4)],
        "none_row": [np.ones(3), None],
    }
    for name, rows in frames.items():
        pd.DataFrame({"id": ["a", "b"], "embedding": rows}).to_parquet(
            tmp_path / f"{name}.parquet"
        )
    pd.DataFrame({"id": ["a"], "x": ["text"]}).to_parquet(tmp_path / "strings.parquet")
    (tmp_path / "labels.csv").write_text("id\na\nb\n")
    (tmp_path / "dup_labels.csv").write_text("id,t\na,1\na,0\n")
    (tmp_path / "labels.txt").write_text("id,t\na,1\n")
    prompts = {
        "invalid": "{bad json",
        "empty_list": '{"t": {"0": []}}',
        "number": '{"t": {"0": 5}}',
        "null_prompt": '{"t": {"0": [null]}}',
        "empty_prompt": '{"t": {"0": [""]}}',
        "empty_object": "{}",
        "list_top": '[["a"]]',
        "task_not_object": '{"t": ["a photo"]}',
    }
    for name, text in prompts.items():
        (tmp_path / f"{name}.json").write_text(text)
    return tmp_path


def _file(ids, labels=None, n=3):
    return EmbeddingFile(np.ones((len(ids), n)), np.array(ids), labels, None)


CASES = {
    # embedding files
    "unknown suffix": (
        lambda f: read_embeddings(f / "labels.txt"),
        ValueError,
        r"labels.txt.*unknown file type '.txt'.*\.npz",
    ),
    "missing file": (
        lambda f: read_embeddings(f / "nothing.npz"),
        FileNotFoundError,
        r"nothing.npz' does not exist",
    ),
    ".npz that is not a zip": (
        lambda f: read_embeddings(f / "text.npz"),
        ValueError,
        r"text.npz': it is not a .npz archive",
    ),
    "truncated .npz": (
        lambda f: read_embeddings(f / "truncated.npz"),
        ValueError,
        r"truncated.npz'.*(not a .npz archive|damaged)",
    ),
    ".npy that is not an array": (
        lambda f: read_embeddings(f / "text.npy"),
        ValueError,
        r"text.npy': it is not a .npy file.*np.save",
    ),
    ".npy of Python objects": (
        lambda f: read_embeddings(f / "objects.npy"),
        ValueError,
        r"objects.npy': it holds Python objects.*does not load",
    ),
    ".npz with object ids": (
        lambda f: read_embeddings(f / "object_ids.npz"),
        ValueError,
        r"object_ids.npz'.*Python objects.*dtype=str",
    ),
    ".npz without embeddings": (
        lambda f: read_embeddings(f / "no_key.npz"),
        ValueError,
        r"no_key.npz' holds no embeddings.*'embeddings'.*\['Z'\]",
    ),
    "duplicate ids": (
        lambda f: read_embeddings(f / "dup_ids.npz"),
        ValueError,
        r"dup_ids.npz': id 'a' appears 2 times",
    ),
    "labels of another length": (
        lambda f: read_embeddings(f / "short_labels.npz"),
        ValueError,
        r"short_labels.npz': 'labels' has shape \(2,\).*3 embeddings",
    ),
    "NaN embeddings": (
        lambda f: read_embeddings(f / "nan.npy"),
        ValueError,
        r"nan.npy.*NaN",
    ),
    "ragged parquet embeddings": (
        lambda f: read_embeddings(f / "ragged.parquet"),
        ValueError,
        r"ragged.parquet'.*different lengths \[3, 4\] \(row 1 has 4\)",
    ),
    "None in a parquet embedding column": (
        lambda f: read_embeddings(f / "none_row.parquet"),
        ValueError,
        r"none_row.parquet'.*1 row\(s\) that are not a vector.*row 1",
    ),
    "string columns in parquet": (
        lambda f: read_embeddings(f / "strings.parquet"),
        ValueError,
        r"strings.parquet'.*non-numeric columns \['x'\]",
    ),
    # labels files
    "labels file missing": (
        lambda f: read_labels(f / "none.csv"),
        FileNotFoundError,
        r"Labels file .*none.csv' does not exist",
    ),
    "labels of an unknown type": (
        lambda f: read_labels(f / "labels.txt"),
        ValueError,
        r"labels.txt'.*Save them as .csv or .parquet",
    ),
    "labels without a label column": (
        lambda f: read_labels(f / "labels.csv"),
        ValueError,
        r"labels.csv' has no label column",
    ),
    "labels with duplicate ids": (
        lambda f: read_labels(f / "dup_labels.csv"),
        ValueError,
        r"dup_labels.csv': id 'a' appears 2 times",
    ),
    # prompts files
    "prompts file missing": (
        lambda f: read_prompts(f / "none.json"),
        FileNotFoundError,
        r"none.json' does not exist",
    ),
    "prompts not JSON": (
        lambda f: read_prompts(f / "invalid.json"),
        ValueError,
        r"prompts file .*invalid.json' is not valid JSON",
    ),
    "an empty prompt list": (
        lambda f: read_prompts(f / "empty_list.json"),
        ValueError,
        r"empty_list.json': task 't', class '0' has an empty prompt list",
    ),
    "a number as a class's prompts": (
        lambda f: read_prompts(f / "number.json"),
        ValueError,
        r"number.json': task 't', class '0' holds 5",
    ),
    "null as a prompt": (
        lambda f: read_prompts(f / "null_prompt.json"),
        ValueError,
        r"null_prompt.json'.*holds null, which is not a prompt",
    ),
    "an empty prompt": (
        lambda f: read_prompts(f / "empty_prompt.json"),
        ValueError,
        r'empty_prompt.json\'.*holds "", which is not a prompt',
    ),
    "no tasks": (
        lambda f: read_prompts(f / "empty_object.json"),
        ValueError,
        r"empty_object.json' must hold a non-empty JSON object",
    ),
    "a list at the top": (
        lambda f: read_prompts(f / "list_top.json"),
        ValueError,
        r"list_top.json' must hold .*task -> \{class -> \[prompts\]\}",
    ),
    "a task mapped to a list": (
        lambda f: read_prompts(f / "task_not_object.json"),
        ValueError,
        r"task_not_object.json' must hold",
    ),
    # pairing
    "ids in one file only": (
        lambda f: pair_files(
            {
                "a": _file(["x", "y"]),
                "b": EmbeddingFile(np.ones((2, 2)), None, None, None),
            }
        ),
        ValueError,
        r"\['a'\] have ids but those of \['b'\] do not",
    ),
    "no shared id": (
        lambda f: pair_files({"a": _file(["x"]), "b": _file(["z"])}),
        ValueError,
        r"share no id",
    ),
    "labels that disagree": (
        lambda f: pair_files(
            {
                "a": _file(["x", "y"], np.array([0, 1])),
                "b": _file(["x", "y"], np.array([1, 1])),
            }
        ),
        ValueError,
        r"labels of 'a' and 'b' do not match: id 'x'",
    ),
    "no labels, labelled_only": (
        lambda f: pair_files({"a": _file(["x"])}, labelled_only=True),
        ValueError,
        r"No labels.*labels=",
    ),
    # protocol
    "negative seed": (
        lambda f: anchor_curve(X, Y, y, random_state=-1),
        InvalidParameterError,
        r"'random_state' parameter of anchor_curve",
    ),
    "more anchors than the pool": (
        lambda f: anchor_curve(X, Y, y, n_anchors=[1000], show_progress=False),
        ValueError,
        r"1000 anchors are requested but the anchor pool holds only 25.*n_anchors=",
    ),
    "labels of another length (curve)": (
        lambda f: anchor_curve(X, Y, y[:10], show_progress=False),
        ValueError,
        r"100 rows but y has 10 labels",
    ),
    "one class": (
        lambda f: anchor_curve(X, Y, np.zeros(100), show_progress=False),
        ValueError,
        r"single class.*at least two",
    ),
    "unknown transform": (
        lambda f: anchor_curve(X, Y, y, transforms=["rot"], show_progress=False),
        ValueError,
        r"Unknown transforms \['rot'\]",
    ),
    "cache_dir is a file": (
        lambda f: anchor_curve(
            X, Y, y, cache_dir=f / "labels.csv", show_progress=False
        ),
        NotADirectoryError,
        r"cache_dir '.*labels.csv' is the file",
    ),
    "a table of one encoder": (
        lambda f: stitching_table({"a": X}, y, show_progress=False),
        ValueError,
        r"at least two encoders.*stitching_report",
    ),
    "more rows per class than there are": (
        lambda f: balanced_subset(y, n_per_class=500),
        ValueError,
        r"n_per_class=500.*class 0 has only 50",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_evaluation_bad_input_is_named(case, folder):
    call, error, pattern = CASES[case]
    with pytest.raises(error, match=pattern):
        call(folder)


def test_a_string_per_class_is_one_prompt(folder):
    path = folder / "strings.json"
    path.write_text(
        json.dumps({"task": {"0": "a photo of the digit zero", "1": "one"}})
    )
    assert read_prompts(path) == {
        "task": {"0": ["a photo of the digit zero"], "1": ["one"]}
    }


# --- damaged result-cache files are recomputed ----------------------------------


def _square(value):
    return {"score": value**2}


def _options(cache, kind):
    return dict(
        cache=cache,
        kind=kind,
        keys={2: "two", 3: "three"},
        n_jobs=None,
        desc="squares",
        show_progress=False,
    )


def _truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _scores_as_list(path):
    path.write_text(json.dumps({"cell": 2, "scores": [4]}))


def _no_scores(path):
    path.write_text(json.dumps({"cell": 2}))


DAMAGED_CELLS = {
    "truncated cell JSON": ("cells", ".json", _truncate),
    "empty cell JSON": ("cells", ".json", lambda p: p.write_text("")),
    "scores not a dict": ("cells", ".json", _scores_as_list),
    "no scores": ("cells", ".json", _no_scores),
    "truncated .npz": ("estimators", ".npz", _truncate),
    "garbage .npz": ("estimators", ".npz", lambda p: p.write_bytes(b"\x80junk")),
}


@pytest.mark.parametrize("damage", DAMAGED_CELLS, ids=list(DAMAGED_CELLS))
def test_a_damaged_cell_is_recomputed_and_named(damage, tmp_path):
    kind, suffix, spoil = DAMAGED_CELLS[damage]
    cache = ResultCache(tmp_path)
    first, _ = run_cached(
        [2, 3], lambda cell: delayed(_square)(cell), **_options(cache, kind)
    )
    path = tmp_path / kind / f"two{suffix}"
    spoil(path)
    with pytest.warns(DamagedCellWarning, match=rf"two{suffix}.*damaged"):
        again, cached = run_cached(
            [2, 3], lambda cell: delayed(_square)(cell), **_options(cache, kind)
        )
    assert again == first
    assert cached == {3}  # only the damaged cell was recomputed...
    assert cache.load(kind, "two") == first[2]  # ...and rewritten


def test_a_file_as_result_cache_is_refused_up_front(tmp_path):
    file = tmp_path / "cache"
    file.write_text("")
    with pytest.raises(NotADirectoryError, match=r"cache_dir '.*cache' is the file"):
        ResultCache(file)
