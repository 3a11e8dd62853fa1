"""The ^deliver modal: step 1 records the application and outcome, step 2 names recipients.

Choosing a status or an application sends block_actions (their input blocks set
dispatch_action), and the handler rebuilds step 1 with views.update from `read_step1` of the
current state. Slack keeps what was typed into an input whose block_id and action_id are
unchanged (methods/views.update, "Preserving input entry"), and the builders also set every
initial value from the values they are given, so a rebuilt view shows the same input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    OptionGroup,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

# The wire ids are to move into bot.ids. Until then this alias keeps the call sites as they
# will read afterwards.
from bot import ids
from bot.outcomes import MAX_RATING, MIN_RATING, Status, stars
from bot.threads import ThreadRef
from bot.views.deliver import (
    MAX_CONTACT_FIELD_LENGTH,
    MAX_JOB_FIELD_LENGTH,
    MAX_NOTES_LENGTH,
    MAX_REASON_TEXT_LENGTH,
    MAX_SELECT_OPTIONS,
    NEW_APPLICATION,
    NO_APPLICATION,
    OPTION_TEXT_LIMIT,
    REASON_BLOCKS,
    ApplicationChoice,
    ContactFacts,
    DeliverContext,
    Step1Summary,
    Step1Values,
    Step2Values,
    TeamChoice,
    application_value,
    parse_application_value,
)
from bot.views.text import escape_mrkdwn, shorten, single_line

TITLE = "Deliver conversation"

# views/modal-views: private_metadata is at most 3000 characters.
_METADATA_LIMIT = 3000

# The step 2 summary shows this much of the notes, so the recipient inputs stay in view.
SUMMARY_NOTES_LENGTH = 300


# Applications


def application_label(application: ApplicationChoice) -> str:
    """Return the option text, e.g. "Data Engineer · London · linkedin · 2024-03-04".

    The text fits an option's 75 characters: the date is kept whole, source and location are
    shortened first, and the title takes what is left.
    """
    title = single_line(application.job_title) or "Untitled job"
    location = single_line(application.job_location or "")
    source = single_line(application.source or "")
    applied = application.applied_at.date().isoformat() if application.applied_at else ""

    label = _join_parts([title, location, source, applied])
    if len(label) <= OPTION_TEXT_LIMIT:
        return label
    source = shorten(source, 14)
    location = shorten(location, 20)
    fixed = _join_parts([location, source, applied])
    title_room = OPTION_TEXT_LIMIT - len(fixed) - (len(" · ") if fixed else 0)
    return _join_parts([shorten(title, title_room), location, source, applied])


def _join_parts(parts: Sequence[str]) -> str:
    return " · ".join(part for part in parts if part)


def _ordered(applications: Sequence[ApplicationChoice]) -> list[ApplicationChoice]:
    # The active application first, then the most recent ones, so the first page of an
    # external_select and the top of a static_select show what the agent most likely wants.
    def key(application: ApplicationChoice) -> tuple[bool, float]:
        applied = application.applied_at.timestamp() if application.applied_at else float("-inf")
        return (not application.active, -applied)

    return sorted(applications, key=key)


def _application_option(application: ApplicationChoice) -> Option:
    return Option(value=application_value(application), text=application_label(application))


# The picker's choices besides the applications on file, as (value, option text).
_SPECIAL_CHOICES = (
    (NEW_APPLICATION, "New application (enter job title and location)"),
    (NO_APPLICATION, "No application (record the outcome without one)"),
)


def _special_options() -> list[Option]:
    return [Option(value=value, text=text) for value, text in _SPECIAL_CHOICES]


def application_options(applications: Sequence[ApplicationChoice], query: str) -> list[Option]:
    """Return the options an external_select loads for `query`, at most 100.

    An option matches when its text contains the query, ignoring case. "New application" and
    "No application" come last and always fit, because applications fill only what is left.
    """
    needle = query.strip().casefold()
    specials = [
        Option(value=value, text=text)
        for value, text in _SPECIAL_CHOICES
        if needle in text.casefold()
    ]
    matches = []
    for application in _ordered(applications):
        if len(matches) == MAX_SELECT_OPTIONS - len(specials):
            break
        if needle in application_label(application).casefold():
            matches.append(_application_option(application))
    return matches + specials


def _initial_application(context: DeliverContext, values: Step1Values) -> str | None:
    if values.application in (NEW_APPLICATION, NO_APPLICATION):
        return values.application
    chosen = values.application_id
    if chosen is not None and context.application(chosen) is not None:
        return values.application
    for application in context.applications:
        if application.active:
            return application_value(application)
    return None


def _application_block(context: DeliverContext, values: Step1Values) -> InputBlock:
    initial_value = _initial_application(context, values)
    initial = None
    if initial_value in (NEW_APPLICATION, NO_APPLICATION):
        initial = next(o for o in _special_options() if o.value == initial_value)
    elif initial_value is not None:
        chosen = context.application(parse_application_value(initial_value) or -1)
        initial = _application_option(chosen) if chosen is not None else None

    count = len(context.applications)
    if count > MAX_SELECT_OPTIONS:
        element: Any = ExternalDataSelectElement(
            action_id=ids.DELIVER_APPLICATION_INPUT,
            placeholder="Type to search the applications",
            # Slack's default of 3 would show nothing until three characters are typed.
            min_query_length=0,
            initial_option=initial,
        )
        hint = f"The contact has {count} applications. Type part of a title, place or date."
    else:
        groups = [OptionGroup(label="Or", options=_special_options())]
        if context.applications:
            options = [_application_option(a) for a in _ordered(context.applications)]
            groups.insert(0, OptionGroup(label="Applications on file", options=options))
        element = StaticSelectElement(
            action_id=ids.DELIVER_APPLICATION_INPUT,
            placeholder="Choose an application",
            option_groups=groups,
            initial_option=initial,
        )
        hint = None
    return InputBlock(
        block_id=ids.DELIVER_APPLICATION_BLOCK,
        label="Application",
        element=element,
        hint=hint,
        dispatch_action=True,
    )


# Step 1


def loading_view(thread: ThreadRef) -> View:
    """Build the placeholder opened at once, within the trigger's 3 seconds, then updated."""
    return View(
        type="modal",
        callback_id=ids.DELIVER_MODAL,
        title=PlainTextObject(text=TITLE),
        close=PlainTextObject(text="Cancel"),
        private_metadata=thread.to_metadata(),
        blocks=[
            SectionBlock(text=MarkdownTextObject(text="Loading the contact and applications…"))
        ],
    )


