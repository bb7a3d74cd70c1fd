"""Regenerate the « Carte »'s assets: ``static/map/world.svg`` (the shapes) and ``countries.json`` (their boxes).

Run once by hand when the map should change (the output is committed; nothing runs at build or serve time)::

    .venv/bin/python scripts/build_map.py            # fetches world-atlas@2 with `npm pack` into a temp dir
    .venv/bin/python scripts/build_map.py --topojson path/to/countries-50m.json

Steps: fetch the npm package ``world-atlas`` (pre-built TopoJSON of Natural Earth's admin-0 countries; no
``node_modules`` is left behind), decode the TopoJSON (delta-encoded quantized arcs), clip every ring to the
whole world (Antarctica left out), project it (equirectangular with a standard parallel), round to 0.1 unit of
the viewBox and drop specks. ``world.svg`` is a sprite: one ``<path id="MLI">`` per country (ISO 3166-1
alpha-3; relative commands, no fill of its own, so a ``<use>`` colours it) inside ``<g id="land">``, which
gives them the land's colour. Pages draw the whole file as an ``<image>`` (the background: decoded off the
main thread, not cloned into the page) and each corpus country as ``<use href="world.svg#MLI">``, under a
viewBox of their own, so the browser caches the shapes once and each page carries only its frame.
``countries.json`` gives, per code, the name, numeric code, bounding box and label anchor in the same
units, from which the app frames the corpus's countries (:mod:`search_app.map_presenter`).

Natural Earth data is in the public domain (https://www.naturalearthdata.com/about/terms-of-use/);
world-atlas is ISC-licensed packaging of it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pycountry

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "search_app" / "static" / "map"
PACKAGE = "world-atlas@2"
TOPOJSON_NAME = "countries-50m.json"

#: The frame, in degrees: west, south, east, north (the world without Antarctica).
FRAME = (-180.0, -58.0, 180.0, 84.0)
#: Clip a little outside the frame so clipped edges fall outside the viewBox.
CLIP_MARGIN = 2.0
STANDARD_PARALLEL = 25.0
#: About 6.5 units per degree of longitude at the standard parallel: a region of ~50 degrees drawn ~300 px
#: wide keeps about one unit per pixel.
WIDTH = 2100.0
#: Douglas–Peucker tolerance (viewBox units): 1.5 units is under a pixel on the map drawn 300 px wide
#: over the corpus's frame (about 700 units), and halves the sprite (74 KB, against 144 KB at 0.5).
TOLERANCE = 1.5
#: Rings smaller than this (square viewBox units) are dropped, unless they are a country's largest.
MIN_RING_AREA = 1.0
#: Features Natural Earth draws without an ISO code, merged into their ISO country.
MERGE_INTO = {"Somaliland": "706", "N. Cyprus": "196"}

Point = tuple[float, float]
Ring = list[Point]


def fetch_topojson(workdir: Path) -> Path:
    """``npm pack`` the world-atlas package into ``workdir`` and unpack it; the TopoJSON file's path."""
    subprocess.run(["npm", "pack", PACKAGE, "--silent"], cwd=workdir, check=True, stdout=subprocess.DEVNULL)
    archive = next(workdir.glob("world-atlas-*.tgz"))
    with tarfile.open(archive) as tar:
        tar.extract(f"package/{TOPOJSON_NAME}", workdir, filter="data")
    return workdir / "package" / TOPOJSON_NAME


