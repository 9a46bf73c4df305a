"""A plan folder's ``plan.yaml`` and its tables: read strictly, written deterministically.

The file holds a :class:`gridsim.model.plan.Plan`::

    gridsim_plan: 1              # the format version (required, 1)
    model: mclp                  # one of PLAN_MODELS (required)
    name: "district mclp p=5"    # optional, a string ("" when absent)
    sites:                       # optional (absent or null: no sites)
      kind: supply_points        # supply_points | posts | stations (required)
      department: ""             # stations: one of DEPARTMENTS (required); else "" or one
      grids: [3, 17, 40]         # the chosen grids, scenario indices, no repeats ([] allowed:
                                 # a plan of an instance read from a folder has no grid)
      holds: {sandbag: 200}      # what each chosen site holds, counts >= 0:
                                 #   supply_points: items of SUPPLY_ITEMS -> units
                                 #   posts: {people: n}   stations: {units: n}
    stock: plan_stock.csv        # optional: a table of stock levels, beside plan.yaml
    moves: plan_moves.csv        # optional: a table of moves ahead of a storm

``plan_stock.csv`` has the columns ``site,id,item,units`` (``site``: ``grid`` or ``depot``,
``id`` the grid or the township, one row per (site, id, item)); ``plan_moves.csv`` has
``what,from_grid,to_grid,people,item,units,warning`` (``what``: ``team`` or ``stock``; a
stock move names its item, a team move leaves ``item`` empty). Table paths are relative to the
folder of ``plan.yaml``. Every number is a non-negative integer.

Reading is strict: an unknown key, a wrong type, an unknown site kind, item, department or
model, a negative count, a repeated grid or row, a bad header or cell, or a table that is
missing gives a :class:`~gridsim.errors.UserError` naming the file and the key or the line.
Writing is deterministic (the same plan gives the same bytes) and atomic
(:func:`gridsim.fsutil.write_atomic`): tables first, ``plan.yaml`` last, so a ``plan.yaml``
never names a table that is not there yet. What the scenario must have (its grids,
townships) is checked against the built scenario by :func:`check_plan`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gridsim.csvtext import csv_text
from gridsim.errors import UserError, os_error
from gridsim.fsutil import file_sha256, write_atomic
from gridsim.model.plan import (
    MOVE_KINDS,
    PLAN_MODELS,
    SITE_KINDS,
    STOCK_SITES,
    Move,
    Plan,
    Sites,
    StockLevel,
)
from gridsim.model.vocab import DEPARTMENTS, SUPPLY_ITEMS

if TYPE_CHECKING:
    from gridsim.place.scenario import Scenario

__all__ = ["FORMAT_VERSION", "MOVES_COLUMNS", "PLAN_FILE", "STOCK_COLUMNS", "check_plan",
           "holds_keys", "plan_files", "plan_path", "read_plan", "write_plan"]

#: The version of the plan.yaml format written and read.
FORMAT_VERSION = 1
#: The plan's own file in a plan folder.
PLAN_FILE = "plan.yaml"
#: The tables' default names (a plan.yaml may name others, beside it).
STOCK_FILE = "plan_stock.csv"
MOVES_FILE = "plan_moves.csv"
STOCK_COLUMNS: tuple[str, ...] = ("site", "id", "item", "units")
MOVES_COLUMNS: tuple[str, ...] = ("what", "from_grid", "to_grid", "people", "item", "units",
                                  "warning")
_TOP_KEYS = ("gridsim_plan", "model", "name", "sites", "stock", "moves")
_SITES_KEYS = ("kind", "department", "grids", "holds")


def holds_keys(kind: str) -> tuple[str, ...]:
    """What a site of ``kind`` may hold: supply items, ``people`` (posts), ``units``
    (stations)."""
    return {"supply_points": SUPPLY_ITEMS, "posts": ("people",),
            "stations": ("units",)}.get(kind, ())


def plan_path(path: Path | str) -> Path:
    """The ``plan.yaml`` of ``path``: the file itself, or the one in the folder ``path``."""
    p = Path(path)
    return p / PLAN_FILE if p.is_dir() else p


# ----------------------------------------------------------------------------------------------
# reading
# ----------------------------------------------------------------------------------------------
def _count(v: Any) -> bool:
    """A non-negative integer (not a bool)."""
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _load_yaml(path: Path) -> Any:
    import yaml  # start-up time: YAML only when a plan is read

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UserError("plan: expected UTF-8 text", path) from None
    except OSError as exc:
        raise os_error(exc, "plan: cannot read") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError("plan: expected YAML", path, " ".join(str(exc).split())) from None


def _raise(problems: list[str]) -> None:
    if problems:
        err = UserError(problems[0])
        err.lines = list(problems)
        raise err


#: (plan.yaml's absolute path, SHA-256 of each of its files) -> the plan read from them
_READ: dict[tuple[str, tuple[str | None, ...]], Plan] = {}
_READ_KEPT = 4


def read_plan(path: Path | str) -> Plan:
    """The plan of a plan folder (its ``plan.yaml``) or of a ``plan.yaml`` file, with its
    tables. Every problem found raises one :class:`UserError` listing them all, each line
    naming the file and the key or line. A plan whose files are unchanged is read once per
    process (the validation of a run and the run itself read it)."""
    key: tuple[str, tuple[str | None, ...]] | None = None
    try:
        files = plan_files(path)
        key = (str(files[0].resolve()), tuple(file_sha256(f) for f in files))
    except OSError:  # read below, and reported there
        pass
    if key is not None and key in _READ:
        return _READ[key]
    plan = _read_plan(Path(path))
    if key is not None:
        while len(_READ) >= _READ_KEPT:
            del _READ[next(iter(_READ))]
        _READ[key] = plan
    return plan


def _read_plan(given: Path) -> Plan:
    if not given.exists():
        raise UserError("plan: no such plan folder or plan.yaml", given,
                        "give a folder written by gridsim plan, or its plan.yaml")
    file = plan_path(given)
    if not file.is_file():
        raise UserError(f"plan: the folder holds no {PLAN_FILE}", given,
                        "give a folder written by gridsim plan, or its plan.yaml")
    data = _load_yaml(file)
    problems: list[str] = []

    def bad(key: str, msg: str) -> None:
        problems.append(f"{file}: {key}: {msg}")

    if not isinstance(data, dict):
        raise UserError(f"{file}: expected a mapping of keys, got {type(data).__name__}")
    for k in data:
        if k not in _TOP_KEYS:
            bad(str(k), f"unknown key; expected one of {', '.join(_TOP_KEYS)}")
    version = data.get("gridsim_plan")
    if version != FORMAT_VERSION or isinstance(version, bool):
        bad("gridsim_plan", f"must be {FORMAT_VERSION} (the format version), got {version!r}")
    model = data.get("model")
    if model not in PLAN_MODELS:
        bad("model", f"must be one of {', '.join(PLAN_MODELS)}, got {model!r}")
    name = data.get("name", "")
    if name is None:
        name = ""
    if not isinstance(name, str):
        bad("name", f"must be a string, got {name!r}")
        name = ""
    sites = _read_sites(data.get("sites"), bad)
    stock: tuple[StockLevel, ...] = ()
    moves: tuple[Move, ...] = ()
    for key in ("stock", "moves"):
        ref = data.get(key)
        if ref is None:
            continue
        if not isinstance(ref, str) or not ref.strip():
            bad(key, f"must name a CSV file beside {PLAN_FILE}, got {ref!r}")
            continue
        table = file.parent / ref
        if not table.is_file():
            bad(key, f"names {ref!r}, but there is no such file: {table}")
            continue
        if key == "stock":
            stock = _read_stock(table, problems)
        else:
            moves = _read_moves(table, problems)
    _raise(problems)
    assert isinstance(model, str)
    return Plan(model=model, name=name, sites=sites, stock=stock, moves=moves)


def _read_sites(s: Any, bad: Any) -> Sites | None:
    if s is None:
        return None
    if not isinstance(s, dict):
        bad("sites", f"must be a mapping (kind, department, grids, holds), got {s!r}")
        return None
    for k in s:
        if k not in _SITES_KEYS:
            bad(f"sites.{k}", f"unknown key; expected one of {', '.join(_SITES_KEYS)}")
    kind = s.get("kind")
    if kind not in SITE_KINDS:
        bad("sites.kind", f"must be one of {', '.join(SITE_KINDS)}, got {kind!r}")
        kind = None
    dept = s.get("department", "")
    dept = "" if dept is None else dept
    if kind == "stations" and dept not in DEPARTMENTS:
        bad("sites.department", f"stations need a department, one of {', '.join(DEPARTMENTS)}; "
            f"got {dept!r}")
    elif dept != "" and dept not in DEPARTMENTS:
        bad("sites.department", f"must be empty or one of {', '.join(DEPARTMENTS)}, "
            f"got {dept!r}")
    grids = s.get("grids", [])
    out_grids: list[int] = []
    if not isinstance(grids, list):
        bad("sites.grids", f"must be a list of grid ids, got {grids!r}")
    else:
        wrong = [g for g in grids if not _count(g)]
        if wrong:
            bad("sites.grids", f"grid ids must be integers >= 0, got {wrong[:10]!r}")
        else:
            out_grids = list(grids)
            twice = sorted(g for g, k in Counter(out_grids).items() if k > 1)
            if twice:
                bad("sites.grids", f"lists grids more than once: {twice[:10]}")
    holds = s.get("holds", {})
    holds = {} if holds is None else holds
    out_holds: list[tuple[str, int]] = []
    if not isinstance(holds, dict):
        bad("sites.holds", f"must be a mapping of what -> count, got {holds!r}")
    elif kind is not None:
        allowed = holds_keys(kind)
        for what, n in holds.items():
            if what not in allowed:
                bad(f"sites.holds.{what}", f"unknown for {kind}; expected one of "
                    f"{', '.join(allowed)}")
            elif not _count(n):
                bad(f"sites.holds.{what}", f"must be an integer >= 0, got {n!r}")
            else:
                out_holds.append((str(what), int(n)))
        need = {"posts": "people", "stations": "units"}.get(kind)
        if need is not None and need not in holds:
            bad("sites.holds", f"{kind} must say how many {need} each holds ({need}: n)")
    if kind is None:
        return None
    return Sites(kind=kind, grids=tuple(out_grids), department=str(dept),
                 holds=tuple(out_holds))


def _rows(table: Path, columns: tuple[str, ...], problems: list[str]
          ) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` of a CSV table whose header must be exactly ``columns``."""
    try:
        text = table.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(f"{table}: expected UTF-8 text")
        return []
    except OSError as exc:
        problems.append(str(os_error(exc, "cannot read")))
        return []
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(h.strip() for h in header) != columns:
        problems.append(f"{table}: line 1: the header must be {','.join(columns)}, "
                        f"got {','.join(header) if header else 'an empty file'}")
        return []
    out = []
    width = len(columns)
    for row in reader:
        line = reader.line_num
        if len(row) != width:
            if not row or all(not c.strip() for c in row):
                continue
            problems.append(f"{table}: line {line}: expected {width} cells "
                            f"({','.join(columns)}), got {len(row)}")
            continue
        out.append((line, dict(zip(columns, map(str.strip, row), strict=True))))
    return out


