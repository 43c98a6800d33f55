"""Score a fitted classifier with the paper's metrics: AUROC, accuracy, macro-F1."""

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score
from sklearn.preprocessing import label_binarize

METRICS = ("roc_auc", "accuracy", "f1_macro")
# How figures, tables and the command line name each metric.
METRIC_LABELS = {"roc_auc": "AUROC", "accuracy": "Accuracy", "f1_macro": "Macro-F1"}


def classifier_scores(classifier, X, y):
    """AUROC, accuracy and macro-F1 of a fitted classifier on ``(X, y)``.

    AUROC is computed from continuous scores (``decision_function``, else
    ``predict_proba``): binary, or one-vs-rest macro-averaged over classes for
    more than two, which is what the paper reports on its balanced subsets.

    Parameters
    ----------
    classifier : fitted classifier
        Has ``classes_``, ``predict`` and ``decision_function`` or
        ``predict_proba``.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
        True labels, each one of ``classifier.classes_``.

    Returns
    -------
    scores : dict
        ``{"roc_auc": float, "accuracy": float, "f1_macro": float}``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skalign.evaluation._scoring import classifier_scores
    >>> X, y = [[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1]
    >>> classifier_scores(LogisticRegression().fit(X, y), X, y)
    {'roc_auc': 1.0, 'accuracy': 1.0, 'f1_macro': 1.0}
    """
    y = np.asarray(y)
    classes = np.asarray(classifier.classes_)
    unknown = np.setdiff1d(np.unique(y), classes)
    if unknown.size:
        raise ValueError(
            f"The test labels hold classes the classifier does not know: "
            f"{unknown.tolist()!r} (its classes: {classes.tolist()!r}). Score it on "
            "labels of the task it was trained for."
        )
    y_pred = classifier.predict(X)
    return {
        "roc_auc": _roc_auc(y, _continuous_scores(classifier, X), classes),
        "accuracy": float(accuracy_score(y, y_pred)),
        "f1_macro": float(f1_score(y, y_pred, average="macro", labels=np.unique(y))),
    }


def _continuous_scores(classifier, X):
    if hasattr(classifier, "decision_function"):
        return np.asarray(classifier.decision_function(X))
    if hasattr(classifier, "predict_proba"):
        proba = np.asarray(classifier.predict_proba(X))
        return proba[:, 1] if proba.shape[1] == 2 else proba
    raise TypeError(
        f"{type(classifier).__name__} has neither decision_function nor "
        "predict_proba, so no AUROC can be computed. Use a classifier that "
        "scores its classes (e.g. sklearn.svm.SVC(kernel='linear'))."
    )


def _roc_auc(y, scores, classes):
    if classes.size == 2:
        return float(roc_auc_score(y == classes[1], scores))
    present = np.isin(classes, y)
    indicator = label_binarize(y, classes=classes)[:, present]
    return float(roc_auc_score(indicator, scores[:, present], average="macro"))
