"""Regenerates the photo fixtures: crops of scikit-image's sample photos with EXIF GPS written by
Pillow (`python tests/data/posts/make_photos.py` from the repository root)."""

from pathlib import Path

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational
from skimage import data

HERE = Path(__file__).resolve().parent / "photos"


def _dms(value: float) -> tuple:
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round(((value - d) * 60 - m) * 60 * 100)
    return IFDRational(d, 1), IFDRational(m, 1), IFDRational(s, 100)


def save(path: Path, pixels: np.ndarray, lat=None, lon=None, when=None, offset=None, direction=None, alt=None,
         gps_utc=None, quality=70):
    """A JPEG with EXIF capture time, GPS position, altitude, image direction and GPS clock
    (`gps_utc` as "YYYY:MM:DD HH:MM:SS")."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "MIST", "Field Cam"
    if when:
        exif[0x0132] = when
        exif[0x8769] = {0x9003: when, **({0x9011: offset} if offset else {})}
    if lat is not None:
        gps = {1: "N" if lat >= 0 else "S", 2: _dms(lat), 3: "E" if lon >= 0 else "W", 4: _dms(lon)}
        if alt is not None:
            gps[5], gps[6] = 0, IFDRational(int(alt * 10), 10)
        if direction is not None:
            gps[16], gps[17] = "T", IFDRational(int(direction * 100), 100)
        if gps_utc:
            day, hms = gps_utc.split(" ")
            gps[29] = day
            gps[7] = tuple(IFDRational(int(v), 1) for v in hms.split(":"))
        exif[0x8825] = gps
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, "JPEG", quality=quality, exif=exif.tobytes())


if __name__ == "__main__":
    save(HERE / "flooded_street.jpg", data.astronaut()[100:164, 180:244], 34.7466, 113.6253,
         "2021:07:20 18:05:00", "+08:00", 123.5, 95.2)
    save(HERE / "sub" / "underpass.jpg", data.coffee()[150:214, 250:314], -33.8688, -151.2093,
         "2022:03:08 09:30:00", direction=10)
    save(HERE / "no_gps.jpg", data.chelsea()[80:144, 150:214], when="2021:07:21 07:00:00")
    (HERE / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0not really a jpeg")
    (HERE / "notes.txt").write_text("field notes are not photos\n")