def _int_cell(table: Path, line: int, row: dict[str, str], col: str, problems: list[str]
              ) -> int | None:
    text = row[col]
    try:
        v = int(text)
    except ValueError:
        problems.append(f"{table}: line {line}: {col}: expected an integer >= 0, got {text!r}")
        return None
    if v < 0:
        problems.append(f"{table}: line {line}: {col}: expected an integer >= 0, got {v}")
        return None
    return v


_SITES_SET, _ITEMS_SET = frozenset(STOCK_SITES), frozenset(SUPPLY_ITEMS)


def _read_stock(table: Path, problems: list[str]) -> tuple[StockLevel, ...]:
    levels: list[StockLevel] = []
    first: dict[tuple[str, int, str], int] = {}
    for line, row in _rows(table, STOCK_COLUMNS, problems):
        site, item, sid_text, units_text = row["site"], row["item"], row["id"], row["units"]
        if (site in _SITES_SET and item in _ITEMS_SET and sid_text.isascii()
                and sid_text.isdigit() and units_text.isascii() and units_text.isdigit()):
            key = (site, int(sid_text), item)  # the common case, checked in full
            if key not in first:
                first[key] = line
                levels.append(StockLevel(site=site, id=key[1], item=item,
                                         units=int(units_text)))
                continue
        ok = True
        if row["site"] not in STOCK_SITES:
            problems.append(f"{table}: line {line}: site: expected one of "
                            f"{', '.join(STOCK_SITES)}, got {row['site']!r}")
            ok = False
        if row["item"] not in SUPPLY_ITEMS:
            problems.append(f"{table}: line {line}: item: expected one of "
                            f"{', '.join(SUPPLY_ITEMS)}, got {row['item']!r}")
            ok = False
        sid = _int_cell(table, line, row, "id", problems)
        units = _int_cell(table, line, row, "units", problems)
        if not ok or sid is None or units is None:
            continue
        key = (row["site"], sid, row["item"])
        if key in first:
            problems.append(f"{table}: line {line}: {key[0]} {sid} {key[2]} is set twice "
                            f"(also line {first[key]})")
            continue
        first[key] = line
        levels.append(StockLevel(site=row["site"], id=sid, item=row["item"], units=units))
    return tuple(levels)


