"""The bundled missile-system catalogue and site gazetteer, and the names they resolve.

One launch reaches the analyst under many names: a colleague writes ``화성-11가`` or
``KN-23`` where the bundled data says ``Hwasong-11A (KN-23)``, and ``평양 순안`` where it
says ``Pyongyang International Airport``. ``resources/systems.json`` lists each DPRK
system with its US/ROK designators, Korean names (Hangul and romanised) and English
names, its class and range band; ``resources/sites.json`` lists launch sites and areas
with their Hangul and romanised names, coordinates and the area each lies in. Both are
sourced in ``resources/CATALOGUE_SOURCES.md``. A system's first and latest tests are not
stored: :func:`system_profile` computes them from the events it is given.

Everything here is plain Python (no Qt) and cached after the first load.
"""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import schema
from ..resources import resource_path

#: Two points closer than this are one place (a launch area, not a launch pad).
NEAR_KM = 30.0


@dataclass(frozen=True)
class System:
    key: str
    name: str
    cls: str
    other_classes: tuple[str, ...]
    designators: tuple[str, ...]
    english: tuple[str, ...]
    hangul: tuple[str, ...]
    romanised: tuple[str, ...]
    range_band: str
    note: str
    sources: tuple[str, ...]

    @property
    def classes(self) -> frozenset[str]:
        return frozenset((self.cls, *self.other_classes)) - {"unknown"}

    @property
    def aliases(self) -> tuple[str, ...]:
        return (self.name, *self.designators, *self.english, *self.hangul, *self.romanised)


@dataclass(frozen=True)
class Site:
    key: str
    name: str
    kind: str  # "site", "province" or "area"
    hangul: tuple[str, ...]
    aliases: tuple[str, ...]
    latitude: float | None
    longitude: float | None
    within: str | None
    note: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.hangul, *self.aliases)


# ---------------------------------------------------------------------------- names
_LETTER_SEP_DIGIT = re.compile(r"(?<=[^\W\d_])[\s\-\u2010-\u2015_·]+(?=\d)")
_DIGIT_SEP_LETTER = re.compile(r"(?<=\d)[\-\u2010-\u2015_·]+(?=[^\W\d_])")
_HYEONG = re.compile(r"(?<=\d)형")  # '북극성-3형' is '북극성-3'
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=4096)
def norm(text: str) -> str:
    """A name as compared: NFKC, lower case, 'KN 23' / 'KN-23' / 'kn23' alike, '화성-11가' as '화성11가'."""
    s = unicodedata.normalize("NFKC", text).lower()
    s = _LETTER_SEP_DIGIT.sub("", s)
    s = _DIGIT_SEP_LETTER.sub("", s)
    s = _HYEONG.sub("", s)
    return _SPACES.sub(" ", s).strip()


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e"


def _edge_ok(text: str, i: int, j: int, alias: str) -> bool:
    """An alias found at text[i:j] stands as a word: no letter or digit glued to it, except
    that Korean suffixes and particles may follow or precede a name ending in Hangul."""
    if i > 0 and text[i - 1].isalnum() and not (_is_hangul(alias[0]) and _is_hangul(text[i - 1])):
        return False
    return not (j < len(text) and text[j].isalnum() and not (_is_hangul(alias[-1]) and _is_hangul(text[j])))


def _find_spans(text: str, index: list[tuple[str, object]]) -> list[tuple[int, int, object]]:
    """Every (start, end, item) where an alias of ``index`` (longest first) stands in
    ``text``; a longer alias wins over one it overlaps."""
    t = norm(text)
    taken: list[tuple[int, int, object]] = []
    for alias, item in index:
        start = t.find(alias)
        while start >= 0:
            end = start + len(alias)
            if _edge_ok(t, start, end, alias) and not any(a < end and start < b for a, b, _ in taken):
                taken.append((start, end, item))
            start = t.find(alias, start + 1)
    return sorted(taken, key=lambda x: x[0])


def _alias_index(items: Iterable, names) -> list[tuple[str, object]]:
    pairs: dict[str, object] = {}
    for it in items:
        for n in names(it):
            k = norm(n)
            if k:
                pairs.setdefault(k, it)
    return sorted(pairs.items(), key=lambda kv: -len(kv[0]))


