"""Per-grid values as a raster: cheap maps of a city's 18,176 grids.

Drawing every grid as a marker or a square costs matplotlib time in proportion to the grids and
shows a city as a grey disc (a marker smaller than a pixel cannot carry a colour). Above
:data:`RASTER_GRIDS` grids the run's map is a raster instead: a fixed number of pixels, each
taking the value of the grid whose square it lies in (a pixel outside every grid's square is
empty). Matplotlib then draws one image whatever the number of grids, and a grid keeps its
colour at any size. The urban core, whose grids are a few pixels across at full extent, is
drawn again enlarged (:func:`core_box`).

Pure numpy: no matplotlib here (the figure modules import it when they draw).
"""

from __future__ import annotations

import numpy as np

from gridsim.model.vocab import GRID_KINDS

__all__ = ["CITY_SCALE_GRIDS", "RASTER_GRIDS", "core_box", "grid_raster"]

#: Above this many grids a map is drawn at city scale (thin lines, small markers, an inset).
CITY_SCALE_GRIDS = 2000
#: Above this many grids the run's per-grid map is a raster (:func:`grid_raster`); at or below
#: it, every grid is a square of its own area, which reads better for a district.
RASTER_GRIDS = CITY_SCALE_GRIDS
#: Pixels along the longer side of a raster.
RASTER_PIXELS = 600
#: A grid's square is widened by this share so that neighbouring squares of the synthetic
#: layout (placed by area, not tiled) meet without specks of background between them.
_MARGIN = 1.2


def grid_raster(x: np.ndarray, y: np.ndarray, side: np.ndarray, values: np.ndarray,
                box: tuple[float, float, float, float], pixels: int = RASTER_PIXELS
                ) -> tuple[np.ndarray, np.ndarray]:
    """``(image, covered)`` over ``box = (x0, x1, y0, y1)``: ``image[row, col]`` is the value of
    the grid whose square (centre ``x, y``, side ``side``, same unit as the box) holds the
    centre of that pixel, NaN where none does or its value is NaN; ``covered`` says where a
    grid is. Where squares overlap the smaller grid is on top, and a grid smaller than a pixel
    still takes the pixel of its centre. Row 0 is the bottom (``imshow(origin="lower")``); the
    longer side has ``pixels`` pixels, the pixels are square.

    Each grid paints the pixels of its square (vectorised: the cost grows with the pixels the
    squares cover, about the pixels of the box, not with the grids)."""
    x0, x1, y0, y1 = box
    w, h = max(x1 - x0, 1e-12), max(y1 - y0, 1e-12)
    step = max(w, h) / pixels
    nx, ny = max(1, round(w / step)), max(1, round(h / step))
    dx, dy = w / nx, h / ny
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    half = np.asarray(side, dtype=float) * (0.5 * _MARGIN)
    # pixel columns whose centre (x0 + (j + 0.5) dx) lies in [x - half, x + half], at least the
    # one holding the grid's centre; rows alike
    cx = np.floor((x - x0) / dx).astype(np.int64)
    cy = np.floor((y - y0) / dy).astype(np.int64)
    j0 = np.minimum(np.ceil((x - half - x0) / dx - 0.5).astype(np.int64), cx)
    j1 = np.maximum(np.floor((x + half - x0) / dx - 0.5).astype(np.int64), cx)
    i0 = np.minimum(np.ceil((y - half - y0) / dy - 0.5).astype(np.int64), cy)
    i1 = np.maximum(np.floor((y + half - y0) / dy - 0.5).astype(np.int64), cy)
    j0, j1 = np.maximum(j0, 0), np.minimum(j1, nx - 1)
    i0, i1 = np.maximum(i0, 0), np.minimum(i1, ny - 1)
    inside = (j0 <= j1) & (i0 <= i1)
    order = np.flatnonzero(inside)
    order = order[np.argsort(-half[order], kind="stable")]  # large first: small ones on top
    wide = (j1 - j0 + 1)[order]
    count = wide * (i1 - i0 + 1)[order]
    grid = np.repeat(order, count)
    local = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    wide_of = np.repeat(wide, count)
    flat = (i0[grid] + local // wide_of) * nx + j0[grid] + local % wide_of
    # the last painter of each pixel (the smallest grid there): the greatest position in the
    # painting order that paints it (an unbuffered maximum per pixel, no sort)
    last = np.full(ny * nx, -1, dtype=np.int64)
    np.maximum.at(last, flat, np.arange(len(flat), dtype=np.int64))
    painted = np.flatnonzero(last >= 0)
    image = np.full(ny * nx, np.nan)
    covered = np.zeros(ny * nx, dtype=bool)
    image[painted] = np.asarray(values, dtype=float)[grid[last[painted]]]
    covered[painted] = True
    return image.reshape(ny, nx), covered.reshape(ny, nx)


def core_box(x_km: np.ndarray, y_km: np.ndarray, kind: np.ndarray
             ) -> tuple[float, float, float, float] | None:
    """The square around the urban grids (km), if they are a small part of a large map:
    centred on their median, 1.1 × the distance that holds 98 % of them, plus 0.5 km."""
    urban = np.asarray(kind) != GRID_KINDS.index("rural")
    if len(urban) <= CITY_SCALE_GRIDS or not urban.any() or urban.all():
        return None
    x, y = np.asarray(x_km)[urban], np.asarray(y_km)[urban]
    cx, cy = float(np.median(x)), float(np.median(y))
    half = float(np.quantile(np.hypot(x - cx, y - cy), 0.98)) * 1.1 + 0.5
    return cx - half, cx + half, cy - half, cy + half