def _read_moves(table: Path, problems: list[str]) -> tuple[Move, ...]:
    moves: list[Move] = []
    for line, row in _rows(table, MOVES_COLUMNS, problems):
        what, item = row["what"], row["item"]
        ok = True
        if what not in MOVE_KINDS:
            problems.append(f"{table}: line {line}: what: expected one of "
                            f"{', '.join(MOVE_KINDS)}, got {what!r}")
            ok = False
        if what == "stock" and item not in SUPPLY_ITEMS:
            problems.append(f"{table}: line {line}: item: a stock move needs one of "
                            f"{', '.join(SUPPLY_ITEMS)}, got {item!r}")
            ok = False
        elif what == "team" and item:
            problems.append(f"{table}: line {line}: item: a team move carries no item, "
                            f"got {item!r}")
            ok = False
        nums = {c: _int_cell(table, line, row, c, problems)
                for c in ("from_grid", "to_grid", "people", "units", "warning")}
        got = {c: v for c, v in nums.items() if v is not None}
        if not ok or len(got) != len(nums):
            continue
        moves.append(Move(what=what, from_grid=got["from_grid"], to_grid=got["to_grid"],
                          people=got["people"], item=item, units=got["units"],
                          warning=got["warning"]))
    return tuple(moves)


# ----------------------------------------------------------------------------------------------
# writing
# ----------------------------------------------------------------------------------------------
def _yaml_text(plan: Plan) -> str:
    lines = ["# A plan written by gridsim (gridsim.planning.plan_io): gridsim run plan=<this "
             "folder> applies it.",
             f"gridsim_plan: {FORMAT_VERSION}",
             f"model: {plan.model}",
             f"name: {json.dumps(plan.name, ensure_ascii=False)}"]
    s = plan.sites
    if s is not None:
        holds = ", ".join(f"{k}: {int(n)}" for k, n in s.holds)
        lines += ["sites:",
                  f"  kind: {s.kind}",
                  f"  department: {json.dumps(s.department, ensure_ascii=False)}",
                  f"  grids: [{', '.join(str(int(g)) for g in s.grids)}]",
                  f"  holds: {{{holds}}}"]
    if plan.stock:
        lines.append(f"stock: {STOCK_FILE}")
    if plan.moves:
        lines.append(f"moves: {MOVES_FILE}")
    return "\n".join(lines) + "\n"


