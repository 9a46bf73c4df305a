"""Frozen settings: a run's parameters made read-only once they are checked.

The settings dataclasses of :mod:`gridsim.model.params` are Hydra's schema, so they stay plain,
mutable dataclasses: OmegaConf merges the YAML files of ``conf/`` into them (a frozen dataclass
makes the structured config read-only, and Hydra cannot merge into it). Once a run's config is
composed and its value ranges are checked, the Hydra boundary (:func:`gridsim.app.hydra_app.check`)
hands on :func:`freeze`'s copy instead, and that is what the engine, the place and the outputs
take. The micro tests' builders (``tests/params.py``) freeze theirs too.

:func:`freeze` works on any dataclass, without code per class:

* a dataclass becomes an instance of its class's frozen twin (:func:`frozen_class`): a subclass
  of the same name, fields, defaults and repr whose attributes cannot be assigned or deleted
  (:class:`dataclasses.FrozenInstanceError`, naming the field and the way to change it);
* a dict becomes a :class:`FrozenDict` and a list a :class:`FrozenList`: subclasses of ``dict``
  and ``list`` that refuse every change (:class:`TypeError`), so ``isinstance`` checks, json,
  numpy and equality with plain dicts and lists see them as they were;
* a set becomes a frozenset, a tuple keeps its type with frozen items, a numpy array becomes a
  read-only copy; anything else (numbers, strings, None, enums, paths) is kept as it is.

A frozen object equals the unfrozen settings it was made from, is hashable (by its fields),
pickles (to the workers of a sweep) and copies (``copy.copy``, ``copy.deepcopy``) as itself.
``dataclasses.replace(frozen, field=value)`` gives a frozen object again, its new values frozen
too: that is how code changes a setting, e.g. ``replace(s, response=replace(s.response,
department_speed_factor=2.0))``. ``dataclasses.asdict`` works (json-dumps as before; as asdict
keeps container types, the dicts and lists inside are the frozen ones); :func:`thaw` gives a
plain, mutable deep copy (for ``yaml.safe_dump``, which writes only exact dicts and lists, or to
edit deep inside and :func:`freeze` again).
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, NoReturn, TypeVar

import numpy as np

__all__ = ["FrozenDict", "FrozenList", "changed", "freeze", "frozen_class", "is_frozen", "thaw"]

T = TypeVar("T")

#: Set on every frozen twin class (and read by :func:`is_frozen`).
_FLAG = "__gridsim_frozen__"
#: Frozen twin of each dataclass frozen so far.
_TWINS: dict[type, type] = {}
_ATOMS = (str, int, float, bool, complex, bytes, type(None))

_HOW = ("settings are frozen once checked: make a changed copy with dataclasses.replace "
        "(e.g. replace(settings, hazard=replace(settings.hazard, rate_scale=2.0)))")


class FrozenDict(dict):  # type: ignore[type-arg]
    """A dict that refuses every change (a frozen setting's mapping). ``copy()`` and ``|``
    give a plain dict; it hashes by its items, pickles and copies as itself."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"this mapping is part of frozen settings and cannot be changed; "
                        f"make a new dict (e.g. {{**old, key: value}}) and {_HOW}")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))

    def __copy__(self) -> FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenDict:
        return self


