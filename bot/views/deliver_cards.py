"""The messages of a delivery: the card in the conversation's thread and the hand-off card.

Every piece of user-typed text is escaped before it goes into mrkdwn, and long text is split
over several section blocks, so notes of 3,000 characters full of "&" still fit Slack's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot import ids
from bot.outcomes import MAX_RATING, Status, stars
from bot.views.deliver import MAX_NOTES_LENGTH, ApplicationChoice, ContactFacts
from bot.views.text import (
    SECTION_TEXT_LIMIT,
    TIME_ON_DATE,
    escape_mrkdwn,
    mrkdwn_link,
    shorten,
    single_line,
    slack_date,
    split_for_sections,
    user_mention,
)

# The recipient list stops before this many characters, well under a section's 3000, and
# names how many more there are.
_RECIPIENTS_TEXT_BUDGET = 2000

# block-kit/blocks/section-block: a field is at most 2000 characters. A value cut to 200
# stays under it even when escaping turns every character into "&amp;".
_FIELD_VALUE_LENGTH = 200

# block-kit/blocks/header-block: a header is at most 150 characters.
_HEADER_LIMIT = 150


@dataclass(frozen=True)
class Recipient:
    """One recipient as a card names it."""

    kind: Literal["user", "team", "email"]
    value: str  # a Slack user id, a team name or an email address

    def mrkdwn(self) -> str:
        if self.kind == "user":
            return user_mention(self.value)
        name = escape_mrkdwn(shorten(single_line(self.value), 100))
        return f"the {name} team" if self.kind == "team" else name


@dataclass(frozen=True)
class PreviousDelivery:
    status: Status
    delivered_by: str  # Slack user id
    delivered_at: datetime


@dataclass(frozen=True)
class Acceptance:
    """An acceptance that the thread card shows: by an email recipient, in the portal."""

    by: str  # an email address
    at: datetime


@dataclass(frozen=True)
class DeliveryFacts:
    """The facts of one delivery that the cards show."""

    status: Status
    delivered_by: str  # Slack user id
    delivered_at: datetime
    rating: int | None = None
    reason: str | None = None
    reason_text: str = ""
    notes: str = ""
    recipients: tuple[Recipient, ...] = ()
    acceptances: tuple[Acceptance, ...] = ()
    contact: ContactFacts | None = None
    application: ApplicationChoice | None = None
    previous: PreviousDelivery | None = None


@dataclass(frozen=True)
class Card:
    """A message: its blocks and the plain notification text that goes with them."""

    blocks: list[Block]
    text: str


def delivery_card(facts: DeliveryFacts) -> Card:
    """Build the card posted in the conversation's thread when it is delivered."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=_outcome_text(facts, heading="Delivered: ", with_application=True)
            )
        )
    ]
    blocks.extend(_long_text_sections("Reason in the agent's words", facts.reason_text))
    blocks.extend(_long_text_sections("Notes", facts.notes))
    blocks.append(SectionBlock(text=MarkdownTextObject(text=_delivered_text(facts))))
    for acceptance in facts.acceptances:
        by = escape_mrkdwn(shorten(single_line(acceptance.by), 100))
        line = f"Accepted by {by} at {slack_date(acceptance.at, TIME_ON_DATE)}."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line)))
    if facts.previous is not None:
        previous = facts.previous
        line = (
            f"Delivered again. Before: {previous.status.label} by "
            f"{user_mention(previous.delivered_by)} on {slack_date(previous.delivered_at)}."
        )
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=line)]))
    return Card(blocks=blocks, text=_delivery_fallback(facts))


def handoff_card(
    facts: DeliveryFacts,
    *,
    recipient_id: int,
    permalink: str | None,
    accepted_by: str | None = None,
    accepted_at: datetime | None = None,
    team_name: str | None = None,
) -> Card:
    """Build the hand-off sent to one recipient: a recruiter's DM or a team's channel.

    The Accept button's value is `recipient_id`. Once `accepted_by` is set, the card names who
    accepted instead of showing the button. `permalink` links the conversation's thread.
    """
    name = single_line(facts.contact.name) if facts.contact and facts.contact.name else ""
    header = f"Hand-off: {name}" if name else "Hand-off"
    blocks: list[Block] = [HeaderBlock(text=shorten(header, _HEADER_LIMIT))]
    fields = _contact_fields(facts.contact, facts.application)
    if fields:
        blocks.append(SectionBlock(fields=[MarkdownTextObject(text=field) for field in fields]))
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(text=_outcome_text(facts, heading="", with_application=False))
        )
    )
    blocks.extend(_long_text_sections("Reason in the agent's words", facts.reason_text))
    blocks.extend(_long_text_sections("Notes", facts.notes))

    team = escape_mrkdwn(shorten(single_line(team_name), 100)) if team_name else None
    delivered = f"Delivered by {user_mention(facts.delivered_by)}"
    if team is not None:
        delivered += f" to the {team} team"
    delivered += f" on {slack_date(facts.delivered_at)}."
    if permalink:
        delivered += f" {mrkdwn_link(permalink, 'View the thread')}"
    blocks.append(SectionBlock(text=MarkdownTextObject(text=delivered)))

    blocks.append(_acceptance_block(recipient_id, accepted_by, accepted_at, team))

    text = f"Hand-off: {escape_mrkdwn(shorten(name, 100)) or 'a candidate'}, {facts.status.label}"
    if accepted_by is not None:
        text += " (accepted)"
    return Card(blocks=blocks, text=text)