def _write_problems(plan: Plan) -> list[str]:
    """What :func:`read_plan` would refuse in ``plan`` (so that what is written reads back)."""
    p: list[str] = []
    if plan.model not in PLAN_MODELS:
        p.append(f"model: must be one of {', '.join(PLAN_MODELS)}, got {plan.model!r}")
    s = plan.sites
    if s is not None:
        if s.kind not in SITE_KINDS:
            p.append(f"sites.kind: must be one of {', '.join(SITE_KINDS)}, got {s.kind!r}")
        if s.department and s.department not in DEPARTMENTS:
            p.append(f"sites.department: unknown department {s.department!r}")
        if s.kind == "stations" and s.department not in DEPARTMENTS:
            p.append("sites.department: stations need a department")
        if len(set(s.grids)) != len(s.grids) or any(int(g) < 0 for g in s.grids):
            p.append("sites.grids: must be distinct grid ids >= 0")
        keys = [k for k, _ in s.holds]
        if len(set(keys)) != len(keys):
            p.append(f"sites.holds: names something twice: {keys}")
        for k, n in s.holds:
            if k not in holds_keys(s.kind) or int(n) < 0:
                p.append(f"sites.holds.{k}: not a count of {s.kind}: {n!r}")
    for lv in plan.stock:
        if lv.site not in STOCK_SITES or lv.item not in SUPPLY_ITEMS or lv.id < 0 or lv.units < 0:
            p.append(f"stock: not a stock level: {lv}")
    if len({(lv.site, lv.id, lv.item) for lv in plan.stock}) != len(plan.stock):
        p.append("stock: a (site, id, item) is set twice")
    for m in plan.moves:
        if (m.what not in MOVE_KINDS or min(m.from_grid, m.to_grid, m.people, m.units,
                                            m.warning) < 0
                or (m.what == "stock" and m.item not in SUPPLY_ITEMS)
                or (m.what == "team" and m.item)):
            p.append(f"moves: not a move: {m}")
    return p