# ---------------------------------------------------------------------------- loading
@functools.lru_cache(maxsize=1)
def _systems_doc() -> dict:
    return json.loads(resource_path("systems.json").read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def systems() -> dict[str, System]:
    out = {}
    for d in _systems_doc()["systems"]:
        out[d["key"]] = System(d["key"], d["name"], d["class"], tuple(d["other_classes"]),
                               tuple(d["designators"]), tuple(d["english"]), tuple(d["hangul"]),
                               tuple(d["romanised"]), d["range_band"], d["note"], tuple(d["sources"]))
    return out


def source_text(ref: str) -> str:
    """The full citation of a catalogue source reference ('csis', 'cns', ...)."""
    return _systems_doc()["sources"].get(ref, ref)


@functools.lru_cache(maxsize=1)
def sites() -> dict[str, Site]:
    doc = json.loads(resource_path("sites.json").read_text(encoding="utf-8"))
    return {d["key"]: Site(d["key"], d["name"], d["kind"], tuple(d["hangul"]), tuple(d["aliases"]),
                           d["latitude"], d["longitude"], d["within"], d["note"]) for d in doc["sites"]}


@functools.lru_cache(maxsize=1)
def _system_index() -> list[tuple[str, object]]:
    return _alias_index(systems().values(), lambda s: s.aliases)


@functools.lru_cache(maxsize=1)
def _site_index() -> list[tuple[str, object]]:
    return _alias_index(sites().values(), lambda s: s.names)


# ---------------------------------------------------------------------------- systems
@functools.lru_cache(maxsize=8192)
def find_systems(text: str | None) -> tuple[System, ...]:
    """The catalogue systems named in a missile-name cell, in the order they appear."""
    if not text:
        return ()
    out: dict[str, System] = {}
    for _a, _b, s in _find_spans(text, _system_index()):
        out.setdefault(s.key, s)
    return tuple(out.values())


def find_system(text: str | None) -> System | None:
    found = find_systems(text)
    return found[0] if found else None


# ---------------------------------------------------------------------------- sites
def chain(site: Site) -> list[Site]:
    """The site and every area it lies in, innermost first."""
    out, seen, cur = [], set(), site
    table = sites()
    while cur is not None and cur.key not in seen:
        out.append(cur)
        seen.add(cur.key)
        cur = table.get(cur.within) if cur.within else None
    return out


@functools.lru_cache(maxsize=8192)
def find_site(text: str | None) -> Site | None:
    """The most specific gazetteer place named in a site cell ('평양 순안' -> Sunan)."""
    if not text:
        return None
    found = [s for _a, _b, s in _find_spans(text, _site_index())]
    if not found:
        return None
    return max(found, key=lambda s: len(chain(s)))


def site_point(site: Site | None) -> tuple[float, float] | None:
    """The site's coordinates, else the nearest enclosing place's that has some."""
    if site is None:
        return None
    for s in chain(site):
        if s.latitude is not None and s.kind == "site":
            return s.latitude, s.longitude
    return None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    (la1, lo1), (la2, lo2) = a, b
    p1, p2 = math.radians(la1), math.radians(la2)
    dp, dl = p2 - p1, math.radians(lo2 - lo1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def site_slug(text: str | None) -> str:
    """The id part for a launch site: the gazetteer's romanised name for a site written in
    Hangul (or any non-Latin script) that the gazetteer knows, else :func:`schema.slug`."""
    if text and not text.isascii():
        site = find_site(text)
        if site is not None:
            return schema.slug(site.name)
        roman = romanise(text)
        if roman:
            return schema.slug(roman)
    return schema.slug(text)


def event_id(date: str, missile_class: str | None, launch_site: str | None) -> str:
    """:func:`schema.make_event_id` with Hangul sites romanised (see :func:`site_slug`)."""
    return f"{date}-{schema.slug(missile_class or 'unknown', 10)}-{site_slug(launch_site)}"


# Revised Romanization of Korean, letter by letter (for names the gazetteer does not know).
_INITIALS = ["g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"]
_VOWELS = ["a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi",
           "yu", "eu", "ui", "i"]
_FINALS = ["", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t",
           "ng", "t", "t", "k", "t", "p", "t"]


def romanise(text: str) -> str:
    """Hangul syllables in Revised Romanization ('신리' -> 'sinri'); other letters kept."""
    out = []
    for ch in text:
        code = ord(ch) - 0xAC00
        if 0 <= code < 11172:
            out.append(_INITIALS[code // 588] + _VOWELS[(code % 588) // 28] + _FINALS[code % 28])
        elif ch.isascii():
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out).strip()


# ---------------------------------------------------------------------------- agreement
@dataclass(frozen=True)
class Place:
    """Where an event says it was: a gazetteer place and/or a point."""

    site: Site | None
    point: tuple[float, float] | None
    text: str | None

    @property
    def known(self) -> bool:
        return self.site is not None or self.point is not None

    @property
    def label(self) -> str:
        return self.site.name if self.site else (self.text or "")


def place(launch_site: str | None, latitude: float | None = None, longitude: float | None = None) -> Place:
    site = find_site(launch_site)
    point = (latitude, longitude) if latitude is not None and longitude is not None else site_point(site)
    return Place(site, point, launch_site)


def same_place(a: Place, b: Place) -> bool | None:
    """True when two places are one (the same gazetteer entry, one inside the other, or
    points within :data:`NEAR_KM`), False when they are known to differ, None when either
    is not known."""
    if not a.known or not b.known:
        return None
    if a.site is not None and b.site is not None:
        ka = {s.key for s in chain(a.site)}
        kb = {s.key for s in chain(b.site)}
        if a.site.key in kb or b.site.key in ka:
            return True
    if a.point is not None and b.point is not None:
        return distance_km(a.point, b.point) <= NEAR_KM
    return False if a.site is not None and b.site is not None else None


def class_agreement(cls_a: str | None, name_a: str | None, cls_b: str | None, name_b: str | None
                    ) -> tuple[str, str] | None:
    """How two events' missiles agree: ('system', name) when a catalogue system is named on
    both sides, ('class', class) when the classes agree (after the systems' classes),
    ('unknown', '') when either side says nothing usable, None when they disagree."""
    sa, sb = find_systems(name_a), find_systems(name_b)
    common = [s for s in sa if s in sb]
    if common:
        return "system", common[0].name
    ca = ({cls_a} if cls_a else set()) | {c for s in sa for c in s.classes}
    cb = ({cls_b} if cls_b else set()) | {c for s in sb for c in s.classes}
    ca.discard("unknown")
    cb.discard("unknown")
    both = ca & cb
    if both:
        return "class", cls_a if cls_a in both else sorted(both)[0]
    if not ca or not cb:
        return "unknown", ""
    return None


# ---------------------------------------------------------------------------- profile
def system_profile(system: System, events: Iterable[dict]) -> dict:
    """What the events say about a system: how many launches name it, the first and latest
    (date and id), and the longest distance and highest apogee recorded."""
    mine = [e for e in events if system in find_systems(e.get("missile_name"))]
    mine.sort(key=lambda e: (e.get("date") or "", e.get("id") or ""))
    dist = [e["distance_km"] for e in mine if e.get("distance_km") is not None]
    apo = [e["apogee_km"] for e in mine if e.get("apogee_km") is not None]
    return {
        "key": system.key, "name": system.name, "class": system.cls,
        "other_classes": list(system.other_classes), "range_band": system.range_band,
        "aliases": [a for a in system.aliases if a != system.name], "note": system.note,
        "sources": [source_text(r) for r in system.sources],
        "events": len(mine),
        "first": (mine[0]["date"], mine[0]["id"]) if mine else None,
        "latest": (mine[-1]["date"], mine[-1]["id"]) if mine else None,
        "longest_km": max(dist) if dist else None, "highest_km": max(apo) if apo else None,
    }


__all__ = ["System", "Site", "Place", "systems", "sites", "find_system", "find_systems", "find_site",
           "chain", "place", "same_place", "class_agreement", "site_slug", "event_id", "romanise",
           "system_profile", "norm", "NEAR_KM", "source_text", "distance_km"]
