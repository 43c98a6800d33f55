"""Compressed DICOM transfer syntaxes of PACS exports decode with the [dicom]
extra's pylibjpeg plugins (pydicom's own test files, shipped with pydicom)."""

import numpy as np
import pytest

from skalign.extract import load_image

pydicom = pytest.importorskip("pydicom")
pytest.importorskip("pylibjpeg")

COMPRESSED = {
    "SC_rgb_jpeg_gdcm.dcm": "JPEG Lossless",
    "JPGExtended.dcm": "JPEG Extended",  # 12-bit
    "MR_small_jpeg_ls_lossless.dcm": "JPEG-LS Lossless",
    "JPEGLSNearLossless_16.dcm": "JPEG-LS Lossy",
    "JPEG2000.dcm": "JPEG 2000",
}


@pytest.mark.parametrize("name", sorted(COMPRESSED))
def test_compressed_dicom_loads(name):
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} is not among this pydicom's bundled test files")
    dataset = pydicom.dcmread(path)
    assert COMPRESSED[name] in dataset.file_meta.TransferSyntaxUID.name
    pixels = dataset.pixel_array
    image = load_image(path)
    assert image.mode == "RGB"
    rows, columns = pixels.shape[:2]
    assert image.size == (columns, rows)
    grey = np.asarray(image.convert("L"), dtype=float)
    assert grey.std() > 0  # decoded content, not a blank frame
