"""Reading images: files, DICOM windowing, PIL modes, arrays, and the errors."""

import os

import numpy as np
import pytest
from PIL import Image

from skalign.extract import load_image

pytestmark = pytest.mark.usefixtures("fresh_model_registry")

pydicom = pytest.importorskip("pydicom")


def test_png_round_trips_exactly_and_jpeg_closely(photos, photo_files):
    np.testing.assert_array_equal(
        np.asarray(load_image(photo_files["chelsea.png"])), photos["chelsea"]
    )
    jpeg = np.asarray(load_image(photo_files["chelsea.jpg"]), dtype=float)
    assert np.abs(jpeg - photos["chelsea"]).mean() < 3


def test_exif_orientation_is_applied(tmp_path, photos):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(photos["coffee"]).save(path, exif=exif)
    height, width = photos["coffee"].shape[:2]
    assert load_image(path).size == (height, width)


def test_dicom_radiograph_is_windowed_with_its_window(dicom_dir):
    path = os.path.join(dicom_dir, "animals", "cat.dcm")
    dataset = pydicom.dcmread(path)
    center, width = float(dataset.WindowCenter), float(dataset.WindowWidth)
    raw = dataset.pixel_array.astype(float) * float(dataset.RescaleSlope) + float(
        dataset.RescaleIntercept
    )
    # DICOM PS3.3 C.11.2.1.2 linear window, mapped to 0..255
    expected = np.clip((raw - (center - 0.5)) / (width - 1) + 0.5, 0, 1) * 255
    image = load_image(path)
    assert image.mode == "RGB" and image.size == (3072, 2614)
    grey = np.asarray(image)[..., 0].astype(float)
    assert np.abs(grey - expected).max() <= 1.0
    assert grey.min() == 0 and grey.max() == 255


@pytest.mark.parametrize(
    "relative, size",
    [
        ("humans/ctbrain1.dcm", (510, 456)),
        ("dicom-cookies/image1.dcm", (2048, 1536)),
        ("ultrasounds/GREYSCALE_IMAGE.dcm", (1024, 768)),
        ("ultrasounds/RGB_IMAGE.dcm", (1024, 768)),
    ],
)
def test_packaged_dicoms_load(dicom_dir, relative, size):
    image = load_image(os.path.join(dicom_dir, relative))
    assert image.mode == "RGB" and image.size == size
    assert np.asarray(image).std() > 5  # real content, not a flat image


def test_dicom_without_suffix_is_recognised_by_its_marker(dicom_dir, tmp_path):
    source = os.path.join(dicom_dir, "ultrasounds", "GREYSCALE_IMAGE.dcm")
    renamed = tmp_path / "scan_0001"
    renamed.write_bytes(open(source, "rb").read())
    np.testing.assert_array_equal(load_image(renamed), load_image(source))


def test_monochrome1_is_inverted(tmp_path):
    from pydicom.data import get_testdata_file

    dataset = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    normal = np.asarray(load_image(get_testdata_file("CT_small.dcm")))
    dataset.PhotometricInterpretation = "MONOCHROME1"
    path = tmp_path / "inverted.dcm"
    dataset.save_as(path)
    np.testing.assert_array_equal(np.asarray(load_image(path)), 255 - normal)


def test_multiframe_dicom_says_how_to_pass_frames(dicom_dir):
    path = os.path.join(dicom_dir, "ultrasounds", "ultrasound-multiframe.dcm")
    with pytest.raises(ValueError, match="30 frames.*group"):
        load_image(path)


def test_sixteen_bit_png_is_min_max_scaled(tmp_path):
    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    grey = np.asarray(load_image(path))[..., 0]
    assert grey[0, 0] == 0 and grey[-1, -1] == 255
    assert (np.diff(grey.ravel().astype(int)) >= 0).all()


@pytest.mark.parametrize(
    "array, expected_corner",
    [
        (np.full((4, 5), 7, dtype=np.uint8), 7),
        (np.ones((4, 5), dtype=bool), 255),
        (np.full((4, 5, 1), 0.5), 128),
        (np.arange(20, dtype=np.int32).reshape(4, 5) - 10, 255),
        (np.dstack([np.full((4, 5), 9, dtype=np.uint8)] * 4), 9),
    ],
)
def test_arrays_become_8_bit_rgb(array, expected_corner):
    image = load_image(array)
    assert image.mode == "RGB" and image.size == (5, 4)
    assert np.asarray(image)[-1, -1, 0] == expected_corner


def test_channels_first_array_gets_a_hint():
    with pytest.raises(ValueError, match="moveaxis"):
        load_image(np.zeros((3, 32, 32)))


def test_nan_array_is_refused():
    with pytest.raises(ValueError, match="NaN"):
        load_image(np.full((4, 4), np.nan))


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        load_image(tmp_path / "nope.png")


@pytest.mark.parametrize("name", ["corrupt.png", "corrupt.dcm"])
def test_corrupt_file_names_the_path(tmp_path, photo_files, name):
    path = tmp_path / name
    path.write_bytes(open(photo_files["chelsea.png"], "rb").read()[:300])
    with pytest.raises(ValueError, match=name):
        load_image(path)


def test_unsupported_object_is_refused():
    with pytest.raises(TypeError, match="file path, a PIL image or a numpy array"):
        load_image(42)