def write_plan(plan: Plan, folder: Path | str) -> list[Path]:
    """Write ``plan`` into ``folder`` (created if needed): ``plan.yaml``, and
    ``plan_stock.csv`` when it has stock levels, ``plan_moves.csv`` when it has moves. Each
    file is written atomically, the tables first; the same plan gives the same bytes. Returns
    the files written. A plan that :func:`read_plan` would refuse raises ``ValueError`` (a
    program's error, not the user's)."""
    problems = _write_problems(plan)
    if problems:
        raise ValueError("a plan that cannot be read back: " + "; ".join(problems))
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        written: list[Path] = []
        if plan.stock:
            written.append(write_atomic(folder / STOCK_FILE, csv_text(
                STOCK_COLUMNS, [[lv.site, int(lv.id), lv.item, int(lv.units)]
                                for lv in plan.stock])))
        if plan.moves:
            written.append(write_atomic(folder / MOVES_FILE, csv_text(
                MOVES_COLUMNS, [[m.what, int(m.from_grid), int(m.to_grid), int(m.people),
                                 m.item, int(m.units), int(m.warning)] for m in plan.moves])))
        written.append(write_atomic(folder / PLAN_FILE, _yaml_text(plan)))
    except OSError as exc:
        raise os_error(exc, "cannot write the plan") from None
    return [Path(p) for p in written]


def plan_files(path: Path | str) -> list[Path]:
    """The files a run of ``plan=path`` reads: its ``plan.yaml`` and the tables it names (for
    resume, :func:`gridsim.output.run_folder.input_files`). Never raises: a file that is
    missing or cannot be parsed is listed as it is (a missing file is hashed as missing)."""
    file = plan_path(path)
    try:
        digest = file_sha256(file)
    except OSError:
        digest = None
    key = (str(file.resolve()), digest)
    refs = _TABLES.get(key) if digest is not None else None
    if refs is None:
        refs = []
        try:
            import yaml  # start-up time: YAML only when a plan is read

            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except Exception:  # unreadable: read_plan reports it; here only plan.yaml is listed
            data = None
        if isinstance(data, dict):
            refs = [ref for k in ("stock", "moves")
                    if isinstance(ref := data.get(k), str) and ref.strip()]
        if digest is not None:
            _TABLES[key] = refs
    return [file, *(file.parent / ref for ref in refs)]


