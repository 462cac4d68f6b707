"""Storing what crawlers bring: items upserted and grouped with their copies, cursors, each source's
runs (judged in monitor/source_health.py).

Transactions: nothing here commits. The caller owns the transaction, so a batch's items, its
cursor and the source's health land together or not at all:

    with sessions.begin() as session:
        store.save_batch(session, source.name, source.type, batch)
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from crawlers.base import Batch, Cursor
from monitor import dedup
from monitor.clock import utcnow
from monitor.db.models import Item, ItemGroup, Source
from monitor.errors import StorageError
from monitor.items import RawItem

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 100_000
# A new item looks for near-duplicate groups first seen this recently...
GROUP_WINDOW = timedelta(days=7)
# ...and compares at most this many band-sharing candidates, newest first.
MAX_GROUP_CANDIDATES = 200
# The first few warnings of a crawl are kept on the source; the rest are counted.
MAX_WARNINGS_KEPT = 5
MAX_ERROR_CHARS = 4_000
# Several items per query, few enough for any backend's limit on bound parameters.
_LOOKUP_CHUNK = 500
# Stand-in canonical URL for items without a URL: unique per item, never shared across sources.
_NO_URL_PREFIX = "urn:brandpulse:"


@dataclass
class SaveResult:
    new_item_ids: list[int] = field(default_factory=list)
    # Items seen before whose text, engagement or other fields changed.
    updated: int = 0
    # New items that joined an existing group (same canonical URL or near-duplicate text).
    grouped: int = 0
    # Items not stored because their text was empty.
    skipped: int = 0


def ensure_source(session: Session, name: str, type: str, now: datetime | None = None) -> Source:
    """The row for a configured source, created on first sight (its type follows the config)."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, type=type, consecutive_failures=0, created_at=now or utcnow())
        session.add(source)
        session.flush()
    elif source.type != type:
        source.type = type
    return source


def get_cursor(session: Session, source_name: str, lock: bool = False) -> Cursor | None:
    """Where the source's crawler should resume, or None before its first successful crawl.

    `lock`: hold the source's row until the transaction ends (PostgreSQL `FOR UPDATE`), so writers
    that merge into the cursor (distributed workers) take turns instead of overwriting each other.
    """
    query = select(Source.cursor).where(Source.name == source_name)
    cursor = session.scalar(query.with_for_update() if lock else query)
    return dict(cursor) if cursor is not None else None


def save_batch(
    session: Session,
    source_name: str,
    source_type: str,
    batch: Batch,
    now: datetime | None = None,
    *,
    end_of_run: bool = True,
) -> SaveResult:
    """Upsert the batch's items, group new ones with their copies, store the cursor and mark the
    source healthy, all in the caller's transaction.

    `end_of_run`: the batch is a whole crawl, so its item count and warnings are the crawl's. A crawl
    saved in several batches (distributed workers) passes False for each and calls note_run once.

    An item is the same item when its (source, external_id) or (source, canonical URL) is known;
    a repeat refreshes text and numbers, and a changed text is matched against brands again.
    """
    now = now or utcnow()
    _require_json(source_name, batch.cursor)
    source = ensure_source(session, source_name, source_type, now)
    result = SaveResult()

    prepared: list[_Prepared] = []
    for raw in batch.items:
        cleaned = _prepare(source_name, raw)
        if cleaned is None:
            result.skipped += 1
        else:
            prepared.append(cleaned)

    by_external, by_canonical = _known_items(session, source.id, prepared)
    new_items: list[Item] = []
    # Objects by identity (all held alive in the lists): a repeat of a new item is not an update.
    new_objects: set[int] = set()
    updated: set[int] = set()
    for candidate in prepared:
        item = by_external.get(candidate.external_id) or by_canonical.get(candidate.canonical_url)
        if item is None:
            group_id, joined = _assign_group(session, candidate, now)
            result.grouped += joined
            item = candidate.to_item(source.id, group_id, now)
            session.add(item)
            new_items.append(item)
            new_objects.add(id(item))
        elif _refresh(item, candidate, now) and id(item) not in new_objects:
            updated.add(id(item))
        by_external[candidate.external_id] = item
        by_canonical[candidate.canonical_url] = item

    source.cursor = dict(batch.cursor)
    source.last_run_at = now
    source.last_success_at = now
    source.consecutive_failures = 0
    if end_of_run:
        source.last_items_count = len(batch.items)
        _note_warnings(source, batch.warnings, now)
    session.flush()
    result.new_item_ids = [item.id for item in new_items]
    result.updated = len(updated)
    return result


