"""Contacts and their job applications: matching, upserts and the one-active-application rule."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from storage.conversations import find_conversation, get_or_create_conversation, record_event
from storage.models import Contact, Conversation, JobApplication

_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ContactUpsert:
    """The contact that an upsert matched or created, and the fields it changed."""

    contact: Contact
    created: bool
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class ApplicationUpsert:
    """The application that an upsert matched or created, and the fields it changed."""

    application: JobApplication
    created: bool
    changed_fields: tuple[str, ...]


@dataclass(frozen=True)
class Activation:
    """The result of making one application the active one of its contact."""

    changed: bool  # False when the application was active already
    deactivated: tuple[JobApplication, ...]


@dataclass(frozen=True)
class ConversationLink:
    """A conversation linked to a contact, with its contact before the link."""

    conversation: Conversation
    created: bool
    previous_contact_id: int | None

    @property
    def changed(self) -> bool:
        return self.previous_contact_id != self.conversation.contact_id


def find_contact_by_email(session: Session, *, workspace_id: str, email: str) -> Contact | None:
    """Return the workspace's oldest contact with this email, compared lower case."""
    statement = (
        select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.email == email.lower())
        .order_by(Contact.id)
        .limit(1)
    )
    return session.exec(statement).first()


def find_contact_by_phone(session: Session, *, workspace_id: str, phone: str) -> Contact | None:
    """Return the workspace's oldest contact with this normalized phone number."""
    statement = (
        select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.phone == phone)
        .order_by(Contact.id)
        .limit(1)
    )
    return session.exec(statement).first()


def find_contact_by_slack_user_id(
    session: Session, *, workspace_id: str, slack_user_id: str
) -> Contact | None:
    """Return the workspace's oldest contact with this Slack member id."""
    statement = (
        select(Contact)
        .where(Contact.workspace_id == workspace_id, Contact.slack_user_id == slack_user_id)
        .order_by(Contact.id)
        .limit(1)
    )
    return session.exec(statement).first()


def find_contact_by_name(
    session: Session, *, workspace_id: str, name: str, slack_user_id: str | None = None
) -> Contact | None:
    """Return the workspace's oldest contact with this name and neither email nor phone.

    Names are compared trimmed and case-insensitively. When slack_user_id is given, a contact
    with a different slack_user_id is a different Slack member and never matches.
    """
    # Names are compared in Python because SQLite's lower() folds only ASCII letters.
    # NOTE: Each call therefore reads every contact of the workspace without email and phone.
    statement = (
        select(Contact)
        .where(
            Contact.workspace_id == workspace_id,
            col(Contact.email).is_(None),
            col(Contact.phone).is_(None),
        )
        .order_by(Contact.id)
    )
    folded_name = name.strip().casefold()
    for contact in session.exec(statement):
        if contact.name.strip().casefold() != folded_name:
            continue
        if slack_user_id and contact.slack_user_id not in (None, slack_user_id):
            continue
        return contact
    return None


def find_contact(
    session: Session,
    *,
    workspace_id: str,
    email: str | None,
    phone: str | None,
    slack_user_id: str | None = None,
    name: str | None = None,
) -> Contact | None:
    """Return the stored contact that these fields identify, or None when there is none.

    A record with an email or a phone matches by email, then by phone. A record with neither
    matches by slack_user_id, then by name among the contacts without email and phone (see
    find_contact_by_name).
    """
    if email or phone:
        if email:
            contact = find_contact_by_email(session, workspace_id=workspace_id, email=email)
            if contact is not None:
                return contact
        if phone:
            return find_contact_by_phone(session, workspace_id=workspace_id, phone=phone)
        return None

    if slack_user_id:
        contact = find_contact_by_slack_user_id(
            session, workspace_id=workspace_id, slack_user_id=slack_user_id
        )
        if contact is not None:
            return contact
    if name:
        return find_contact_by_name(
            session, workspace_id=workspace_id, name=name, slack_user_id=slack_user_id
        )
    return None


def upsert_contact(
    session: Session,
    *,
    workspace_id: str,
    name: str,
    email: str | None = None,
    phone: str | None = None,
    slack_user_id: str | None = None,
) -> ContactUpsert:
    """Update the contact that find_contact matches, or create one.

    The phone must already be normalized (digits with an optional leading "+"). An argument
    of None leaves the stored value as it is, so a caller cannot erase a field by omitting it.
    """
    email = email.lower() if email else None
    contact = find_contact(
        session,
        workspace_id=workspace_id,
        email=email,
        phone=phone,
        slack_user_id=slack_user_id,
        name=name,
    )
    if contact is None:
        contact = Contact(
            workspace_id=workspace_id,
            name=name,
            email=email,
            phone=phone,
            slack_user_id=slack_user_id,
        )
        session.add(contact)
        session.flush()
        return ContactUpsert(contact=contact, created=True, changed_fields=())

    values = {"name": name, "email": email, "phone": phone, "slack_user_id": slack_user_id}
    changed_fields = _assign_given(contact, values)
    session.flush()
    return ContactUpsert(contact=contact, created=False, changed_fields=changed_fields)


def list_applications(session: Session, *, contact_id: int) -> list[JobApplication]:
    """Return the contact's applications, oldest first."""
    statement = (
        select(JobApplication)
        .where(JobApplication.contact_id == contact_id)
        .order_by(JobApplication.id)
    )
    return list(session.exec(statement))


