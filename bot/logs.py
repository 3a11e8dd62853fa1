"""The ids that identify an interaction in log lines, read from any Slack payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.threads import ThreadRef


@dataclass(frozen=True)
class InteractionIds:
    team: str | None
    channel: str | None
    thread_ts: str | None
    user: str | None

    def as_fields(self) -> str:
        return (
            f"team={self.team or '-'} channel={self.channel or '-'} "
            f"thread={self.thread_ts or '-'} user={self.user or '-'}"
        )


def interaction_ids(body: dict[str, Any]) -> InteractionIds:
    """Find team, channel, thread and user in an event, action, shortcut, view or command."""
    event = body.get("event") or {}
    if event:
        return InteractionIds(
            team=body.get("team_id"),
            channel=event.get("channel"),
            thread_ts=event.get("thread_ts") or event.get("ts"),
            user=event.get("user"),
        )

    team = (body.get("team") or {}).get("id") or body.get("team_id")
    user = (body.get("user") or {}).get("id") or body.get("user_id")
    channel = (body.get("channel") or {}).get("id") or body.get("channel_id")
    message = body.get("message") or {}
    container = body.get("container") or {}
    thread_ts = (
        message.get("thread_ts")
        or container.get("thread_ts")
        or message.get("ts")
        or container.get("message_ts")
    )
    view = body.get("view") or {}
    if channel is None and view.get("private_metadata"):
        thread = ThreadRef.from_metadata(view["private_metadata"])
        if thread is not None:
            channel, thread_ts = thread.channel, thread.thread_ts
    return InteractionIds(team=team, channel=channel, thread_ts=thread_ts, user=user)