#: (plan.yaml's absolute path, its SHA-256) -> the tables it names: a run's plan_files()
#: parses an unchanged plan.yaml once per process
_TABLES: dict[tuple[str, str | None], list[str]] = {}


# ----------------------------------------------------------------------------------------------
# against a scenario
# ----------------------------------------------------------------------------------------------
def _ids(bad: list[int]) -> str:
    shown = ", ".join(str(b) for b in bad[:10])
    return shown + (f" ... ({len(bad)} in all)" if len(bad) > 10 else "")


def check_plan(plan: Plan, scenario: Scenario) -> list[str]:
    """What ``plan`` names that ``scenario`` lacks, one line each (``plan <key>: problem``):
    grids and townships out of range, items, departments and site kinds gridsim does not
    know, negative counts. Empty: the plan can be applied."""
    n = scenario.n_grids
    n_town = scenario.region.hierarchy.n_townships
    out: list[str] = []

    def grids_out(key: str, ids: list[int]) -> None:
        bad = sorted({int(g) for g in ids if not 0 <= int(g) < n})
        if bad:
            out.append(f"plan {key}: grids {_ids(bad)} are not grids of the scenario "
                       f"(0..{n - 1})")

    if plan.model not in PLAN_MODELS:
        out.append(f"plan model: unknown model {plan.model!r}")
    s = plan.sites
    if s is not None:
        if s.kind not in SITE_KINDS:
            out.append(f"plan sites.kind: unknown site kind {s.kind!r}; expected one of "
                       f"{', '.join(SITE_KINDS)}")
        if s.kind == "stations" and s.department not in DEPARTMENTS:
            out.append(f"plan sites.department: {s.department!r} is not a department; "
                       f"expected one of {', '.join(DEPARTMENTS)}")
        grids_out("sites.grids", list(s.grids))
        if len(set(s.grids)) != len(s.grids):
            out.append("plan sites.grids: lists a grid more than once")
        for what, k in s.holds:
            if what not in holds_keys(s.kind):
                out.append(f"plan sites.holds.{what}: not something {s.kind} hold; expected "
                           f"one of {', '.join(holds_keys(s.kind))}")
            elif not (math.isfinite(k) and k >= 0):
                out.append(f"plan sites.holds.{what}: must be >= 0, got {k}")
        need = {"posts": "people", "stations": "units"}.get(s.kind)
        if need is not None and need not in dict(s.holds):
            out.append(f"plan sites.holds: {s.kind} must say how many {need} each holds")
    items = sorted({lv.item for lv in plan.stock if lv.item not in SUPPLY_ITEMS}
                   | {m.item for m in plan.moves if m.what == "stock"
                      and m.item not in SUPPLY_ITEMS})
    if items:
        out.append(f"plan stock: items {', '.join(map(repr, items))} are not supply items; "
                   f"expected {', '.join(SUPPLY_ITEMS)}")
    sites = sorted({lv.site for lv in plan.stock if lv.site not in STOCK_SITES})
    if sites:
        out.append(f"plan stock: sites {', '.join(map(repr, sites))}; expected "
                   f"{', '.join(STOCK_SITES)}")
    grids_out("stock", [lv.id for lv in plan.stock if lv.site == "grid"])
    towns = sorted({lv.id for lv in plan.stock if lv.site == "depot"
                    and not 0 <= lv.id < n_town})
    if towns:
        out.append(f"plan stock: townships {_ids(towns)} are not townships of the scenario "
                   f"(0..{n_town - 1})")
    neg = [lv for lv in plan.stock if lv.units < 0]
    if neg:
        out.append(f"plan stock: negative units at {len(neg)} levels, e.g. {neg[0]}")
    grids_out("moves", [g for m in plan.moves for g in (m.from_grid, m.to_grid)])
    kinds = sorted({m.what for m in plan.moves if m.what not in MOVE_KINDS})
    if kinds:
        out.append(f"plan moves: unknown kinds {', '.join(map(repr, kinds))}; expected "
                   f"{', '.join(MOVE_KINDS)}")
    return out
