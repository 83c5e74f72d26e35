#!/usr/bin/python3
"""Regenerates the small dataset fixtures the unit tests read (test_npy.c, test_dataset.c).

Run with Debian's interpreter, which has numpy:  /usr/bin/python3 make_fixtures.py
The outputs are committed; the tests compare against the values written here.
"""
import os

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(here, name)


# x: 4 samples of 2 x 3 (channels on axis 0), values 0..23; y: labels with max 2.
x = np.arange(24, dtype=np.float32).reshape(4, 2, 3)
np.save(path("tiny_x.npy"), x)
np.save(path("tiny_y.npy"), np.array([0, 2, 1, 2], dtype=np.int64))

# Every dtype the reader accepts, as numpy itself writes them (format 1.0).
np.save(path("dtype_f8.npy"), np.array([[1.5, -2.25, 3.0]], dtype=np.float64))
np.save(path("dtype_u1.npy"), np.array([0, 1, 255], dtype=np.uint8))
np.save(path("dtype_i1.npy"), np.array([-128, 0, 127], dtype=np.int8))
np.save(path("dtype_i2.npy"), np.array([-32768, 7, 32767], dtype=np.int16))
np.save(path("dtype_i4.npy"), np.array([-5, 0, 2147483647], dtype=np.int32))
np.save(path("dtype_i8.npy"), np.array([-1, 2, 3], dtype=np.int64))
np.save(path("dtype_b1.npy"), np.array([True, False, True]))
np.save(path("scalar_f4.npy"), np.float32(2.5))

# Format versions 2.0 and 3.0 (4-byte header length).
with open(path("v2_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, np.array([[1, 2], [3, 4]], dtype=np.float32), version=(2, 0))
with open(path("v3_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, np.array([5, 6, 7], dtype=np.float32), version=(3, 0))

# What the reader must refuse.
np.save(path("bigendian.npy"), np.array([1, 2, 3], dtype=">f4"))
np.save(path("fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
with open(path("truncated.npy"), "wb") as f:
    np.save(f, np.arange(10, dtype=np.float32))
with open(path("truncated.npy"), "rb") as f:
    data = f.read()
with open(path("truncated.npy"), "wb") as f:
    f.write(data[:-4])  # one float32 short

# CSV: a header, a quoted field, CRLF line ends, label column "species" in the middle.
with open(path("small.csv"), "w", newline="") as f:
    f.write('sepal_length,species,"petal, width"\r\n')
    f.write("5.1,0,0.2\r\n")
    f.write('4.9,2,"1.5"\r\n')
    f.write("6.3,1,-2e-1\r\n")
with open(path("noheader.csv"), "w") as f:
    f.write("1,2,3\n4,5,1\n")
with open(path("bad_number.csv"), "w") as f:
    f.write("a,b,label\n1,2,0\n3,abc,1\n")
with open(path("ragged.csv"), "w") as f:
    f.write("a,b,label\n1,2,0\n3,1\n")