def _acceptance_block(
    recipient_id: int, accepted_by: str | None, accepted_at: datetime | None, team: str | None
) -> Block:
    if accepted_by is None:
        button = ButtonElement(
            text="Accept", action_id=ids.DELIVER_ACCEPT, value=str(recipient_id), style="primary"
        )
        return ActionsBlock(elements=[button])
    accepted = f"Accepted by {user_mention(accepted_by)}"
    if team is not None:
        accepted += f" for the {team} team"
    if accepted_at is not None:
        accepted += f" at {slack_date(accepted_at, TIME_ON_DATE)}"
    return SectionBlock(text=MarkdownTextObject(text=f"{accepted}."))


def _outcome_text(facts: DeliveryFacts, *, heading: str, with_application: bool) -> str:
    first = f"*{heading}{facts.status.label}*"
    if facts.rating is not None:
        first += f"  {stars(facts.rating)}"
    lines = [first]
    if facts.reason:
        lines.append(f"*Reason:* {_inline(facts.reason)}")
    if with_application and facts.application is not None:
        lines.append(f"*Application:* {_application_text(facts.application)}")
    return "\n".join(lines)


def _inline(text: str) -> str:
    return escape_mrkdwn(shorten(single_line(text), _FIELD_VALUE_LENGTH))


def _application_text(application: ApplicationChoice) -> str:
    parts = [application.job_title, application.job_location, application.source]
    return " · ".join(_inline(part) for part in parts if part)


def _contact_fields(
    contact: ContactFacts | None, application: ApplicationChoice | None
) -> list[str]:
    pairs: list[tuple[str, str | None]] = []
    if contact is not None:
        pairs += [("Email", contact.email), ("Phone", contact.phone)]
    if application is not None:
        pairs += [
            ("Application", application.job_title),
            ("Location", application.job_location),
            ("Source", application.source),
        ]
    return [f"*{label}*\n{_inline(value)}" for label, value in pairs if value]


def _long_text_sections(label: str, text: str) -> list[SectionBlock]:
    if not text.strip():
        return []
    # NOTE: step 1 limits notes and reason text to 3,000 characters. Longer text from
    # elsewhere is cut here, so a card never needs more than Slack's 50 blocks.
    prefix = f"*{label}*\n"
    escaped = escape_mrkdwn(shorten(text, MAX_NOTES_LENGTH))
    chunks = split_for_sections(escaped, SECTION_TEXT_LIMIT - len(prefix))
    chunks[0] = prefix + chunks[0]
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]


def _delivered_text(facts: DeliveryFacts) -> str:
    by = user_mention(facts.delivered_by)
    when = slack_date(facts.delivered_at)
    if not facts.recipients:
        return f"Recorded by {by} on {when}, with no recipients."
    return f"Delivered by {by} to {_recipients_text(facts.recipients)} on {when}."


def _recipients_text(recipients: Sequence[Recipient]) -> str:
    names: list[str] = []
    used = 0
    for recipient in recipients:
        name = recipient.mrkdwn()
        if names and used + len(name) > _RECIPIENTS_TEXT_BUDGET:
            break
        names.append(name)
        used += len(name) + 2
    left = len(recipients) - len(names)
    if left:
        return f"{', '.join(names)} and {left} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _delivery_fallback(facts: DeliveryFacts) -> str:
    text = f"Delivered as {facts.status.label}"
    if facts.rating is not None:
        text += f", {facts.rating} of {MAX_RATING} stars"
    count = len(facts.recipients)
    if count:
        text += f", to {count} recipient{'s' if count > 1 else ''}"
    return text
