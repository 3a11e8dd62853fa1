"""SQLModel tables. Every timestamp is stored as UTC and read back timezone-aware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp kept as naive UTC in the column and returned aware.

    SQLite has no time zone type, so storing naive UTC everywhere keeps both databases equal.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _timestamp(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Workspace(SQLModel, table=True):
    """A Slack workspace (team) that caretbot serves."""

    id: str = Field(primary_key=True, max_length=32)  # Slack team id, "T..."
    name: str | None = None
    created_at: datetime = _timestamp(default_factory=utcnow)


class Contact(SQLModel, table=True):
    """A candidate or sales contact that agents talk to."""

    __table_args__ = (
        sa.Index("ix_contact_workspace_email", "workspace_id", "email"),
        sa.Index("ix_contact_workspace_phone", "workspace_id", "phone"),
        # The report's funnel counts the contacts added in a period.
        sa.Index("ix_contact_workspace_created_at", "workspace_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    name: str
    email: str | None = None  # stored lower case
    phone: str | None = None  # digits with an optional leading "+"
    slack_user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _timestamp(default_factory=utcnow)


class JobApplication(SQLModel, table=True):
    """One application of a contact to a job; a contact has exactly one active application."""

    __table_args__ = (
        # A partial unique index: at most one active row per contact, on both databases.
        sa.Index(
            "uq_job_application_active",
            "contact_id",
            unique=True,
            sqlite_where=sa.text("active"),
            postgresql_where=sa.text("active"),
        ),
        # The report's funnel counts the applications of a period.
        sa.Index("ix_jobapplication_applied_at", "applied_at"),
        sa.Index("ix_jobapplication_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    job_title: str
    job_location: str | None = None
    requisition_id: str | None = None
    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    referrer: str | None = None
    applied_at: datetime | None = _timestamp(default=None)
    active: bool = False
    state: str = "open"
    created_at: datetime = _timestamp(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """A Slack thread with a contact, keyed by channel and thread root ts."""

    __table_args__ = (
        sa.UniqueConstraint(
            "workspace_id", "channel_id", "thread_ts", name="uq_conversation_thread"
        ),
        # The App Home's queue: a workspace's waiting conversations, longest wait first.
        sa.Index("ix_conversation_waiting", "workspace_id", "unread", "unread_since"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    channel_id: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    contact_id: int | None = Field(default=None, foreign_key="contact.id", index=True)
    state: str = "open"
    claimed_by: str | None = Field(default=None, max_length=32)
    claimed_at: datetime | None = _timestamp(default=None)
    unread: bool = False
    unread_since: datetime | None = _timestamp(default=None)
    read_by: str | None = Field(default=None, max_length=32)
    read_at: datetime | None = _timestamp(default=None)
    created_at: datetime = _timestamp(default_factory=utcnow)


class ConversationEvent(SQLModel, table=True):
    """An append-only audit record: who did what in a conversation, and when."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    kind: str = Field(max_length=64)
    actor: str | None = Field(default=None, max_length=32)  # Slack user id, or None for caretbot
    at: datetime = _timestamp(default_factory=utcnow)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ProcessedEvent(SQLModel, table=True):
    """A Slack event id already handled, so a redelivery is not handled twice."""

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _timestamp(default_factory=utcnow, index=True)


