"""What a worker keeps between feed requests (issue 8, docs/PERFORMANCE.md).

Calendar programs poll feeds every few minutes, and almost every poll finds nothing changed. So a worker keeps:

- the rendered bytes of feeds it answered (by feed, URL and ETag);
- each feed's fingerprint (ETag, Last-Modified) with the data version it was computed at and until when time
  alone could change it, here and in `calendar_fingerprint` for the other workers (`fingerprint`);
- the data version itself (two numbers: what public feeds show, what only personal ones show), read again
  when older than FEED_VERSION_MS (`VersionClock`);
- the answer to each feed address it has seen polled (`remember_poll`, `known_poll`): while the version stands
  still, a poll with that ETag gets its 304 from memory, without a database round trip.

The data version moves with every change of what a feed shows or who may read it (triggers of migrations
7a4c0d25f3b8 and 8c6e2f47a5d9), so a kept answer is right until the version moves, and is seen as stale at most
FEED_VERSION_MS after a change (1 s in production; the feeds themselves say max-age=300).
"""

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from threading import Lock

from flask import current_app
from sqlmodel import Session

from nettverk.calendars import queries
from nettverk.db import get_session
from nettverk.timeutil import utcnow

RENDERED_KEY = "nettverk.calendar_feeds"
FINGERPRINTS_KEY = "nettverk.calendar_fingerprints"
POLLS_KEY = "nettverk.calendar_polls"
VERSION_KEY = "nettverk.calendar_version"
RENDERED_ENTRIES = 256
KNOWN_ENTRIES = 8192  # every base, network and municipality feed, and thousands of personal ones


class LRU:
    """A bounded least-recently-used map; one per app (so per worker process) for each of the above."""

    def __init__(self, size: int = RENDERED_ENTRIES):
        self.size = size
        self._items: OrderedDict[tuple, object] = OrderedDict()
        self._lock = Lock()

    def get(self, key: tuple):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(frozen=True)
class Kept:
    """A feed's fingerprint as computed at a data version."""

    version: int | None  # None: no data version to hold at (such a fingerprint is never kept)
    computed_at: datetime
    valid_until: datetime | None  # the first moment an event could leave the feed's window (None: never)
    etag: str
    last_modified: datetime | None

    def holds(self, version: int | None, now: datetime) -> bool:
        return (
            version == self.version
            and self.computed_at <= now < self.computed_at + queries.FINGERPRINT_TTL
            and (self.valid_until is None or now < self.valid_until)
        )


@dataclass(frozen=True)
class KnownPoll:
    """What a poll of one feed address is answered with while its fingerprint holds."""

    kept: Kept
    filename: str


class VersionClock:
    """The data version as this worker last read it, read again once it is older than `seconds` (0: always)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._value: queries.DataVersion | None = None
        self._read_at = float("-inf")
        self._lock = Lock()

    def current(self) -> queries.DataVersion | None:
        with self._lock:
            if time.monotonic() - self._read_at < self.seconds:
                return self._value
        return self.observe(queries.data_version(get_session()))

    def observe(self, version: queries.DataVersion | None) -> queries.DataVersion | None:
        """A version just read from the database (by this clock or by a fingerprint's computation)."""
        with self._lock:
            self._value, self._read_at = version, time.monotonic()
        return version


def init_app(app) -> None:
    app.extensions.setdefault(RENDERED_KEY, LRU())
    app.extensions.setdefault(FINGERPRINTS_KEY, LRU(KNOWN_ENTRIES))
    app.extensions.setdefault(POLLS_KEY, LRU(KNOWN_ENTRIES))
    app.extensions.setdefault(VERSION_KEY, VersionClock(app.config["FEED_VERSION_MS"] / 1000))


def rendered() -> LRU:
    return current_app.extensions[RENDERED_KEY]


# Fingerprints -------------------------------------------------------------------------------------


def _of(versions: queries.DataVersion | None, personal: bool) -> int | None:
    return None if versions is None else versions.of(personal)


def kept_fingerprint(session: Session, key: tuple, version: int | None, now: datetime | None = None) -> Kept | None:
    """The fingerprint kept for the feed (key: scope key, reminder) in this worker or, from another worker,
    in the database, if it still holds at this data version (the feed's number of it: DataVersion.of)."""
    if version is None:
        return None
    now = now or utcnow()
    fingerprints: LRU = current_app.extensions[FINGERPRINTS_KEY]
    found = fingerprints.get(key)
    if found is not None and found.holds(version, now):
        return found
    if (row := queries.kept_fingerprint(session, key, version, now)) is not None:
        shared = Kept(*row)
        fingerprints.put(key, shared)
        return shared
    return None


def fingerprint(session: Session, scope: queries.Scope) -> Kept:
    """The feed's fingerprint: kept while the data version stands still, until time alone could change it and
    for at most FINGERPRINT_TTL, instead of the aggregate over the feed's events. The version is read first,
    so a change committed in between only makes a kept value look older."""
    versions = current_app.extensions[VERSION_KEY].observe(queries.data_version(session))
    version = _of(versions, scope.personal)
    now = utcnow()
    key = (scope.key, scope.alarm_minutes)
    if (found := kept_fingerprint(session, key, version, now)) is not None:
        return found
    etag, latest, valid_until = queries.timed_fingerprint(session, scope, now)
    last_modified = queries.last_modified_of(session, key, etag, latest, now)
    kept = Kept(version, now, valid_until, etag, last_modified)
    if version is not None:
        current_app.extensions[FINGERPRINTS_KEY].put(key, kept)
        queries.keep_fingerprint(scope, version, now, etag, last_modified, valid_until)
    return kept


# Known polls --------------------------------------------------------------------------------------


def remember_poll(address: tuple, kept: Kept, filename: str) -> None:
    """address: (feed kind, slug or number, or the token's hash)."""
    if kept.version is not None:
        current_app.extensions[POLLS_KEY].put(address, KnownPoll(kept, filename))


def known_poll(address: tuple) -> KnownPoll | None:
    """The answer remembered for this feed address, if it holds at the current data version."""
    known = current_app.extensions[POLLS_KEY].get(address)
    if known is None:
        return None
    version = _of(current_app.extensions[VERSION_KEY].current(), personal=address[0] == "person")
    return known if known.kept.holds(version, utcnow()) else None


def observe_version(versions: queries.DataVersion) -> None:
    current_app.extensions[VERSION_KEY].observe(versions)


def forget(app) -> None:
    """Empty what this worker keeps, as a new worker starts (the benchmark and the tests play other workers)."""
    for key in (RENDERED_KEY, FINGERPRINTS_KEY, POLLS_KEY, VERSION_KEY):
        app.extensions.pop(key, None)
    init_app(app)
