"""Queue the email that carries a new sign-in link to a restricted user."""

from __future__ import annotations

from sqlmodel import Session

from storage.outbox import enqueue

SIGNIN_EMAIL = "signin_email"


def enqueue_signin_email(session: Session, restricted_user_id: int, next_path: str | None) -> None:
    """Queue a sign-in email; its sender issues the link, so the raw token is never stored."""
    enqueue(
        session,
        SIGNIN_EMAIL,
        {"restricted_user_id": restricted_user_id, "next_path": next_path},
    )
