"""balanced_subset and protocol_split: counts, seeding, disjointness, errors."""

import numpy as np
import pytest
from imblearn.under_sampling import RandomUnderSampler
from sklearn.utils._param_validation import InvalidParameterError

from skalign.evaluation import balanced_subset, protocol_split

IMBALANCED = np.repeat(["normal", "pneumonia", "effusion"], [500, 120, 40])


def test_balanced_subset_keeps_n_per_class_without_repeats():
    indices = balanced_subset(IMBALANCED, 30, random_state=0)
    labels, counts = np.unique(IMBALANCED[indices], return_counts=True)
    assert labels.tolist() == ["effusion", "normal", "pneumonia"]
    assert counts.tolist() == [30, 30, 30]
    assert np.all(np.diff(indices) > 0)  # sorted, no duplicates


def test_balanced_subset_is_imblearns_undersampling():
    indices = balanced_subset(IMBALANCED, 25, random_state=3)
    sampler = RandomUnderSampler(
        sampling_strategy={label: 25 for label in np.unique(IMBALANCED)},
        random_state=3,
    )
    sampler.fit_resample(np.zeros((IMBALANCED.size, 1)), IMBALANCED)
    np.testing.assert_array_equal(indices, np.sort(sampler.sample_indices_))


def test_balanced_subset_is_seeded():
    first = balanced_subset(IMBALANCED, 30, random_state=1)
    np.testing.assert_array_equal(
        first, balanced_subset(IMBALANCED, 30, random_state=1)
    )
    assert not np.array_equal(first, balanced_subset(IMBALANCED, 30, random_state=2))


def test_balanced_subset_defaults_to_the_rarest_class():
    indices = balanced_subset(IMBALANCED, random_state=0)
    assert np.unique(IMBALANCED[indices], return_counts=True)[1].tolist() == [40] * 3
    assert np.flatnonzero(IMBALANCED == "effusion").tolist() == [
        i for i in indices if IMBALANCED[i] == "effusion"
    ]


def test_balanced_subset_errors_name_the_bound():
    with pytest.raises(ValueError, match="class 'effusion' has only 40.*at most 40"):
        balanced_subset(IMBALANCED, 200)
    with pytest.raises(ValueError, match="single class"):
        balanced_subset(["a", "a", "a"])
    with pytest.raises(ValueError, match="1-D array of class labels"):
        balanced_subset(np.zeros((4, 2)))
    with pytest.raises(InvalidParameterError):
        balanced_subset(IMBALANCED, 0)


def test_protocol_split_is_disjoint_stratified_and_sized():
    split = protocol_split(IMBALANCED, anchor_size=0.2, test_size=100, random_state=0)
    assert split.shape == IMBALANCED.shape
    assert set(split.tolist()) == {"train", "anchor", "test"}
    assert (split == "test").sum() == 100
    assert (split == "anchor").sum() == 132  # ceil(0.2 * 660)
    for part in ("train", "anchor", "test"):
        share = np.mean(IMBALANCED[split == part] == "normal")
        assert share == pytest.approx(500 / 660, abs=0.02)


def test_protocol_split_is_seeded():
    first = protocol_split(IMBALANCED, random_state=4)
    np.testing.assert_array_equal(first, protocol_split(IMBALANCED, random_state=4))
    assert not np.array_equal(first, protocol_split(IMBALANCED, random_state=5))


def test_protocol_split_needs_training_rows():
    with pytest.raises(ValueError, match="leaving none to train the decoder"):
        protocol_split(IMBALANCED, anchor_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match="anchor_size=700 is not smaller"):
        protocol_split(IMBALANCED, anchor_size=700)