class FrozenList(list):  # type: ignore[type-arg]
    """A list that refuses every change (a frozen setting's list). ``copy()``, slices and
    ``+`` give a plain list; it hashes like a tuple, pickles and copies as itself."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"this list is part of frozen settings and cannot be changed; "
                        f"make a new list (e.g. [*old, item]) and {_HOW}")

    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenList, (list(self),))

    def __copy__(self) -> FrozenList:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenList:
        return self


def _restore(base: type, state: dict[str, Any]) -> Any:
    """A frozen ``base`` with attributes ``state`` (already frozen): unpickling."""
    obj: Any = object.__new__(frozen_class(base))
    obj.__dict__.update(state)
    return obj


def frozen_class(cls: type[T]) -> type[T]:
    """The frozen twin of the dataclass ``cls`` (made once, then reused): a subclass with the
    same name whose instances refuse assignment, compare equal to ``cls``'s with the same
    fields, hash, pickle and copy as themselves, and whose constructor (which
    :func:`dataclasses.replace` calls) freezes what it is given."""
    if getattr(cls, _FLAG, False):
        return cls
    twin = _TWINS.get(cls)
    if twin is not None:
        return twin
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"frozen_class takes a dataclass, not {cls!r}")
    if cls.__dictoffset__ == 0:  # type: ignore[attr-defined]
        raise TypeError(f"cannot freeze {cls.__qualname__}: its instances have no __dict__ "
                        f"(slots)")
    base: Any = cls
    compared = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
    name = cls.__qualname__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        plain = base(*args, **kwargs)  # the dataclass's own __init__ and __post_init__
        self.__dict__.update({k: freeze(v) for k, v in plain.__dict__.items()})

    def __setattr__(self: Any, key: str, value: Any) -> NoReturn:
        raise dataclasses.FrozenInstanceError(f"cannot assign {name}.{key}: {_HOW}")

    def __delattr__(self: Any, key: str) -> NoReturn:
        raise dataclasses.FrozenInstanceError(f"cannot delete {name}.{key}: {_HOW}")

    def __eq__(self: Any, other: Any) -> bool:
        if type(other) is not type(self) and type(other) is not base:
            return NotImplemented
        return (tuple(getattr(self, k) for k in compared)
                == tuple(getattr(other, k) for k in compared))

    def __hash__(self: Any) -> int:
        return hash((name, *(getattr(self, k) for k in compared)))

    def __reduce__(self: Any) -> tuple[Any, ...]:
        return (_restore, (base, dict(self.__dict__)))

    def __copy__(self: Any) -> Any:
        return self

    def __deepcopy__(self: Any, memo: dict[int, Any]) -> Any:
        return self

    namespace = {
        "__init__": __init__, "__setattr__": __setattr__, "__delattr__": __delattr__,
        "__eq__": __eq__, "__hash__": __hash__, "__reduce__": __reduce__,
        "__copy__": __copy__, "__deepcopy__": __deepcopy__,
        "__module__": cls.__module__, "__qualname__": cls.__qualname__, "__doc__": cls.__doc__,
        _FLAG: True,
    }
    twin = type(cls.__name__, (cls,), namespace)
    _TWINS[cls] = twin
    return twin  # type: ignore[return-value]


def freeze(value: T) -> T:
    """A frozen copy of ``value`` (see the module docstring); frozen parts are kept as they
    are, so freezing again, or a :func:`dataclasses.replace` of a frozen object, costs little."""
    return _freeze(value, {})  # type: ignore[no-any-return]


def _freeze(value: Any, memo: dict[int, Any]) -> Any:
    t = type(value)
    if t in _ATOMS or getattr(t, _FLAG, False) or t is FrozenDict or t is FrozenList:
        return value
    done = memo.get(id(value))
    if done is not None:  # the same object in many fields (e.g. one Dist): frozen once
        return done
    out: Any
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = object.__new__(frozen_class(t))
        out.__dict__.update({k: _freeze(v, memo) for k, v in value.__dict__.items()})
    elif isinstance(value, dict):
        out = FrozenDict({k: _freeze(v, memo) for k, v in value.items()})
    elif isinstance(value, list):
        out = FrozenList(_freeze(v, memo) for v in value)
    elif isinstance(value, tuple):
        items = [_freeze(v, memo) for v in value]
        out = t(*items) if hasattr(value, "_fields") else t(items)
    elif isinstance(value, set | frozenset):
        out = frozenset(_freeze(v, memo) for v in value)
    elif isinstance(value, np.ndarray):
        out = np.array(value, copy=True)
        out.setflags(write=False)
    else:  # immutable values (enums, paths, numpy scalars) and anything else, as they are
        return value
    memo[id(value)] = out
    return out


def is_frozen(value: Any) -> bool:
    """Whether ``value`` is frozen all the way down: a frozen dataclass, frozen container or
    read-only array whose every part is too, or an immutable atom."""
    t = type(value)
    if t in _ATOMS or isinstance(value, Enum):
        return True
    if getattr(t, _FLAG, False):
        return all(is_frozen(v) for v in value.__dict__.values())
    if t is FrozenDict:
        return all(is_frozen(v) for v in value.values())
    if t is FrozenList or isinstance(value, tuple | frozenset):
        return all(is_frozen(v) for v in value)
    if isinstance(value, np.ndarray):
        return not value.flags.writeable
    return False


def thaw(value: T) -> T:
    """A plain, mutable deep copy of frozen ``value``: the settings dataclasses themselves,
    dicts and lists (tuples and frozensets stay as they are, with thawed items)."""
    t = type(value)
    if t in _ATOMS:
        return value
    out: Any
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        base = t.__mro__[1] if getattr(t, _FLAG, False) else t
        out = object.__new__(base)
        out.__dict__.update({k: thaw(v) for k, v in value.__dict__.items()})
        return out  # type: ignore[no-any-return]
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [thaw(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        items = [thaw(v) for v in value]
        kind: Any = t
        return kind(*items) if hasattr(value, "_fields") else kind(items)  # type: ignore[no-any-return]
    if isinstance(value, frozenset):
        return frozenset(thaw(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)  # type: ignore[return-value]
    return value


def changed(value: T, changes: dict[str, Any]) -> T:
    """``value`` (settings, frozen or not) with the values at dotted paths replaced, through
    :func:`dataclasses.replace` at every level: ``changed(s, {"response.switch.trigger_grade":
    "II", "response.dispatch.local_speed_mps.rural": 2.0})``. A path steps through dataclass
    fields and dict keys (a new key is added to a dict); a frozen ``value`` gives a frozen
    copy. :class:`KeyError` names a path that does not exist."""
    out: Any = value
    for path, new in changes.items():
        out = _changed_at(out, path.split("."), new, path)
    return out  # type: ignore[no-any-return]


def _changed_at(obj: Any, keys: list[str], new: Any, path: str) -> Any:
    if not keys:
        return new
    head, rest = keys[0], keys[1:]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if head not in {f.name for f in dataclasses.fields(obj)}:
            raise KeyError(f"{path}: {type(obj).__qualname__} has no field {head!r}")
        return dataclasses.replace(obj, **{head: _changed_at(getattr(obj, head), rest, new,
                                                              path)})
    if isinstance(obj, dict):
        if rest and head not in obj:
            raise KeyError(f"{path}: no key {head!r} (keys: {', '.join(map(str, obj))})")
        return {**obj, head: _changed_at(obj.get(head), rest, new, path)}
    raise KeyError(f"{path}: cannot step into {type(obj).__name__} at {head!r}")
