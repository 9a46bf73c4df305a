"""Put a calibration's fitted factors into the catalogue as its new defaults, comments kept.

    python scripts/apply_calibration.py                       # reports/calibration -> standard.yaml
    python scripts/apply_calibration.py --report out/cal/calibration.json --catalogue my.yaml
    python scripts/apply_calibration.py --dry-run              # print the changes, write nothing

``gridsim calibrate`` writes ``calibration.json``: for every parameter its ``leaves`` (the config
paths it set, ``catalogue.hazards.<hazard>.<key>...``), its ``mode`` and its ``fitted`` value. For
``mode: scale`` the fitted value is a factor on the catalogue's value as it stood when the fit
ran, so this script multiplies each leaf's value by it (``mode: set`` puts the value itself).
It edits the YAML text line by line, so every comment stays. A scalar leaf (``median_cny:
364499  # ...``) gets its new number and, at the head of its comment, ``calibrated: <report>
(<fit>), x<factor> of the value before``, in place of an earlier such note. A leaf inside an
inline map (``rate_per_unit_day: {urban_community: ..., rural: ...}``) gets its new number in
the map. Numbers are written with 10 significant digits.

Run it once per fit, right after the fit, on the catalogue the fit saw: running it twice
applies the factors twice. It refuses a leaf it cannot find, and writes the file atomically.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gridsim.fsutil import write_atomic  # noqa: E402  (the repository's own package)

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z_][A-Za-z0-9_]*):(?P<rest>.*)$")


def _fmt(x: float) -> str:
    """10 significant digits (a fitted factor's runs are reproduced to the incident), always
    read back as a float (YAML 1.1 takes ``3e-06`` for text)."""
    s = f"{x:.10g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant if '.' in mant else mant + '.0'}e{exp}"
    return s


def _find(lines: list[str], keys: list[str]) -> int:
    """The line of the nested mapping key ``keys`` (block style, by indentation)."""
    start, end, indent = 0, len(lines), -1
    for depth, key in enumerate(keys):
        found = -1
        child = None
        for i in range(start, end):
            m = _KEY.match(lines[i])
            if not m:
                continue
            ind = len(m["indent"])
            if ind <= indent:
                break
            if child is None:
                child = ind
            if ind == child and m["key"] == key:
                found = i
                break
        if found < 0:
            raise KeyError(".".join(keys[:depth + 1]))
        start, indent = found + 1, len(_KEY.match(lines[found])["indent"])  # type: ignore[index]
        end = len(lines)
        for j in range(start, len(lines)):
            m = _KEY.match(lines[j])
            if m and len(m["indent"]) <= indent:
                end = j
                break
        if depth == len(keys) - 1:
            return found
    raise KeyError(".".join(keys))


def _annotate(comment: str, note: str, old: float) -> str:
    """The comment of a scalar after a fit: its tag, the note, and what it first was."""
    tag = "[assumed]"
    body = comment
    for t in ("[assumed]", "[DOMAIN]"):
        if body.startswith(t):
            tag, body = t, body[len(t):].strip()
    first = body.split("; was ", 1)[1] if body.startswith("calibrated:") and "; was " in body \
        else (f"{_fmt(old)}: {tag} {body}".rstrip() if body else _fmt(old))
    return f"{tag} {note} of {_fmt(old)}; was {first}"


def _split_comment(rest: str) -> tuple[str, str]:
    i = rest.find("#")
    return (rest, "") if i < 0 else (rest[:i], rest[i + 1:].strip())


def apply(catalogue_text: str, report: dict, report_name: str) -> tuple[str, list[str]]:
    """The catalogue's text with the report's fitted factors applied, and what changed."""
    lines = catalogue_text.split("\n")
    changes: list[str] = []
    noted: set[str] = set()
    fit = f"{report.get('name', 'fit')}, {report.get('evaluations', '?')} evaluations"
    for p in report["parameters"]:
        mode, value = p.get("mode", "scale"), float(p["fitted"])
        for leaf in p["leaves"]:
            parts = leaf.split(".")
            if parts[0] != "catalogue":
                raise KeyError(f"{leaf}: not a catalogue path")
            keys = parts[1:]
            try:
                i = _find(lines, keys)
                inline_key = None
            except KeyError:
                i = _find(lines, keys[:-1])  # a key of an inline map
                inline_key = keys[-1]
            m = _KEY.match(lines[i])
            assert m is not None
            body, comment = _split_comment(m["rest"])
            note = (f"calibrated: {report_name} ({fit}), x{value:.4g}"
                    if mode == "scale" else f"calibrated: {report_name} ({fit})")
            if inline_key is None:
                old = float(body.strip())
                new = old * value if mode == "scale" else value
                lines[i] = f"{f'{m.group(1)}{m.group(2)}: {_fmt(new)}'.ljust(33)} # " \
                           + _annotate(comment, note, old)
            else:
                pat = re.compile(rf"(\b{re.escape(inline_key)}:\s*)([-+0-9.eE]+)")
                hit = pat.search(body)
                if hit is None:
                    raise KeyError(leaf)
                old = float(hit.group(2))
                new = old * value if mode == "scale" else value
                body = body[:hit.start(2)] + _fmt(new) + body[hit.end(2):]
                lines[i] = f"{m['indent']}{m['key']}:{body}" + (f"# {comment}" if comment else "")
                # the note of an inline map is a comment line above it
                j = i - 1
                while j >= 0 and lines[j].lstrip().startswith("#"):
                    if "calibrated:" in lines[j] and lines[j] not in noted:
                        ind = lines[j][:len(lines[j]) - len(lines[j].lstrip())]
                        lines[j] = f"{ind}# {note} of the value before it"
                        noted.add(lines[j])
                        break
                    j -= 1
            changes.append(f"{leaf}: {_fmt(old)} -> {_fmt(new)}")
    return "\n".join(lines), changes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", type=Path, default=ROOT / "reports/calibration/calibration.json")
    ap.add_argument("--catalogue", type=Path, default=ROOT / "conf/catalogue/standard.yaml")
    ap.add_argument("--dry-run", action="store_true")
    a = ap.parse_args(argv)
    try:
        report = json.loads(a.report.read_text(encoding="utf-8"))
        text = a.catalogue.read_text(encoding="utf-8")
        rel = a.report.parent
        name = str(rel.relative_to(ROOT)) if rel.is_relative_to(ROOT) else str(rel)
        new, changes = apply(text, report, name)
    except (OSError, ValueError, KeyError) as exc:
        print(f"apply_calibration: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 2
    print("\n".join(changes))
    if not a.dry_run:
        write_atomic(a.catalogue, new)
        print(f"wrote {a.catalogue} ({len(changes)} values)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
