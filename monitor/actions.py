"""What staff do to mentions in the inbox: take, move along the workflow, note, correct the
sentiment, mark replied. Each action works on one or many mentions and checks the actor's role
first, so a viewer is refused here whatever the UI shows. Nothing here commits: the caller does.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from monitor.auth import Actor, require_staff
from monitor.clock import utcnow
from monitor.db.models import Mention, Sentiment, Workflow
from monitor.queries import LABELS, STATUSES

MAX_NOTE_CHARS = 4_000


def take(session: Session, actor: Actor, mention_ids: Sequence[int]) -> int:
    """Assign the mentions to the actor ("take"); taking is not a response to the author."""
    require_staff(actor)
    now = utcnow()
    workflows = _workflows(session, mention_ids)
    for workflow in workflows:
        workflow.assignee = actor.name
        workflow.updated_at = now
    return len(workflows)


CLOSED_STATUSES = ("resolved", "ignored")


def set_status(session: Session, actor: Actor, mention_ids: Sequence[int], status: str) -> int:
    """Move mentions along the workflow; the first move away from 'new' counts as the first response
    when none was recorded (a resolved or ignored mention has been dealt with)."""
    require_staff(actor)
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; expected one of: {', '.join(STATUSES)}")
    now = utcnow()
    workflows = _workflows(session, mention_ids)
    for workflow in workflows:
        if workflow.first_response_at is None and status != "new":
            workflow.first_response_at = now
        closing = status in CLOSED_STATUSES
        # Re-closing a closed mention keeps the first close time, so resolution times stay true.
        if not closing:
            workflow.resolved_at = None
        elif workflow.status not in CLOSED_STATUSES or workflow.resolved_at is None:
            workflow.resolved_at = now
        workflow.status = status
        workflow.assignee = workflow.assignee or actor.name
        workflow.updated_at = now
    return len(workflows)


def mark_replied(session: Session, actor: Actor, mention_ids: Sequence[int]) -> int:
    """Record that staff answered the author: the time to first response is measured to the first
    such mark (or status change); a new mention moves to in progress."""
    require_staff(actor)
    now = utcnow()
    workflows = _workflows(session, mention_ids)
    for workflow in workflows:
        workflow.first_response_at = workflow.first_response_at or now
        if workflow.status == "new":
            workflow.status = "in_progress"
        workflow.assignee = workflow.assignee or actor.name
        workflow.updated_at = now
    return len(workflows)


def set_note(session: Session, actor: Actor, mention_ids: Sequence[int], note: str) -> int:
    """Replace the staff note (an empty text removes it)."""
    require_staff(actor)
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ValueError(f"note is {len(note)} characters; at most {MAX_NOTE_CHARS}")
    now = utcnow()
    workflows = _workflows(session, mention_ids)
    for workflow in workflows:
        workflow.note = note or None
        workflow.updated_at = now
    return len(workflows)


def correct_sentiment(session: Session, actor: Actor, mention_ids: Sequence[int], label: str) -> int:
    """Store a staff correction of the model's label: it wins in the inbox and the counts, and is
    kept apart from the model's own label as training data. Unscored mentions cannot be corrected."""
    require_staff(actor)
    if label not in LABELS:
        raise ValueError(f"unknown sentiment {label!r}; expected one of: {', '.join(LABELS)}")
    ids = _existing(session, mention_ids)
    scored = {
        s.mention_id: s for s in session.scalars(select(Sentiment).where(Sentiment.mention_id.in_(ids)))
    }
    unscored = [i for i in ids if i not in scored]
    if unscored:
        raise ValueError(f"mentions not scored yet, nothing to correct: {', '.join(map(str, unscored))}")
    now = utcnow()
    for sentiment in scored.values():
        sentiment.override_label = label
        sentiment.override_by = actor.name
        sentiment.override_at = now
    return len(ids)


def _existing(session: Session, mention_ids: Sequence[int]) -> list[int]:
    ids = sorted(set(mention_ids))
    found = set(session.scalars(select(Mention.id).where(Mention.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValueError(f"no mention with id {', '.join(map(str, missing))}")
    return ids


def _workflows(session: Session, mention_ids: Sequence[int]) -> list[Workflow]:
    """The mentions' workflow rows, created as 'new' for mentions that have none yet."""
    ids = _existing(session, mention_ids)
    rows = {w.mention_id: w for w in session.scalars(select(Workflow).where(Workflow.mention_id.in_(ids)))}
    for mention_id in ids:
        if mention_id not in rows:
            rows[mention_id] = Workflow(mention_id=mention_id, status="new")
            session.add(rows[mention_id])
    return [rows[i] for i in ids]