def note_run(
    session: Session,
    source_name: str,
    source_type: str,
    items_count: int,
    warnings: list[str],
    now: datetime | None = None,
) -> None:
    """Close a crawl whose items were saved in batches with `end_of_run=False`: its item count and
    its warnings, noted once, as save_batch notes them for a crawl saved in one batch."""
    now = now or utcnow()
    source = ensure_source(session, source_name, source_type, now)
    source.last_items_count = items_count
    _note_warnings(source, warnings, now)
    session.flush()


def _note_warnings(source: Source, warnings: list[str], now: datetime) -> None:
    """A crawl with warnings extends the source's run of warned crawls; a clean one ends it.
    The last warning text stays after a clean crawl, like last_error, for the record."""
    if not warnings:
        source.consecutive_warning_runs = 0
        source.warnings_since = None
        return
    kept = [_clean(w) for w in warnings[:MAX_WARNINGS_KEPT]]
    if len(warnings) > MAX_WARNINGS_KEPT:
        kept.append(f"... and {len(warnings) - MAX_WARNINGS_KEPT} more warnings")
    source.last_warning = "\n".join(kept)[:MAX_ERROR_CHARS]
    source.last_warning_at = now
    if not source.consecutive_warning_runs:
        source.warnings_since = now
    source.consecutive_warning_runs = (source.consecutive_warning_runs or 0) + 1


def record_failure(
    session: Session,
    source_name: str,
    source_type: str,
    error: str,
    now: datetime | None = None,
    kind: str | None = None,
) -> None:
    """Note a failed crawl: the error, its kind (monitor.errors.failure_kind; "blocked" shows the
    source as blocked), when, and one more failure in a row. The cursor stays, and so does the run
    of warned crawls: a failure neither extends nor ends it."""
    now = now or utcnow()
    source = ensure_source(session, source_name, source_type, now)
    source.last_error = _clean(error)[:MAX_ERROR_CHARS]
    source.last_error_kind = kind
    source.last_error_at = now
    source.last_run_at = now
    source.consecutive_failures = (source.consecutive_failures or 0) + 1
    session.flush()


@dataclass
class _Prepared:
    """A RawItem cleaned to fit the columns: no NUL bytes, capped lengths, aware datetimes."""

    external_id: str
    url: str
    canonical_url: str
    has_url: bool
    text: str
    fields: dict[str, Any]

    def to_item(self, source_id: int, group_id: int, now: datetime) -> Item:
        return Item(
            source_id=source_id,
            external_id=self.external_id,
            url=self.url,
            canonical_url=self.canonical_url,
            text=self.text,
            group_id=group_id,
            collected_at=now,
            updated_at=now,
            matched_at=None,
            **self.fields,
        )


# Fields refreshed when an item comes again, if the source gives a value this time.
_REFRESHED = (
    "title", "author", "author_url", "author_reach", "likes", "reposts", "comments", "views", "rating",
    "kind", "parent_external_id", "place",
)  # fmt: skip


def _prepare(source_name: str, raw: RawItem) -> _Prepared | None:
    text = _clean(raw.text).strip()
    if not text:
        return None
    text = text[:MAX_TEXT_CHARS]
    url = _clean(raw.url).strip()[:2000]
    canonical = dedup.canonical_url(url) if url else ""
    external_id = _clean(raw.external_id).strip() or canonical or "sha1:" + _sha1(text)
    external_id = _fit_key(external_id, 500)
    has_url = bool(canonical)
    if not has_url:
        canonical = f"{_NO_URL_PREFIX}{source_name}:{external_id}"
    published_at = raw.published_at
    if published_at is not None and published_at.tzinfo is None:
        log.warning("%s: item %s has a naive published_at; taken as UTC", source_name, external_id)
        published_at = published_at.replace(tzinfo=UTC)
    fields: dict[str, Any] = {
        "title": _optional_text(raw.title, MAX_TEXT_CHARS),
        "author": _optional_text(raw.author, 500),
        "author_url": _optional_text(raw.author_url, 2000),
        "author_reach": raw.author_reach,
        "likes": raw.likes,
        "reposts": raw.reposts,
        "comments": raw.comments,
        "views": raw.views,
        "rating": raw.rating,
        "kind": (_clean(raw.kind).strip() or "post")[:20],
        "parent_external_id": _optional_key(raw.parent_external_id, 500),
        "place": _optional_key(raw.extra.get("place"), 200),
        "published_at": published_at,
    }
    return _Prepared(external_id, url, _fit_key(canonical, 2000), has_url, text, fields)


