"""The evaluation's data files: ``read_embeddings``, ``read_labels``,
``read_prompts`` and ``pair_files`` on damaged, odd or mismatched files."""

import json

import numpy as np
import pandas as pd

from skalign.evaluation import (
    EmbeddingFile,
    pair_files,
    read_embeddings,
    read_labels,
    read_prompts,
)
from tests.catalogue._harness import Behaves, Case, Raises, Warns

SURFACE = "evaluation files"
IDS = np.array(["a", "b", "c", "d"])


def _npy(array, name="x.npy"):
    def call(tmp):
        np.save(tmp / name, array, allow_pickle=True)
        return read_embeddings(tmp / name)

    return call


def _npz(name="x.npz", **arrays):
    def call(tmp):
        np.savez(tmp / name, **arrays)
        return read_embeddings(tmp / name)

    return call


def _bytes(name, content, reader=read_embeddings):
    def call(tmp):
        (tmp / name).write_bytes(content)
        return reader(tmp / name)

    return call


def _labels(text, name="labels.csv"):
    return _bytes(name, text.encode(), read_labels)


def _prompts(content):
    return _bytes("prompts.json", json.dumps(content).encode(), read_prompts)


def _file(X, ids=None, labels=None):
    return EmbeddingFile(np.asarray(X, dtype=float), ids, labels, None)


def _pair(files, **options):
    return lambda tmp: pair_files(files, **options)


def _float_copy(file):
    assert file.embeddings.dtype.kind == "f", file.embeddings.dtype
    np.testing.assert_array_equal(file.embeddings, np.arange(6).reshape(3, 2))
    return True


def _unlabelled_nan(result):
    embeddings, y, split, ids = result
    assert ids.tolist() == ["a", "c"], ids
    assert y.tolist() == ["x", "y"], y
    return True