def step1_view(context: DeliverContext, values: Step1Values, *, metadata: str) -> View:
    """Build step 1 for the current values: contact or application, status and its fields."""
    blocks: list[Block] = []
    if context.contact is None:
        blocks.extend(_new_contact_blocks(values))
    else:
        blocks.append(_contact_line(context.contact))
        blocks.append(_application_block(context, values))
        if _initial_application(context, values) == NEW_APPLICATION:
            blocks.extend(_job_blocks(values, optional_title=False))

    blocks.append(_status_block(values.status))
    if values.status is None:
        blocks.append(_hint("Choose a status to see the fields it needs."))
    else:
        blocks.extend(_status_blocks(context, values, values.status))

    return View(
        type="modal",
        callback_id=ids.DELIVER_MODAL,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Next"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=_checked_metadata(metadata),
        blocks=blocks,
    )


def _contact_line(contact: ContactFacts) -> ContextBlock:
    parts = [contact.name, contact.email or "", contact.phone or ""]
    text = escape_mrkdwn(_join_parts([shorten(single_line(p), 100) for p in parts]))
    return ContextBlock(elements=[MarkdownTextObject(text=f"Contact: {text}")])


def _hint(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def _text_input(
    block_id: str,
    action_id: str,
    label: str,
    value: str,
    *,
    optional: bool,
    max_length: int,
    multiline: bool = False,
    hint: str | None = None,
    placeholder: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        optional=optional,
        hint=hint,
        element=PlainTextInputElement(
            action_id=action_id,
            initial_value=value or None,
            multiline=multiline,
            max_length=max_length,
            placeholder=placeholder,
        ),
    )


def _new_contact_blocks(values: Step1Values) -> list[Block]:
    return [
        _hint("No contact is linked to this conversation yet. These details create one."),
        _text_input(
            ids.DELIVER_CONTACT_NAME_BLOCK,
            ids.DELIVER_CONTACT_NAME_INPUT,
            "Contact name",
            values.contact_name,
            optional=False,
            max_length=MAX_CONTACT_FIELD_LENGTH,
        ),
        _text_input(
            ids.DELIVER_CONTACT_EMAIL_BLOCK,
            ids.DELIVER_CONTACT_EMAIL_INPUT,
            "Email",
            values.contact_email,
            optional=True,
            max_length=MAX_CONTACT_FIELD_LENGTH,
            placeholder="name@example.com",
            hint="Enter an email address, a phone number or both.",
        ),
        _text_input(
            ids.DELIVER_CONTACT_PHONE_BLOCK,
            ids.DELIVER_CONTACT_PHONE_INPUT,
            "Phone",
            values.contact_phone,
            optional=True,
            max_length=MAX_CONTACT_FIELD_LENGTH,
            placeholder="+44 20 7946 0958",
        ),
        *_job_blocks(values, optional_title=True),
    ]


def _job_blocks(values: Step1Values, *, optional_title: bool) -> list[Block]:
    return [
        _text_input(
            ids.DELIVER_JOB_TITLE_BLOCK,
            ids.DELIVER_JOB_TITLE_INPUT,
            "Job title",
            values.job_title,
            optional=optional_title,
            max_length=MAX_JOB_FIELD_LENGTH,
        ),
        _text_input(
            ids.DELIVER_JOB_LOCATION_BLOCK,
            ids.DELIVER_JOB_LOCATION_INPUT,
            "Job location",
            values.job_location,
            optional=True,
            max_length=MAX_JOB_FIELD_LENGTH,
        ),
    ]


def _status_option(status: Status) -> Option:
    return Option(value=status.value, text=status.label)


def _status_block(status: Status | None) -> InputBlock:
    return InputBlock(
        block_id=ids.DELIVER_STATUS_BLOCK,
        label="Status",
        dispatch_action=True,
        element=StaticSelectElement(
            action_id=ids.DELIVER_STATUS_INPUT,
            placeholder="Choose a status",
            options=[_status_option(s) for s in Status],
            initial_option=_status_option(status) if status is not None else None,
        ),
    )


def _rating_option(rating: int) -> Option:
    return Option(value=str(rating), text=f"{stars(rating)}  {rating} of {MAX_RATING}")


def _rating_block(rating: int | None) -> InputBlock:
    initial = None
    if rating is not None and MIN_RATING <= rating <= MAX_RATING:
        initial = _rating_option(rating)
    return InputBlock(
        block_id=ids.DELIVER_RATING_BLOCK,
        label="Rating",
        element=RadioButtonsElement(
            action_id=ids.DELIVER_RATING_INPUT,
            options=[_rating_option(r) for r in range(MAX_RATING, MIN_RATING - 1, -1)],
            initial_option=initial,
        ),
    )


def _reason_block(reasons: Sequence[str], status: Status, reason: str | None) -> InputBlock:
    options = [Option(value=r, text=r) for r in reasons]
    initial = next((o for o in options if o.value == reason), None)
    return InputBlock(
        block_id=REASON_BLOCKS[status],
        label="Reason",
        element=StaticSelectElement(
            action_id=ids.DELIVER_REASON_INPUT,
            placeholder="Choose a reason",
            options=options,
            initial_option=initial,
        ),
    )


# The notes label and hint by status. The label or hint explains why the
# notes are required where that is not obvious.
_NOTES_WORDING: dict[Status, tuple[str, str]] = {
    Status.QUALIFIED: (
        "Notes for the recruiter",
        "Recipients read this on the hand-off: say what makes the candidate a fit.",
    ),
    Status.REVIEW: (
        "What should the reviewer check?",
        "Recipients read this on the hand-off, so say what needs a second opinion.",
    ),
    Status.NOT_QUALIFIED: ("Notes", "Anything the team should know if the candidate returns."),
    Status.NOT_INTERESTED: ("Notes", "Anything the team should know if the candidate returns."),
    Status.SPAM: (
        "Why is this spam?",
        "Required, so the team can tell spam from a real candidate later.",
    ),
    Status.OTHER: (
        "What happened?",
        "Required, because Other has no reason list to explain the outcome.",
    ),
}


def _status_blocks(context: DeliverContext, values: Step1Values, status: Status) -> list[Block]:
    blocks: list[Block] = []
    if status.rating_required:
        blocks.append(_rating_block(values.rating))
    if status.has_reason:
        blocks.append(_reason_block(context.reasons(status), status, values.reason))
        blocks.append(
            _text_input(
                ids.DELIVER_REASON_TEXT_BLOCK,
                ids.DELIVER_REASON_TEXT_INPUT,
                "Reason in your words",
                values.reason_text,
                optional=False,
                max_length=MAX_REASON_TEXT_LENGTH,
                multiline=True,
            )
        )
    label, hint = _NOTES_WORDING[status]
    blocks.append(
        _text_input(
            ids.DELIVER_NOTES_BLOCK,
            ids.DELIVER_NOTES_INPUT,
            label,
            values.notes,
            optional=not status.notes_required,
            max_length=MAX_NOTES_LENGTH,
            multiline=True,
            hint=hint,
        )
    )
    return blocks


def _checked_metadata(metadata: str) -> str:
    if len(metadata) > _METADATA_LIMIT:
        raise ValueError(
            f"private_metadata is {len(metadata):,} characters, over Slack's limit of "
            f"{_METADATA_LIMIT:,}: pass ids only"
        )
    return metadata


# Step 2


def summarize_step1(context: DeliverContext, values: Step1Values) -> Step1Summary:
    """Return step 1 as step 2 shows it. Raise ValueError when no status was chosen."""
    if values.status is None:
        raise ValueError("step 1 has no status: validate it with validate_step1 first")
    if context.contact is not None:
        contact_name: str | None = context.contact.name
    else:
        contact_name = values.contact_name or None

    chosen = context.application(values.application_id or -1)
    application = "No application"
    if chosen is not None:
        application = application_label(chosen)
    elif values.job_title and (context.contact is None or values.application == NEW_APPLICATION):
        application = _join_parts([values.job_title, values.job_location]) + " (new)"

    has_reason = values.status.has_reason
    return Step1Summary(
        contact_name=contact_name,
        application=application,
        status=values.status,
        rating=values.rating if values.status.rating_required else None,
        reason=values.reason if has_reason else None,
        reason_text=values.reason_text if has_reason else "",
        notes=values.notes,
    )


def step2_view(
    summary: Step1Summary,
    teams: Sequence[TeamChoice],
    *,
    metadata: str,
    values: Step2Values | None = None,
) -> View:
    """Build step 2, pushed over step 1: the summary and the recipient inputs."""
    values = values or Step2Values()
    blocks = _summary_blocks(summary)
    blocks.append(
        InputBlock(
            block_id=ids.DELIVER_USERS_BLOCK,
            label="Slack users",
            optional=True,
            element=UserMultiSelectElement(
                action_id=ids.DELIVER_USERS_INPUT,
                placeholder="Choose people",
                initial_users=list(values.user_ids) or None,
            ),
        )
    )
    if teams:
        blocks.append(_teams_block(teams, values.team_ids))
    blocks.append(
        _text_input(
            ids.DELIVER_EMAILS_BLOCK,
            ids.DELIVER_EMAILS_INPUT,
            "Email addresses",
            values.emails_text,
            optional=True,
            max_length=MAX_NOTES_LENGTH,
            placeholder="alex@example.com, sam@example.com",
            hint="Separate addresses with commas, semicolons or spaces.",
        )
    )
    return View(
        type="modal",
        callback_id=ids.DELIVER_RECIPIENTS_MODAL,
        title=PlainTextObject(text=TITLE),
        submit=PlainTextObject(text="Deliver"),
        # Closing a pushed view returns to the view below it, step 1, with its input intact.
        close=PlainTextObject(text="Back"),
        private_metadata=_checked_metadata(metadata),
        blocks=blocks,
    )


def _summary_blocks(summary: Step1Summary) -> list[Block]:
    # Each line is cut before escaping, and escaping at most quintuples a character ("&" to
    # "&amp;"), so four lines of 120 characters stay under a section's 3000.
    def line(label: str, value: str) -> str:
        return f"*{label}:* {escape_mrkdwn(shorten(single_line(value), 120))}"

    lines = []
    if summary.contact_name:
        lines.append(line("Contact", summary.contact_name))
    lines.append(line("Application", summary.application))
    status = f"*Status:* {summary.status.label}"
    if summary.rating is not None:
        status += f"  {stars(summary.rating)}"
    lines.append(status)
    if summary.reason:
        lines.append(line("Reason", summary.reason))
    if summary.reason_text:
        lines.append(line("In your words", summary.reason_text))
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="\n".join(lines)))]
    if summary.notes:
        notes = escape_mrkdwn(shorten(summary.notes, SUMMARY_NOTES_LENGTH))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"*Notes:* {notes}")))
    return blocks


def _teams_block(teams: Sequence[TeamChoice], chosen: Sequence[int]) -> InputBlock:
    options = {
        team.id: Option(value=str(team.id), text=shorten(single_line(team.name), OPTION_TEXT_LIMIT))
        for team in teams
    }
    initial = [options[team_id] for team_id in chosen if team_id in options] or None
    listed = list(options.values())
    choices: dict[str, Any] = {"options": listed}
    if len(listed) > MAX_SELECT_OPTIONS:
        # A select accepts at most 100 options, but also 100 groups of 100 options each.
        choices = {
            "option_groups": [
                OptionGroup(
                    label=f"Teams {start + 1}–{min(start + MAX_SELECT_OPTIONS, len(listed))}",
                    options=listed[start : start + MAX_SELECT_OPTIONS],
                )
                for start in range(0, len(listed), MAX_SELECT_OPTIONS)
            ]
        }
    element = StaticMultiSelectElement(
        action_id=ids.DELIVER_TEAMS_INPUT,
        placeholder="Choose teams",
        initial_options=initial,
        **choices,
    )
    return InputBlock(
        block_id=ids.DELIVER_TEAMS_BLOCK, label="Teams", optional=True, element=element
    )
