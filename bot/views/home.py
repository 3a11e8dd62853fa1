"""The App Home tab."""

from __future__ import annotations

from slack_sdk.models.blocks import ContextBlock, HeaderBlock, MarkdownTextObject, SectionBlock
from slack_sdk.models.views import View

from bot.views.help import help_text


def home_view(available: set[str]) -> View:
    """Build the home tab: what caretbot does and the commands it understands."""
    return View(
        type="home",
        blocks=[
            HeaderBlock(text="caretbot"),
            SectionBlock(
                text=MarkdownTextObject(
                    text="Type a caret command at the start of a message in a conversation's "
                    "thread. caretbot answers in the same thread."
                )
            ),
            SectionBlock(text=MarkdownTextObject(text=help_text(available))),
            ContextBlock(
                elements=[
                    MarkdownTextObject(text="Your queue of waiting conversations will show here.")
                ]
            ),
        ],
    )
