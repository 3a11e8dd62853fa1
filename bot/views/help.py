"""The help list that answers ^help and unknown commands."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, MarkdownTextObject, SectionBlock

# One line per command, in the order help lists them.
COMMAND_HELP: dict[str, tuple[str, str]] = {
    "deliver": ("^deliver", "hand the candidate off and record the outcome"),
    "claim": ("^claim", "make this conversation yours"),
    "read": ("^read", "clear the unread marker"),
    "note": ("^note <text>", "leave an internal note for the team (^note alone opens a form)"),
    "stat": ("^stat", "show response times and other metrics"),
    "transcript": ("^transcript", "get a text transcript in your DM with caretbot"),
    "help": ("^help", "show this list"),
}


def help_text(available: set[str]) -> str:
    """Return the command list as mrkdwn, one line per command."""
    lines = []
    for name, (usage, summary) in COMMAND_HELP.items():
        suffix = "" if name in available else " _(not available yet)_"
        lines.append(f"`{usage}` {summary}{suffix}")
    return "\n".join(lines)


def help_blocks(
    available: set[str], *, unknown_word: str | None = None, suggestion: str | None = None
) -> list:
    """Build the ephemeral help message, headed by a note on an unknown command if any."""
    blocks: list = []
    if unknown_word is not None:
        # The word is what the user typed; code formatting keeps its mrkdwn inert.
        heading = f"`^{_inert(unknown_word)}` is not a caretbot command."
        if suggestion is not None:
            heading += f" Did you mean `^{suggestion}`?"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=heading)))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=help_text(available))))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(text="Type a command at the start of a message in the thread.")
            ]
        )
    )
    return blocks


def help_fallback_text(*, unknown_word: str | None = None, suggestion: str | None = None) -> str:
    """Return the notification text of the help message."""
    if unknown_word is None:
        return "caretbot commands"
    if suggestion is not None:
        return f"^{unknown_word} is not a caretbot command. Did you mean ^{suggestion}?"
    return f"^{unknown_word} is not a caretbot command."


def _inert(word: str) -> str:
    # A backtick inside the word would end the code span early.
    return word.replace("`", "'")[:40]
