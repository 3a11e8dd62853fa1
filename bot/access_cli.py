"""`caretbot access`: list and revoke what people outside Slack may read on the portal."""

from __future__ import annotations

from datetime import datetime
from typing import TextIO

from bot import addresses
from bot.records import RecordsError
from storage.access import LINK, find_restricted_user, normalize_email, revoke_access
from storage.access_list import access_summaries, grant_rows, tokens_of
from storage.db import SessionScope
from storage.models import AccessToken, utcnow


def list_access_command(
    session_scope: SessionScope, out: TextIO, *, email: str | None = None
) -> int:
    """Print every restricted user with counts, or one address's grants, links and sessions."""
    now = utcnow()
    if email is None:
        return _list_everyone(session_scope, out, now)

    with session_scope() as session:
        user = find_restricted_user(session, email)
        if user is None or user.id is None:
            raise _no_access(email)
        grants = grant_rows(session, user.id)
        tokens = tokens_of(session, user.id)

    print(f"{user.email}, restricted user since {_when(user.created_at)}", file=out)
    print("Conversations:", file=out)
    for row in grants:
        grant = row.grant
        state = f"revoked {_when(grant.revoked_at)}" if grant.revoked_at else "open"
        print(
            f"  delivery {grant.delivery_id}: channel {row.channel_id} thread {row.thread_ts} "
            f"in {grant.workspace_id}, granted {_when(grant.granted_at)}, {state}",
            file=out,
        )
    if not grants:
        print("  none", file=out)
    print("Links and sessions:", file=out)
    for token in tokens:
        kind = "link" if token.purpose == LINK else "session"
        print(
            f"  {kind} {token.id}: created {_when(token.created_at)}, {_token_state(token, now)}",
            file=out,
        )
    if not tokens:
        print("  none", file=out)
    return 0


def revoke_access_command(session_scope: SessionScope, out: TextIO, *, email: str) -> int:
    """Withdraw every conversation, link and session of an address."""
    with session_scope() as session:
        revoked = revoke_access(session, email)
    address = normalize_email(email)
    if revoked is None:
        raise _no_access(email)
    print(
        f"Revoked the access of {address}: {revoked.grants} conversation(s) and "
        f"{revoked.tokens} link(s) and session(s). A later delivery to the address grants "
        f"that conversation again.",
        file=out,
    )
    return 0


def _no_access(email: str) -> RecordsError:
    # A stored address is found however it is spelled, so only an unknown one is checked.
    if addresses.normalize_email(email) is None:
        return RecordsError(
            f"{email!r} is not an email address: give one like ann@example.com, as "
            f"`caretbot access list` shows it."
        )
    return RecordsError(
        f"{normalize_email(email)} has no access: nothing was delivered to it. "
        f"`caretbot access list` shows every address that has."
    )


def _list_everyone(session_scope: SessionScope, out: TextIO, now: datetime) -> int:
    with session_scope() as session:
        summaries = access_summaries(session, now=now)
    if not summaries:
        print(
            "No restricted users: nothing has been delivered to an address outside Slack.",
            file=out,
        )
        return 0
    width = max(len("EMAIL"), *(len(summary.email) for summary in summaries))
    print(f"{'EMAIL':<{width}}  CONVERSATIONS  LINKS  SESSIONS  SINCE", file=out)
    for summary in summaries:
        print(
            f"{summary.email:<{width}}  {summary.grants:>13}  {summary.links:>5}  "
            f"{summary.sessions:>8}  {_when(summary.created_at)}",
            file=out,
        )
    return 0


def _token_state(token: AccessToken, now: datetime) -> str:
    if token.revoked_at is not None:
        return f"revoked {_when(token.revoked_at)}"
    if token.expires_at <= now:
        return f"expired {_when(token.expires_at)}"
    state = f"valid until {_when(token.expires_at)}"
    if token.used_at is not None:
        state += f", used {_when(token.used_at)}"
    return state


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"