def find_application(
    session: Session,
    *,
    contact_id: int,
    job_title: str,
    requisition_id: str | None = None,
    applied_at: datetime | None = None,
) -> JobApplication | None:
    """Return the contact's application that these fields identify, or None when there is none.

    An application with the given requisition id matches first. Otherwise, with an applied_at,
    the application with the same job title and the same UTC calendar day matches, skipping
    applications whose stored requisition id differs from the given one. With neither, the
    application with the same job title and no applied_at and no requisition id matches. Job
    titles are compared case-insensitively. The filtering is in Python because a contact has few
    applications and the two databases' date functions differ.
    """
    applications = list_applications(session, contact_id=contact_id)
    title = job_title.casefold()
    if not requisition_id and applied_at is None:
        for application in applications:
            if application.requisition_id is not None or application.applied_at is not None:
                continue
            if application.job_title.casefold() == title:
                return application
        return None

    if requisition_id:
        for application in applications:
            if application.requisition_id == requisition_id:
                return application
    if applied_at is None:
        return None

    applied_on = applied_at.astimezone(UTC).date()
    for application in applications:
        if application.applied_at is None:
            continue
        if application.applied_at.astimezone(UTC).date() != applied_on:
            continue
        if application.job_title.casefold() != title:
            continue
        if requisition_id and application.requisition_id not in (None, requisition_id):
            continue
        return application
    return None


def upsert_application(
    session: Session,
    *,
    contact_id: int,
    job_title: str,
    requisition_id: str | None = None,
    applied_at: datetime | None = None,
    job_location: str | None = None,
    source: str | None = None,
    medium: str | None = None,
    campaign: str | None = None,
    referrer: str | None = None,
) -> ApplicationUpsert:
    """Update the application that find_application matches, or create an inactive one.

    An argument of None leaves the stored value as it is. A new application starts inactive,
    because the partial unique index allows one active application per contact. Activate it
    with set_active_application or ensure_active_application.
    """
    application = find_application(
        session,
        contact_id=contact_id,
        job_title=job_title,
        requisition_id=requisition_id,
        applied_at=applied_at,
    )
    values: dict[str, Any] = {
        "job_title": job_title,
        "requisition_id": requisition_id,
        "applied_at": applied_at,
        "job_location": job_location,
        "source": source,
        "medium": medium,
        "campaign": campaign,
        "referrer": referrer,
    }
    if application is None:
        application = JobApplication(contact_id=contact_id, active=False, **values)
        session.add(application)
        session.flush()
        return ApplicationUpsert(application=application, created=True, changed_fields=())

    changed_fields = _assign_given(application, values)
    session.flush()
    return ApplicationUpsert(application=application, created=False, changed_fields=changed_fields)


def set_active_application(session: Session, application: JobApplication) -> Activation:
    """Make the application its contact's active one and deactivate the contact's others."""
    statement = select(JobApplication).where(
        JobApplication.contact_id == application.contact_id,
        JobApplication.active == True,  # noqa: E712  (SQL comparison, not a Python truth test)
        JobApplication.id != application.id,
    )
    others = tuple(session.exec(statement))
    for other in others:
        other.active = False
    # Flush the deactivations first. SQLAlchemy runs one flush's UPDATEs in primary key order,
    # and the partial unique index rejects any moment with two active applications.
    session.flush()

    changed = not application.active
    application.active = True
    session.flush()
    return Activation(changed=changed, deactivated=others)


def deactivate_application(session: Session, application: JobApplication) -> bool:
    """Make the application inactive; return whether it was active.

    This can leave the contact without an active application, so call
    ensure_active_application for that contact before the unit of work ends.
    """
    if not application.active:
        return False
    application.active = False
    session.flush()
    return True


def ensure_active_application(
    session: Session, *, contact_id: int, avoid_ids: Collection[int] = ()
) -> JobApplication | None:
    """Activate the contact's most recent application when none of them is active.

    Most recent means the latest applied_at, or the latest created_at among applications without
    one. Applications in avoid_ids are chosen only when the contact has no other. Returns the
    application activated, or None when one was active already or the contact has none.
    """
    applications = list_applications(session, contact_id=contact_id)
    if not applications or any(application.active for application in applications):
        return None

    candidates = [item for item in applications if item.id not in avoid_ids] or applications
    chosen = max(candidates, key=_recency)
    chosen.active = True
    session.flush()
    return chosen


def link_conversation(
    session: Session, *, workspace_id: str, channel_id: str, thread_ts: str, contact_id: int
) -> ConversationLink:
    """Set the contact of a thread's conversation, creating the conversation on first sight.

    A change of contact appends a "contact_linked" event to the conversation's audit trail.
    """
    existing = find_conversation(
        session, workspace_id=workspace_id, channel_id=channel_id, thread_ts=thread_ts
    )
    conversation = existing or get_or_create_conversation(
        session, workspace_id=workspace_id, channel_id=channel_id, thread_ts=thread_ts
    )
    previous_contact_id = conversation.contact_id
    if previous_contact_id != contact_id:
        conversation.contact_id = contact_id
        session.flush()
        record_event(
            session,
            conversation,
            "contact_linked",
            actor=None,
            detail={"contact_id": contact_id, "previous_contact_id": previous_contact_id},
        )
    return ConversationLink(
        conversation=conversation,
        created=existing is None,
        previous_contact_id=previous_contact_id,
    )


def _assign_given(record: Any, values: dict[str, Any]) -> tuple[str, ...]:
    """Set each field whose value is not None and differs; return the names of those changed."""
    changed = []
    for field, value in values.items():
        if value is not None and getattr(record, field) != value:
            setattr(record, field, value)
            changed.append(field)
    return tuple(changed)


def _recency(application: JobApplication) -> tuple[bool, datetime, datetime, int]:
    return (
        application.applied_at is not None,
        application.applied_at or _EARLIEST,
        application.created_at,
        application.id or 0,
    )