def _known_items(
    session: Session, source_id: int, prepared: list[_Prepared]
) -> tuple[dict[str, Item], dict[str, Item]]:
    """This source's stored items that the batch names, by external id and by canonical URL."""
    by_external: dict[str, Item] = {}
    by_canonical: dict[str, Item] = {}
    external_ids = sorted({p.external_id for p in prepared})
    canonical_urls = sorted({p.canonical_url for p in prepared})
    for column, keys in ((Item.external_id, external_ids), (Item.canonical_url, canonical_urls)):
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[start : start + _LOOKUP_CHUNK]
            for item in session.scalars(select(Item).where(Item.source_id == source_id, column.in_(chunk))):
                by_external[item.external_id] = item
                by_canonical[item.canonical_url] = item
    return by_external, by_canonical


def _refresh(item: Item, candidate: _Prepared, now: datetime) -> bool:
    """Bring a stored item up to date; True when anything changed. collected_at never moves."""
    changed = False
    if item.text != candidate.text:
        item.text = candidate.text
        # The brands found in the old text may not be in the new one: match it again.
        item.matched_at = None
        changed = True
    for name in _REFRESHED:
        value = candidate.fields[name]
        if value is not None and getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    if item.published_at is None and candidate.fields["published_at"] is not None:
        item.published_at = candidate.fields["published_at"]
        changed = True
    if changed:
        item.updated_at = now
    return changed


def _assign_group(session: Session, candidate: _Prepared, now: datetime) -> tuple[int, bool]:
    """The group for a new item and whether it already existed: same page, else same text, else new."""
    if candidate.has_url:
        group_id = session.scalar(
            select(Item.group_id).where(Item.canonical_url == candidate.canonical_url).limit(1)
        )
        if group_id is not None:
            _grow(session, group_id)
            return group_id, True

    fingerprint = dedup.fingerprint(candidate.text)
    if fingerprint is not None:
        group_id = _near_duplicate_group(session, fingerprint, now)
        if group_id is not None:
            _grow(session, group_id)
            return group_id, True

    bands = dedup.fingerprint_bands(fingerprint) if fingerprint is not None else (None,) * dedup.BANDS
    group = ItemGroup(
        canonical_url=candidate.canonical_url if candidate.has_url else None,
        fingerprint=fingerprint,
        fingerprint_band0=bands[0],
        fingerprint_band1=bands[1],
        fingerprint_band2=bands[2],
        fingerprint_band3=bands[3],
        size=1,
        first_seen_at=now,
    )
    session.add(group)
    session.flush()
    return group.id, False


def _near_duplicate_group(session: Session, fingerprint: int, now: datetime) -> int | None:
    # Within MAX_HAMMING_DISTANCE bits, at least one 16-bit band is equal: four indexed lookups.
    band_columns = (
        ItemGroup.fingerprint_band0,
        ItemGroup.fingerprint_band1,
        ItemGroup.fingerprint_band2,
        ItemGroup.fingerprint_band3,
    )
    bands = dedup.fingerprint_bands(fingerprint)
    rows = session.execute(
        select(ItemGroup.id, ItemGroup.fingerprint)
        .where(
            or_(*(column == band for column, band in zip(band_columns, bands, strict=True))),
            ItemGroup.first_seen_at >= now - GROUP_WINDOW,
        )
        .order_by(ItemGroup.first_seen_at.desc(), ItemGroup.id.desc())
        .limit(MAX_GROUP_CANDIDATES)
    ).all()
    best: tuple[int, int] | None = None
    for group_id, group_fingerprint in rows:
        if group_fingerprint is None:  # bands without a fingerprint: only if edited by hand
            continue
        distance = dedup.hamming_distance(fingerprint, group_fingerprint)
        if distance <= dedup.MAX_HAMMING_DISTANCE and (best is None or distance < best[0]):
            best = (distance, group_id)
    return best[1] if best else None


def _grow(session: Session, group_id: int) -> None:
    # In SQL, not read-modify-write: two crawls adding to one group must not lose a count.
    session.execute(update(ItemGroup).where(ItemGroup.id == group_id).values(size=ItemGroup.size + 1))


def _require_json(source_name: str, cursor: Cursor) -> None:
    try:
        json.dumps(cursor)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{source_name}: the crawler's cursor cannot be stored as JSON: {exc}") from None


def _clean(value: str) -> str:
    """Text the database accepts: PostgreSQL rejects NUL bytes, UTF-8 rejects lone surrogates."""
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _optional_text(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = _clean(value).strip()
    return value[:limit] or None


def _optional_key(value: str | None, limit: int) -> str | None:
    value = _clean(value).strip() if value else None
    return _fit_key(value, limit) if value else None


def _fit_key(value: str, limit: int) -> str:
    """Fit a key into its column without making two long keys equal: keep a prefix plus a hash."""
    if len(value) <= limit:
        return value
    return value[: limit - 41] + "#" + _sha1(value)


def _sha1(value: str) -> str:
    return hashlib.sha1(value.encode("utf-8")).hexdigest()