def decode_arcs(topology: dict) -> list[list[Point]]:
    """Absolute longitude/latitude points of every arc (undo delta encoding and quantization)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def simplify(points: list[Point], tolerance: float) -> list[Point]:
    """Douglas–Peucker: drop points closer than ``tolerance`` to the chord; the two ends are kept.

    Arcs are simplified once each, before rings are assembled, so shared borders stay identical.
    """
    if len(points) < 4:
        return points
    last = len(points) - 1
    # A closed arc (a whole island) keeps at least a triangle.
    cuts = [0, last // 3, 2 * last // 3, last] if points[0] == points[-1] else [0, last]
    keep = [index in cuts for index in range(len(points))]
    stack = list(itertools.pairwise(cuts))
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        length = math.hypot(bx - ax, by - ay)
        far, distance = first, 0.0
        for index in range(first + 1, last):
            px, py = points[index]
            d = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length if length else math.hypot(px - ax, py - ay)
            if d > distance:
                far, distance = index, d
        if distance > tolerance:
            keep[far] = True
            stack += [(first, far), (far, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def ring_points(indexes: list[int], arcs: list[list[Point]]) -> Ring:
    """A closed ring from arc indexes (``~i`` means arc ``i`` reversed); shared end points kept once."""
    ring: Ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points if not ring else points[1:])
    return ring


def polygons(geometry: dict) -> Iterator[list[list[int]]]:
    """The polygons (lists of rings of arc indexes) of a Polygon or MultiPolygon geometry."""
    if geometry["type"] == "Polygon":
        yield geometry["arcs"]
    elif geometry["type"] == "MultiPolygon":
        yield from geometry["arcs"]


def clip(ring: Ring, box: tuple[float, float, float, float]) -> Ring:
    """Sutherland–Hodgman clipping of a ring to a rectangle (x min, y min, x max, y max)."""
    x_min, y_min, x_max, y_max = box
    edges = [(0, x_min, True), (0, x_max, False), (1, y_min, True), (1, y_max, False)]
    for axis, limit, keep_above in edges:
        if not ring:
            break

        def inside(p: Point, axis: int = axis, limit: float = limit, above: bool = keep_above) -> bool:
            return p[axis] >= limit if above else p[axis] <= limit

        def cross(a: Point, b: Point, axis: int = axis, limit: float = limit) -> Point:
            t = (limit - a[axis]) / (b[axis] - a[axis])
            return (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))

        result: Ring = []
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
            if inside(b):
                if not inside(a):
                    result.append(cross(a, b))
                result.append(b)
            elif inside(a):
                result.append(cross(a, b))
        ring = result
    return ring


def project(point: Point) -> Point:
    """Equirectangular projection of (longitude, latitude) into viewBox units (y downwards)."""
    west, _, east, north = FRAME
    stretch = math.cos(math.radians(STANDARD_PARALLEL))
    scale = WIDTH / ((east - west) * stretch)
    lon, lat = point
    return ((lon - west) * stretch * scale, (north - lat) * scale)


def viewbox_height() -> float:
    """The viewBox height for :data:`WIDTH` and :data:`FRAME`."""
    return round(project((FRAME[0], FRAME[1]))[1], 1)


def clip_box() -> tuple[float, float, float, float]:
    """The frame plus :data:`CLIP_MARGIN`, in viewBox units."""
    west, south, east, north = FRAME
    x_min, y_min = project((west - CLIP_MARGIN, north + CLIP_MARGIN))
    x_max, y_max = project((east + CLIP_MARGIN, south - CLIP_MARGIN))
    return (x_min, y_min, x_max, y_max)


def area(ring: list[tuple[int, int]]) -> float:
    """Unsigned area (square viewBox units) of a ring in tenths."""
    total = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:] + ring[:1], strict=True))
    return abs(total) / 200.0


def centroid(ring: list[tuple[int, int]]) -> tuple[float, float]:
    """Area centroid of a ring, in viewBox units (the vertex mean for degenerate rings)."""
    cross_sum = cx = cy = 0.0
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = a[0] * b[1] - b[0] * a[1]
        cross_sum += cross
        cx += (a[0] + b[0]) * cross
        cy += (a[1] + b[1]) * cross
    if abs(cross_sum) < 1e-9:
        return (sum(p[0] for p in ring) / len(ring) / 10, sum(p[1] for p in ring) / len(ring) / 10)
    return (round(cx / (3 * cross_sum) / 10, 1), round(cy / (3 * cross_sum) / 10, 1))


def number(tenths: int) -> str:
    """A coordinate delta in tenths as the shortest SVG number: 15 → ``1.5``, -3 → ``-.3``, 20 → ``2``."""
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    if not tenth:
        return f"{sign}{whole}"
    return f"{sign}{whole if whole else ''}.{tenth}"


def path_data(rings: list[list[tuple[int, int]]]) -> str:
    """SVG path data with relative commands (``m`` then implicit ``l``), one closed subpath per ring."""
    parts = []
    current = (0, 0)
    for ring in rings:
        start = ring[0]
        numbers = [number(start[0] - current[0]), number(start[1] - current[1])]
        previous = start
        for point in ring[1:]:
            numbers += [number(point[0] - previous[0]), number(point[1] - previous[1])]
            previous = point
        joined = numbers[0]
        for item in numbers[1:]:
            joined += item if item.startswith("-") else " " + item
        parts.append("m" + joined + "z")  # a first relative moveto is absolute
        current = start  # after z the current point is the subpath's start
    return "".join(parts)


def unwrap(ring: Ring) -> Ring:
    """Undo jumps across the antimeridian (Fiji, Chukotka) so clipping sees one contiguous ring."""
    turn = project((180.0, 0.0))[0] - project((-180.0, 0.0))[0]
    result, offset = ring[:1], 0.0
    for previous, (x, y) in itertools.pairwise(ring):
        if x - previous[0] > turn / 2:
            offset -= turn
        elif x - previous[0] < -turn / 2:
            offset += turn
        result.append((x + offset, y))
    return result


def tenths_rings(rings: list[Ring]) -> list[list[tuple[int, int]]]:
    """Clip rings (in viewBox units), round them to tenths and de-duplicate; drop specks (not the largest ring)."""
    box = clip_box()
    result = []
    for ring in rings:
        points: list[tuple[int, int]] = []
        for point in ((round(x * 10), round(y * 10)) for x, y in clip(unwrap(ring), box)):
            if not points or point != points[-1]:
                points.append(point)
        while len(points) > 1 and points[-1] == points[0]:
            points.pop()
        if len(points) >= 3:
            result.append(points)
    result.sort(key=area, reverse=True)
    return result[:1] + [ring for ring in result[1:] if area(ring) >= MIN_RING_AREA]


def features(topology: dict, tolerance: float = TOLERANCE) -> dict[str, list[Ring]]:
    """Projected rings simplified to ``tolerance``, per ISO numeric code (features without one keyed by
    name or merged)."""
    arcs = [simplify([project(p) for p in arc], tolerance) for arc in decode_arcs(topology)]
    rings: dict[str, list[Ring]] = {}
    for geometry in topology["objects"]["countries"]["geometries"]:
        name = geometry["properties"]["name"]
        key = geometry.get("id") or MERGE_INTO.get(name) or f"x-{name}"
        for polygon in polygons(geometry):
            rings.setdefault(key, []).extend(ring_points(ring, arcs) for ring in polygon)
    return rings


def shape(key: str, rings: list[Ring]) -> tuple[str, dict] | None:
    """The asset entry of one country, or None when nothing of it is in the frame."""
    projected = tenths_rings(rings)
    if not projected:
        return None
    xs = [p[0] for ring in projected for p in ring]
    ys = [p[1] for ring in projected for p in ring]
    box = [min(xs) / 10, min(ys) / 10, max(xs) / 10, max(ys) / 10]
    country = pycountry.countries.get(numeric=key) if key[:1].isdigit() else None
    code = country.alpha_3 if country else key
    entry = {
        "numeric": key if country else None,
        "name": country.name if country else key.removeprefix("x-"),
        "d": path_data(projected),
        "anchor": list(centroid(projected[0])),
        "box": box,
    }
    return code, entry


def build(topojson: Path) -> dict:
    """The whole asset from a world-atlas countries TopoJSON file."""
    topology = json.loads(topojson.read_text(encoding="utf-8"))
    countries = {}
    exact = features(topology, tolerance=0.0)
    for key, rings in sorted(features(topology).items()):
        # A microstate (Andorra, Liechtenstein) simplifies to nothing: it keeps its exact outline.
        entry = shape(key, rings) or shape(key, exact[key])
        if entry:
            countries[entry[0]] = entry[1]
    return {
        "source": f"Natural Earth admin-0 countries (public domain), via npm {PACKAGE} {TOPOJSON_NAME}",
        "generator": "scripts/build_map.py",
        "projection": {
            "name": "equirectangular",
            "standard_parallel": STANDARD_PARALLEL,
            "frame": {"west": FRAME[0], "south": FRAME[1], "east": FRAME[2], "north": FRAME[3]},
        },
        "viewBox": [0, 0, WIDTH, viewbox_height()],
        "countries": dict(sorted(countries.items())),
    }


#: The background's colour when the sprite is drawn as an image (a ``<use>`` of one path does not get it:
#: the clone inherits from the ``<use>``, which the page's stylesheet colours).
LAND_FILL = "#e5e7eb"


def sprite(asset: dict) -> str:
    """``world.svg``: every country's path, with its code as id, in one group ``land``."""
    view_box = " ".join(f"{value:g}" for value in asset["viewBox"])
    # Borders keep their width at every zoom (the property is not inherited, so it is on each path).
    paths = "\n".join(
        f'<path id="{code}" vector-effect="non-scaling-stroke" d="{entry["d"]}"/>'
        for code, entry in asset["countries"].items()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{view_box}">\n'
        f"<!-- {asset['source']}; generated by {asset['generator']} -->\n"
        f'<g id="land" fill="{LAND_FILL}" stroke="#fff" stroke-width=".5">\n{paths}\n</g>\n</svg>\n'
    )


def boxes(asset: dict) -> dict:
    """``countries.json``: the asset without the path data (what the app needs to frame the map)."""
    countries = {code: {k: v for k, v in entry.items() if k != "d"} for code, entry in asset["countries"].items()}
    return {**asset, "countries": countries}


def main(argv: list[str] | None = None) -> int:
    """Fetch (unless ``--topojson`` is given), convert and write the two files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--topojson", type=Path, help=f"a local {TOPOJSON_NAME} (default: npm pack {PACKAGE})")
    parser.add_argument("--out", type=Path, default=OUTPUT_DIR, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="world-atlas-") as workdir:
        source = args.topojson or fetch_topojson(Path(workdir))
        asset = build(source)
    args.out.mkdir(parents=True, exist_ok=True)
    svg = sprite(asset)
    (args.out / "world.svg").write_text(svg, encoding="utf-8")
    text = json.dumps(boxes(asset), ensure_ascii=False, separators=(",", ":"))
    (args.out / "countries.json").write_text(text + "\n", encoding="utf-8")
    sizes = f"world.svg {len(svg.encode()) // 1024} KB, countries.json {len(text.encode()) // 1024} KB"
    print(f"{args.out}: {len(asset['countries'])} countries; {sizes}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
