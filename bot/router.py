"""Recognise caret commands in thread messages and dispatch them to the command modules."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.threads import ThreadRef

log = logging.getLogger(__name__)

# A command is "^" directly followed by a word that starts with a letter, at the very start of
# the message. "^ deliver", "^^" and "^_^" are chat, and so is a command quoted in a code span,
# because the message then starts with a backtick.
_CARET = re.compile(r"\^(?P<word>[A-Za-z]\S*)(?:\s+(?P<argument>.*))?", re.DOTALL)

# Message subtypes that a person typed; every other subtype (edits, deletions, joins, bot
# messages) is never a command.
_TYPED_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


@dataclass(frozen=True)
class CaretCommand:
    """A parsed caret command: `word` as typed, `name` when it is a known command."""

    word: str
    name: str | None
    argument: str


@dataclass(frozen=True)
class CommandRequest:
    """The input of a command handler: the command, its thread, the user and a client."""

    command: CaretCommand
    thread: ThreadRef
    user: str
    message_ts: str
    client: WebClient

    def reply_ephemeral(self, text: str, blocks: list[Any] | None = None) -> None:
        """Show the typing user a message in the thread that only they can see."""
        self.client.chat_postEphemeral(
            channel=self.thread.channel,
            thread_ts=self.thread.thread_ts,
            user=self.user,
            text=text,
            blocks=blocks,
        )

    def reply_in_thread(self, text: str, blocks: list[Any] | None = None) -> None:
        """Post in the thread for everyone in it, never at the channel's top level."""
        self.client.chat_postMessage(
            channel=self.thread.channel, thread_ts=self.thread.thread_ts, text=text, blocks=blocks
        )


CommandHandler = Callable[[CommandRequest], None]


# Handlers by command name; a known command with no handler is not built yet.
CommandHandlers = dict[str, CommandHandler]

COMMAND_NAMES = ("deliver", "claim", "read", "note", "stat", "transcript", "help")


def parse_command(text: str | None) -> CaretCommand | None:
    """Return the caret command that the message text starts with, or None for chat."""
    if not text:
        return None
    match = _CARET.fullmatch(text.strip())
    if match is None:
        return None
    word = match["word"]
    name = word.lower()
    return CaretCommand(
        word=word,
        name=name if name in COMMAND_NAMES else None,
        argument=(match["argument"] or "").strip(),
    )


def suggest_command(word: str) -> str | None:
    """Return the known command closest to a mistyped one, if any is close."""
    matches = difflib.get_close_matches(word.lower(), COMMAND_NAMES, n=1, cutoff=0.6)
    if matches:
        return matches[0]
    # "^deliverable", "^notes": a known command that the word starts with.
    for name in COMMAND_NAMES:
        if word.lower().startswith(name):
            return name
    return None


def is_typed_by_person(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """Tell whether a message event can carry a command: a person's new message."""
    if event.get("subtype") not in _TYPED_SUBTYPES:
        return False
    if event.get("bot_id") or event.get("bot_profile"):
        return False
    user = event.get("user")
    return bool(user) and user != bot_user_id
