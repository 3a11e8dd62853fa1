"""The note modal and the button that opens it."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot import ids
from bot.threads import ThreadRef

# Slack's maximum for a plain_text_input; a longer note is cut off by Slack's own client.
MAX_NOTE_LENGTH = 3000


def note_button_blocks(thread: ThreadRef) -> list[Any]:
    """Build the ephemeral answer to ^note without text: a button that opens the modal."""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="Write the note in a form, so nobody outside your team sees it typed."
            )
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Write a note",
                    action_id=ids.OPEN_NOTE_MODAL,
                    value=thread.to_metadata(),
                    style="primary",
                )
            ]
        ),
    ]


def note_modal(thread: ThreadRef) -> View:
    """Build the modal in which an agent writes an internal note."""
    return View(
        type="modal",
        callback_id=ids.NOTE_MODAL,
        title=PlainTextObject(text="Add a note"),
        submit=PlainTextObject(text="Save note"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=thread.to_metadata(),
        blocks=[
            InputBlock(
                block_id=ids.NOTE_BLOCK,
                label="Note",
                hint="Only your team sees notes: they show in transcripts and hand-offs, "
                "never to the contact.",
                element=PlainTextInputElement(
                    action_id=ids.NOTE_INPUT, multiline=True, max_length=MAX_NOTE_LENGTH
                ),
            )
        ],
    )


def read_note_text(view: dict[str, Any]) -> str:
    """Return the note text from a submitted note modal."""
    value = view["state"]["values"][ids.NOTE_BLOCK][ids.NOTE_INPUT].get("value")
    return (value or "").strip()