EYE = np.eye(4)
CASES = [
    Case(
        SURFACE,
        ".npy of 3-D embeddings",
        _npy(np.zeros((2, 3, 4))),
        Raises(ValueError, r"x\.npy.*2-?D|x\.npy.*(dimension|shape)"),
    ),
    Case(
        SURFACE,
        ".npy of a 1-D vector",
        _npy(np.zeros(5)),
        Raises(ValueError, r"x\.npy.*(2-?D|2D array|reshape)"),
    ),
    Case(
        SURFACE,
        ".npy of 0 rows",
        _npy(np.zeros((0, 4))),
        Raises(ValueError, r"x\.npy.*(0 (rows|samples)|empty|at least)"),
    ),
    Case(
        SURFACE,
        ".npy of complex numbers",
        _npy(np.ones((3, 2), complex)),
        Raises((ValueError, TypeError), r"x\.npy.*complex.*real"),
    ),
    Case(
        SURFACE,
        ".npy of Python objects (a pickle)",
        _npy(np.array([{"a": 1}], dtype=object)),
        Raises(ValueError, r"x\.npy.*Python objects.*np\.save"),
    ),
    Case(
        SURFACE,
        ".npy holding NaN",
        _npy(np.array([[1.0, np.nan], [0.0, 1.0]])),
        Raises(ValueError, r"x\.npy.*(NaN|finite)"),
    ),
    Case(
        SURFACE,
        ".npy of integers is read as numbers",
        _npy(np.arange(6).reshape(3, 2)),
        Behaves(_float_copy),
    ),
    Case(
        SURFACE,
        ".npz without an embeddings array",
        _npz(vectors=EYE),
        Raises(ValueError, r"x\.npz.*'embeddings'.*np\.savez"),
    ),
    Case(
        SURFACE,
        ".npz with an id repeated",
        _npz(embeddings=EYE, ids=["a", "a", "b", "c"]),
        Raises(ValueError, r"x\.npz.*'a' appears 2 times.*one item each"),
    ),
    Case(
        SURFACE,
        ".npz with fewer ids than rows",
        _npz(embeddings=EYE, ids=IDS[:3]),
        Raises(ValueError, r"x\.npz.*'ids'.*one value per row"),
    ),
    Case(
        SURFACE,
        ".npz with 2-D ids",
        _npz(embeddings=EYE, ids=IDS.reshape(2, 2)),
        Raises(ValueError, r"x\.npz.*'ids'.*shape.*one value per row"),
    ),
    Case(
        SURFACE,
        ".npz split with an unknown value",
        _npz(embeddings=EYE, split=["train", "anchor", "test", "val"]),
        Raises(ValueError, r"split.*'val'.*(train|anchor|test)"),
    ),
    Case(
        SURFACE,
        ".npz of object ids (a pickle)",
        _npz(embeddings=EYE, ids=np.array(list(IDS), dtype=object)),
        Raises(ValueError, r"x\.npz.*Python objects.*string"),
    ),
    Case(
        SURFACE,
        ".npz truncated",
        _bytes("x.npz", b"PK\x03\x04trunc"),
        Raises(ValueError, r"x\.npz.*(damaged|truncated).*np\.savez"),
    ),
    Case(
        SURFACE,
        ".npz that is really a .npy",
        lambda tmp: (
            np.save(tmp / "x.npy", EYE),
            (tmp / "x.npy").rename(tmp / "x.npz"),
            read_embeddings(tmp / "x.npz"),
        )[-1],
        Raises(ValueError, r"x\.npz.*not a \.npz.*np\.savez"),
    ),
    Case(
        SURFACE,
        "embedding file is a folder",
        lambda tmp: read_embeddings((tmp / "x.npz").mkdir() or tmp / "x.npz"),
        Raises(ValueError, r"x\.npz.*folder.*file"),
    ),
    Case(
        SURFACE,
        "parquet with a text column beside the numbers",
        lambda tmp: (
            pd.DataFrame({"0": [1.0, 2.0], "note": ["a", "b"]}).to_parquet(
                tmp / "x.parquet"
            ),
            read_embeddings(tmp / "x.parquet"),
        )[-1],
        Raises(ValueError, r"x\.parquet.*non-numeric.*'note'"),
    ),
    Case(
        SURFACE,
        "parquet with an empty embedding row",
        lambda tmp: (
            pd.DataFrame({"embedding": [[1.0, 2.0], None]}).to_parquet(
                tmp / "x.parquet"
            ),
            read_embeddings(tmp / "x.parquet"),
        )[-1],
        Raises(ValueError, r"x\.parquet.*'embedding'.*not a vector"),
    ),
    Case(
        SURFACE,
        ".npz with a NaN id",
        _npz(embeddings=EYE, ids=[1.0, np.nan, 2.0, 3.0]),
        Raises(ValueError, r"x\.npz.*no id.*give every row an id"),
    ),
    Case(
        SURFACE,
        ".npz with an empty id",
        _npz(embeddings=EYE, ids=["a", "", "c", "d"]),
        Raises(ValueError, r"x\.npz.*no id.*give every row an id"),
    ),
    Case(
        SURFACE,
        "upper-case .NPZ suffix is read",
        lambda tmp: (
            np.savez(tmp / "x.npz", embeddings=EYE, ids=IDS),
            (tmp / "x.npz").rename(tmp / "X.NPZ"),
            read_embeddings(tmp / "X.NPZ"),
        )[-1],
        Behaves(
            lambda f: (
                f.ids.tolist() == IDS.tolist() and np.array_equal(f.embeddings, EYE)
            )
        ),
    ),
    Case(
        SURFACE,
        "labels file with a row without id",
        _labels("id,y\na,1\n,0\nc,1\n"),
        Raises(ValueError, r"labels\.csv.*without an id.*give every row an id"),
    ),
    Case(
        SURFACE,
        "labels file empty",
        _labels(""),
        Raises(ValueError, r"labels\.csv.*empty.*(header|column)"),
    ),
    Case(
        SURFACE,
        "labels file with only ids",
        _labels("id\na\nb\n"),
        Raises(ValueError, r"labels\.csv.*no label column.*beside 'id'"),
    ),
    Case(
        SURFACE,
        "labels file with an id repeated",
        _labels("id,y\na,1\na,2\n"),
        Raises(ValueError, r"labels\.csv.*'a' appears 2 times"),
    ),
    Case(
        SURFACE,
        "labels file that is binary",
        _bytes("labels.csv", b"\xff\xfe\x00\x81\x00", read_labels),
        Raises(ValueError, r"labels\.csv.*(text|UTF-8|CSV)"),
    ),
    Case(
        SURFACE,
        "labels file of another format",
        _labels("{}", "labels.json"),
        Raises(ValueError, r"labels\.json.*\.csv or \.parquet"),
    ),
    Case(
        SURFACE,
        "labels file is a folder",
        lambda tmp: read_labels((tmp / "l.csv").mkdir() or tmp / "l.csv"),
        Raises((ValueError, FileNotFoundError), r"l\.csv.*folder.*file"),
    ),
    Case(
        SURFACE,
        "prompts file is a folder",
        lambda tmp: read_prompts((tmp / "p.json").mkdir() or tmp / "p.json"),
        Raises(ValueError, r"p\.json.*folder.*JSON file"),
    ),
    Case(
        SURFACE,
        "prompts: an empty object",
        _prompts({}),
        Raises(ValueError, r"prompts\.json.*non-empty JSON object"),
    ),
    Case(
        SURFACE,
        "prompts: a class with an empty list",
        _prompts({"t": {"0": []}}),
        Raises(ValueError, r"'0'.*empty prompt list.*at least one"),
    ),
    Case(
        SURFACE,
        "prompts: a number as a prompt",
        _prompts({"t": {"0": [5]}}),
        Raises(ValueError, r"'0'.*5.*non-empty string"),
    ),
    Case(
        SURFACE,
        "prompts: a blank prompt",
        _prompts({"t": {"0": ["  "]}}),
        Raises(ValueError, r"'0'.*non-empty string"),
    ),
    Case(
        SURFACE,
        "prompts: a list at the top",
        _prompts(["a", "b"]),
        Raises(ValueError, r"prompts\.json.*task -> \{class"),
    ),
    Case(
        SURFACE,
        "prompts: not JSON",
        _bytes("prompts.json", b"{'t': 1}", read_prompts),
        Raises(ValueError, r"prompts\.json.*not valid JSON"),
    ),
    Case(
        SURFACE,
        "pair_files: no file",
        _pair({}),
        Raises(ValueError, r"(no|empty|at least one).*file"),
    ),
    Case(
        SURFACE,
        "pair_files: an array instead of an EmbeddingFile",
        _pair({"a": EYE}),
        Raises(TypeError, r"'a'.*EmbeddingFile.*read_embeddings"),
    ),
    Case(
        SURFACE,
        "pair_files: files that share no id",
        _pair({"a": _file(EYE, IDS), "b": _file(EYE, np.array(list("wxyz")))}),
        Raises(ValueError, r"share no id.*match"),
    ),
    Case(
        SURFACE,
        "pair_files: ids in one file only",
        _pair({"a": _file(EYE, IDS), "b": _file(EYE)}),
        Raises(ValueError, r"'b'.*do not.*ids"),
    ),
    Case(
        SURFACE,
        "pair_files: the files' labels disagree",
        _pair(
            {
                "a": _file(EYE, IDS, np.array([0, 1, 0, 1])),
                "b": _file(EYE, IDS, np.array([0, 1, 1, 1])),
            }
        ),
        Raises(ValueError, r"labels of 'a' and 'b' do not match.*id 'c'"),
    ),
    Case(
        SURFACE,
        "pair_files: a task that is no column",
        _pair(
            {"a": _file(EYE, IDS)},
            labels=pd.DataFrame({"id": IDS, "y": list("xyxy")}),
            task="z",
        ),
        Raises(ValueError, r"task='z'.*'y'"),
    ),
    Case(
        SURFACE,
        "pair_files: labels with ids, files without",
        _pair(
            {"a": _file(EYE)}, labels=pd.DataFrame({"id": IDS[::-1], "y": list("xyxy")})
        ),
        Raises(ValueError, r"'id' column.*files have no ids.*Save ids"),
    ),
    Case(
        SURFACE,
        "pair_files: NaN labels are left out with labelled_only",
        _pair(
            {"a": _file(EYE, IDS)},
            labels=pd.DataFrame({"id": IDS, "y": ["x", None, "y", np.nan]}),
            labelled_only=True,
        ),
        Behaves(_unlabelled_nan),
    ),
]


