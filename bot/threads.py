"""A reference to the Slack thread that is a conversation: team, channel and root ts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThreadRef:
    team: str
    channel: str
    thread_ts: str

    @classmethod
    def of_message(cls, team: str, message: dict[str, Any]) -> ThreadRef:
        """Return the thread of a message; a top-level message roots its own thread."""
        return cls(
            team=team,
            channel=message["channel"],
            thread_ts=message.get("thread_ts") or message["ts"],
        )

    def to_metadata(self) -> str:
        """Encode as a modal's private_metadata: ids only, far below Slack's 3,000 characters."""
        return json.dumps({"team": self.team, "channel": self.channel, "thread_ts": self.thread_ts})

    @classmethod
    def from_metadata(cls, text: str) -> ThreadRef | None:
        try:
            data = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        try:
            return cls(team=data["team"], channel=data["channel"], thread_ts=data["thread_ts"])
        except KeyError:
            return None