class Team(SQLModel, table=True):
    """A named group of Slack users that can receive hand-offs, with an optional channel."""

    __table_args__ = (
        # Removed teams stay for the deliveries that name them, and free their name.
        sa.Index(
            "uq_team_name",
            "workspace_id",
            "name",
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    name: str = Field(max_length=80)
    channel_id: str | None = Field(default=None, max_length=32)
    # A linked Slack user group ("S..."): its members are the team's members when set.
    usergroup_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _timestamp(default_factory=utcnow)
    removed_at: datetime | None = _timestamp(default=None)


class TeamMember(SQLModel, table=True):
    team_id: int = Field(foreign_key="team.id", primary_key=True)
    user_id: str = Field(primary_key=True, max_length=32)


class WorkspaceSetting(SQLModel, table=True):
    """One workspace setting that replaces a built-in default, stored as JSON."""

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_type=sa.JSON)
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _timestamp(default_factory=utcnow)


class DeliveryDraft(SQLModel, table=True):
    """Step 1 of a delivery modal, kept between Next and Done; keyed by the modal's root view."""

    view_id: str = Field(primary_key=True, max_length=32)
    workspace_id: str = Field(max_length=32)
    conversation_id: int = Field(foreign_key="conversation.id")
    user_id: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = _timestamp(default_factory=utcnow, index=True)


class Delivery(SQLModel, table=True):
    """A hand-off of a conversation with its outcome; a conversation may have several."""

    __table_args__ = (
        sa.Index("ix_delivery_workspace_delivered_at", "workspace_id", "delivered_at"),
        # The deliveries whose response-time figures a report still has to compute.
        sa.Index(
            "ix_delivery_figures_pending",
            "workspace_id",
            "delivered_at",
            sqlite_where=sa.text("figures_at IS NULL"),
            postgresql_where=sa.text("figures_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    application_id: int | None = Field(default=None, foreign_key="jobapplication.id")
    previous_delivery_id: int | None = Field(default=None, foreign_key="delivery.id")
    # The modal's root view id: a retried or double-clicked submission carries the same one.
    submission_key: str = Field(max_length=64, unique=True)
    status: str = Field(max_length=32)
    reason: str | None = None
    reason_text: str | None = None
    notes: str | None = None
    rating: int | None = None
    delivered_by: str = Field(max_length=32)
    delivered_at: datetime = _timestamp(default_factory=utcnow)
    # The conversation's response times up to the delivery, in seconds of working hours
    # (_work) and of the clock (_clock), stored once so that a report over a period reads
    # these columns instead of every message of every conversation. A response time is the
    # mean of the conversation's response times of that side. None: no such reply yet.
    # figures_at is None until they are computed (bot.reports fills them).
    contact_first_reply_work: float | None = None
    contact_first_reply_clock: float | None = None
    team_first_response_work: float | None = None
    team_first_response_clock: float | None = None
    contact_response_work: float | None = None
    contact_response_clock: float | None = None
    team_response_work: float | None = None
    team_response_clock: float | None = None
    figures_at: datetime | None = _timestamp(default=None)


class DeliveryRecipient(SQLModel, table=True):
    """A recipient of a delivery: a Slack user, a team, or an email address."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    kind: str = Field(max_length=16)  # "user", "team" or "email"
    user_id: str | None = Field(default=None, max_length=32)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    email: str | None = None
    # "pending" until notified; "notified" or "unreachable" afterwards. An address of nobody
    # in Slack is "pending_email" while email is not set up, "email_queued" while its email
    # is in the outbox, then "emailed".
    state: str = Field(default="pending", max_length=16)
    error: str | None = None
    accepted_by: str | None = Field(default=None, max_length=32)
    accepted_at: datetime | None = _timestamp(default=None)


class OutboxMessage(SQLModel, table=True):
    """A message to send after a commit, retried until Slack takes it or it fails for good."""

    __table_args__ = (sa.Index("ix_outbox_due", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int | None = Field(default=None, foreign_key="delivery.id", index=True)
    recipient_id: int | None = Field(default=None, foreign_key="deliveryrecipient.id")
    kind: str = Field(max_length=32)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    state: str = Field(default="pending", max_length=16)  # pending, sent or failed
    attempts: int = 0
    next_attempt_at: datetime = _timestamp(default_factory=utcnow)
    locked_until: datetime | None = _timestamp(default=None)
    last_error: str | None = None
    # Where the message landed, so a card can be updated later.
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _timestamp(default_factory=utcnow)
    sent_at: datetime | None = _timestamp(default=None)


class Message(SQLModel, table=True):
    """A Slack message in a conversation's thread, stored as it arrived and kept when deleted."""

    __table_args__ = (
        # A message's ts is its id within a channel, so a redelivered event inserts nothing.
        sa.UniqueConstraint("workspace_id", "channel_id", "ts", name="uq_message_ts"),
        # The report's funnel: the messages of a period, and each side's first message.
        sa.Index("ix_message_workspace_received_at", "workspace_id", "received_at"),
        sa.Index(
            "ix_message_conversation_side_received_at", "conversation_id", "side", "received_at"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    channel_id: str = Field(max_length=32)
    thread_ts: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    user_id: str | None = Field(default=None, max_length=32)
    bot_id: str | None = Field(default=None, max_length=32)
    side: str = Field(max_length=16)  # "contact", "team", or "bot" for caretbot itself
    subtype: str | None = Field(default=None, max_length=32)
    text: str = ""  # as Slack sent it: mrkdwn, with its &lt; escapes and <@U…> mentions
    file_names: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    received_at: datetime = _timestamp(default_factory=utcnow)
    edited_at: datetime | None = _timestamp(default=None)
    deleted_at: datetime | None = _timestamp(default=None)


class MessageRevision(SQLModel, table=True):
    """The text that a message had before one edit replaced it."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    text: str
    edited_by: str | None = Field(default=None, max_length=32)
    edited_at: datetime = _timestamp()  # when the edit replaced this text


class UserSetting(SQLModel, table=True):
    """One preference of a Slack user in a workspace, stored as JSON."""

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=64)
    value: Any = Field(sa_type=sa.JSON)
    updated_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _timestamp(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """An append-only record of a change to a workspace's configuration: who, what and when."""

    __table_args__ = (sa.Index("ix_auditevent_workspace_at", "workspace_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    actor: str | None = Field(default=None, max_length=32)  # Slack user id; None from the CLI
    kind: str = Field(max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    at: datetime = _timestamp(default_factory=utcnow)


class RestrictedUser(SQLModel, table=True):
    """Someone outside Slack who may read only the conversations delivered to their address."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)  # stored lower case
    created_at: datetime = _timestamp(default_factory=utcnow)


class AccessGrant(SQLModel, table=True):
    """A restricted user's right to read one delivered conversation, given by one delivery."""

    __table_args__ = (
        sa.UniqueConstraint("restricted_user_id", "delivery_id", name="uq_access_grant_delivery"),
    )

    id: int | None = Field(default=None, primary_key=True)
    restricted_user_id: int = Field(foreign_key="restricteduser.id", index=True)
    workspace_id: str = Field(foreign_key="workspace.id", max_length=32)
    conversation_id: int = Field(foreign_key="conversation.id", index=True)
    delivery_id: int = Field(foreign_key="delivery.id")
    recipient_id: int = Field(foreign_key="deliveryrecipient.id")
    granted_at: datetime = _timestamp(default_factory=utcnow)
    revoked_at: datetime | None = _timestamp(default=None)


class AccessToken(SQLModel, table=True):
    """A secret that signs a restricted user in: an emailed link or a portal session.

    Only the SHA-256 of the secret is stored, so a copy of the table opens nothing.
    """

    id: int | None = Field(default=None, primary_key=True)
    restricted_user_id: int = Field(foreign_key="restricteduser.id", index=True)
    purpose: str = Field(max_length=16)  # "link" or "session"
    token_hash: str = Field(unique=True, max_length=64)
    # A session's CSRF token, sent in every form it renders; None for links.
    csrf_token: str | None = Field(default=None, max_length=64)
    created_at: datetime = _timestamp(default_factory=utcnow)
    expires_at: datetime = _timestamp()
    used_at: datetime | None = _timestamp(default=None)
    revoked_at: datetime | None = _timestamp(default=None)


class SignInRequest(SQLModel, table=True):
    """One request for a sign-in link, kept to rate limit by address and by client."""

    __table_args__ = (
        sa.Index("ix_signinrequest_email_at", "email", "requested_at"),
        sa.Index("ix_signinrequest_client_at", "client_address", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    client_address: str = Field(max_length=64)
    requested_at: datetime = _timestamp(default_factory=utcnow)