# --- zero_shot_from_reports (the files of skalign zero-shot) ----------------------

ZS_IDS = np.array([f"i{k}" for k in range(40)])
_ZS_RNG = np.random.default_rng(3)
ZS_IMAGES = EmbeddingFile(_ZS_RNG.normal(size=(40, 6)), ZS_IDS, None, None)
ZS_REPORTS = EmbeddingFile(_ZS_RNG.normal(size=(20, 4)), ZS_IDS[:20], None, None)
ZS_LABELS = pd.DataFrame({"id": ZS_IDS, "t": ["a", "b"] * 20})
ZS_PROMPTS = {"t": {"a": ["an a"], "b": ["a b"]}}


def _from_reports(
    images=None, reports=ZS_REPORTS, labels=ZS_LABELS, prompts=ZS_PROMPTS, **options
):
    def call(tmp):
        from skalign.evaluation import zero_shot_from_reports
        from tests._toy_encoders import HashingTextEncoder

        return zero_shot_from_reports(
            {"img": ZS_IMAGES} if images is None else images, reports, labels, prompts,
            text_encoder=HashingTextEncoder(4), **options)  # fmt: skip

    return call


def _test_rows(report):
    assert set(report["n_test"]) == {10}, report["n_test"]
    return True


CASES += [
    Case(
        SURFACE,
        "zero_shot_from_reports: no image file",
        _from_reports(images={}),
        Raises(ValueError, r"images= must be a non-empty mapping.*read_embeddings"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: an array instead of a file",
        _from_reports(images={"img": ZS_IMAGES.embeddings}),
        Raises(TypeError, r"images\['img'\].*not an EmbeddingFile.*read_embeddings"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: reports without ids",
        _from_reports(reports=EmbeddingFile(ZS_REPORTS.embeddings, None, None, None)),
        Raises(ValueError, r"reports= has no ids.*save 'ids'"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: every image has a report",
        _from_reports(
            reports=EmbeddingFile(_ZS_RNG.normal(size=(40, 4)), ZS_IDS, None, None)
        ),
        Raises(ValueError, r"Every one of the 40 images has a report.*Add images"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: labels missing test images warn",
        _from_reports(labels=ZS_LABELS.iloc[:30]),
        Warns(
            UserWarning,
            r"10 of the 20 test images have no row in labels=.*add",
            _test_rows,
        ),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: labels as a dict",
        _from_reports(labels={"id": ZS_IDS}),
        Raises(TypeError, r"labels.*must be.*DataFrame.*Got"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: empty prompts",
        _from_reports(prompts={}),
        Raises(ValueError, r"prompts= is empty.*task -> \{class"),
    ),
    Case(
        SURFACE,
        "zero_shot_from_reports: tasks naming no prompts",
        _from_reports(tasks=["x"]),
        Raises(ValueError, r"tasks=.*\['x'\].*prompts="),
    ),
]

CASES += [
    Case(
        SURFACE,
        "zero_shot_from_reports: a fractional float label keeps its value",
        _from_reports(
            labels=pd.DataFrame({"id": ZS_IDS, "t": [0.0, 1.5] * 20}),
            prompts={"t": {"0": ["zero"], "1.5": ["one and a half"]}},
        ),
        Behaves(
            lambda report: (
                set(report["task"]) == {"t"} and set(report["n_test"]) == {20}
            )
        ),
    ),
]


def _prompt_file(tmp, ids=("a cat", "a dog")):
    from skalign.evaluation._prompt_embeddings import PromptEmbeddingFile

    path = tmp / "prompts.npz"
    arrays = {"embeddings": np.eye(2)}
    if ids is not None:
        arrays["ids"] = np.array(ids)
    np.savez(path, **arrays)
    return PromptEmbeddingFile(path)


CASES += [
    Case(
        SURFACE,
        "prompt embeddings: transform before fit",
        lambda tmp: _prompt_file(tmp).transform(["a cat"]),
        Raises(ValueError, r"not fitted.*fit"),
    ),
    Case(
        SURFACE,
        "prompt embeddings: one prompt given as a string",
        lambda tmp: _prompt_file(tmp).fit().transform("a cat"),
        Raises(ValueError, r"list of prompt texts.*'a cat'.*in a list"),
    ),
    Case(
        SURFACE,
        "prompt embeddings: no prompt",
        lambda tmp: _prompt_file(tmp).fit().transform([]),
        Raises(ValueError, r"non-empty list of prompt texts"),
    ),
    Case(
        SURFACE,
        "prompt embeddings: a prompt missing from the file",
        lambda tmp: _prompt_file(tmp).fit().transform(["a cow"]),
        Raises(ValueError, r"prompts\.npz has no embedding.*'a cow'.*embed every"),
    ),
    Case(
        SURFACE,
        "prompt embeddings: a file without ids",
        lambda tmp: _prompt_file(tmp, ids=None).fit(),
        Raises(ValueError, r"prompts\.npz.*need 'ids'.*np\.savez"),
    ),
    Case(
        SURFACE,
        "prompt embeddings: prompts differing by case are two prompts",
        lambda tmp: (
            _prompt_file(tmp, ids=("A cat", "a cat"))
            .fit()
            .transform(["a cat", "A cat"])
        ),
        Behaves(lambda X: np.array_equal(X, np.eye(2)[::-1])),
    ),
]

CASES += [
    Case(
        SURFACE,
        "labels file with a byte order mark keeps its 'id' column",
        _labels("\ufeffid,y\na,1\nb,0\n"),
        Behaves(lambda table: table["id"].tolist() == ["a", "b"]),
    ),
    Case(
        SURFACE,
        "labels file separated by semicolons",
        _labels("id;y\na;1\nb;0\n"),
        Raises(ValueError, r"labels\.csv.*separated by ';'.*comma-separated"),
    ),
]
