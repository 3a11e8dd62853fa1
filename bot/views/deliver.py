"""The ^deliver flow's inputs: wire ids, value types, readers of modal state, and validation.

The builders are in deliver_modal.py (the two modal steps) and deliver_cards.py (the thread
card and the hand-off card). Readers turn a view's `state.values` into typed values, and the
validators return {block_id: message} for `response_action="errors"`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.addresses import normalize_email, normalize_phone
from bot.ids import (
    DELIVER_APPLICATION_BLOCK,
    DELIVER_APPLICATION_INPUT,
    DELIVER_CONTACT_EMAIL_BLOCK,
    DELIVER_CONTACT_EMAIL_INPUT,
    DELIVER_CONTACT_NAME_BLOCK,
    DELIVER_CONTACT_NAME_INPUT,
    DELIVER_CONTACT_PHONE_BLOCK,
    DELIVER_CONTACT_PHONE_INPUT,
    DELIVER_EMAILS_BLOCK,
    DELIVER_EMAILS_INPUT,
    DELIVER_JOB_LOCATION_BLOCK,
    DELIVER_JOB_LOCATION_INPUT,
    DELIVER_JOB_TITLE_BLOCK,
    DELIVER_JOB_TITLE_INPUT,
    DELIVER_NOTES_BLOCK,
    DELIVER_NOTES_INPUT,
    DELIVER_RATING_BLOCK,
    DELIVER_RATING_INPUT,
    DELIVER_REASON_INPUT,
    DELIVER_REASON_NOT_INTERESTED_BLOCK,
    DELIVER_REASON_NOT_QUALIFIED_BLOCK,
    DELIVER_REASON_TEXT_BLOCK,
    DELIVER_REASON_TEXT_INPUT,
    DELIVER_STATUS_BLOCK,
    DELIVER_STATUS_INPUT,
    DELIVER_TEAMS_BLOCK,
    DELIVER_TEAMS_INPUT,
    DELIVER_USERS_BLOCK,
    DELIVER_USERS_INPUT,
)
from bot.outcomes import (
    MAX_RATING,
    MIN_RATING,
    Status,
    parse_status,
    reasons_for,
    recipient_required,
)
from bot.views.text import shorten, single_line

# Application choices other than an application on file ("app:<id>").
NEW_APPLICATION = "new"
NO_APPLICATION = "none"
APPLICATION_PREFIX = "app:"

# block-kit/composition-objects/option-object: an option's text is at most 75 characters.
# block-kit/block-elements/select-menu-element: a select accepts at most 100 options, so more
# applications than that go to an external_select that loads them as the agent types.
OPTION_TEXT_LIMIT = 75
MAX_SELECT_OPTIONS = 100

# block-kit/block-elements/plain-text-input-element: max_length is at most 3000.
MAX_NOTES_LENGTH = 3000
MAX_REASON_TEXT_LENGTH = 3000
MAX_JOB_FIELD_LENGTH = 150
MAX_CONTACT_FIELD_LENGTH = 150

# Each negative status has its own reason list, so each has its own block id. Slack keeps a
# selection when block and action ids match, and a reason from the other list would then be
# shown although it is not one of the options.
REASON_BLOCKS = {
    Status.NOT_QUALIFIED: DELIVER_REASON_NOT_QUALIFIED_BLOCK,
    Status.NOT_INTERESTED: DELIVER_REASON_NOT_INTERESTED_BLOCK,
}

_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")
_INTEGER = re.compile(r"-?[0-9]{1,6}")


@dataclass(frozen=True)
class ApplicationChoice:
    """A job application of the contact, as the picker and the cards show it."""

    id: int
    job_title: str
    job_location: str | None = None
    source: str | None = None
    applied_at: datetime | None = None
    active: bool = False


@dataclass(frozen=True)
class ContactFacts:
    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class TeamChoice:
    id: int
    name: str


@dataclass(frozen=True)
class DeliverContext:
    """The input of step 1: the conversation's contact (None when unknown) and applications.

    `reason_override` is the workspace's replacement reason lists by status value, as
    `bot.outcomes.reasons_for` takes it.
    """

    contact: ContactFacts | None
    applications: tuple[ApplicationChoice, ...] = ()
    reason_override: Mapping[str, Sequence[str]] | None = field(default=None, compare=False)

    def application(self, application_id: int) -> ApplicationChoice | None:
        for application in self.applications:
            if application.id == application_id:
                return application
        return None

    def reasons(self, status: Status) -> tuple[str, ...]:
        return reasons_for(status, self.reason_override)


@dataclass(frozen=True)
class Step1Values:
    """The agent's entries in step 1. Text fields are stripped, and absent ones are ""."""

    application: str | None = None  # "app:<id>", "new" or "none"
    job_title: str = ""
    job_location: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    status: Status | None = None
    rating: int | None = None
    reason: str | None = None
    reason_text: str = ""
    notes: str = ""

    @property
    def application_id(self) -> int | None:
        """The id of the chosen application on file, or None for "new", "none" or no choice."""
        return parse_application_value(self.application)

    def to_data(self) -> dict[str, Any]:
        """Return the values as JSON-ready data, for a draft kept between the two steps."""
        return asdict(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Step1Values:
        """Rebuild values from `to_data` output, ignoring unknown keys."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        known["status"] = parse_status(known.get("status"))
        return cls(**known)


@dataclass(frozen=True)
class Step1Summary:
    """Step 1 as step 2 shows it at the top."""

    contact_name: str | None
    application: str
    status: Status
    rating: int | None = None
    reason: str | None = None
    reason_text: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Step2Values:
    user_ids: tuple[str, ...] = ()
    team_ids: tuple[int, ...] = ()
    emails_text: str = ""


@dataclass(frozen=True)
class EmailList:
    """The addresses in a recipient field: valid ones lower case, invalid ones as typed."""

    valid: tuple[str, ...]
    invalid: tuple[str, ...]


# Applications


def application_value(application: ApplicationChoice) -> str:
    return f"{APPLICATION_PREFIX}{application.id}"


def parse_application_value(value: str | None) -> int | None:
    """Return the application id in an "app:<id>" option value, or None for anything else."""
    if value is None or not value.startswith(APPLICATION_PREFIX):
        return None
    digits = value.removeprefix(APPLICATION_PREFIX)
    return int(digits) if digits.isdigit() else None


# Readers


def _element(state_values: Mapping[str, Any], block_id: str, action_id: str) -> Mapping[str, Any]:
    block = state_values.get(block_id)
    if not isinstance(block, Mapping):
        return {}
    element = block.get(action_id)
    return element if isinstance(element, Mapping) else {}


def _typed(state_values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    value = _element(state_values, block_id, action_id).get("value")
    return value.strip() if isinstance(value, str) else ""


def _selected(state_values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    option = _element(state_values, block_id, action_id).get("selected_option")
    if not isinstance(option, Mapping):
        return None
    value = option.get("value")
    return value if isinstance(value, str) else None


def read_step1(state_values: Mapping[str, Any]) -> Step1Values:
    """Read step 1 from `view.state.values`. A missing block reads as empty."""
    status = parse_status(_selected(state_values, DELIVER_STATUS_BLOCK, DELIVER_STATUS_INPUT))

    # The reason is read from the current status's block first, then from the other one, so
    # a reason that is in both lists survives a change between the negative statuses.
    reason_blocks = sorted(REASON_BLOCKS.items(), key=lambda item: item[0] != status)
    reason = None
    for _, block_id in reason_blocks:
        reason = _selected(state_values, block_id, DELIVER_REASON_INPUT)
        if reason is not None:
            break

    rating_value = _selected(state_values, DELIVER_RATING_BLOCK, DELIVER_RATING_INPUT)
    rating = int(rating_value) if rating_value and _INTEGER.fullmatch(rating_value) else None

    return Step1Values(
        application=_selected(state_values, DELIVER_APPLICATION_BLOCK, DELIVER_APPLICATION_INPUT),
        job_title=_typed(state_values, DELIVER_JOB_TITLE_BLOCK, DELIVER_JOB_TITLE_INPUT),
        job_location=_typed(state_values, DELIVER_JOB_LOCATION_BLOCK, DELIVER_JOB_LOCATION_INPUT),
        contact_name=_typed(state_values, DELIVER_CONTACT_NAME_BLOCK, DELIVER_CONTACT_NAME_INPUT),
        contact_email=_typed(
            state_values, DELIVER_CONTACT_EMAIL_BLOCK, DELIVER_CONTACT_EMAIL_INPUT
        ),
        contact_phone=_typed(
            state_values, DELIVER_CONTACT_PHONE_BLOCK, DELIVER_CONTACT_PHONE_INPUT
        ),
        status=status,
        rating=rating,
        reason=reason,
        reason_text=_typed(state_values, DELIVER_REASON_TEXT_BLOCK, DELIVER_REASON_TEXT_INPUT),
        notes=_typed(state_values, DELIVER_NOTES_BLOCK, DELIVER_NOTES_INPUT),
    )


def read_step2(state_values: Mapping[str, Any]) -> Step2Values:
    """Read step 2 from `view.state.values`. A missing block reads as empty."""
    users = _element(state_values, DELIVER_USERS_BLOCK, DELIVER_USERS_INPUT).get("selected_users")
    user_ids = tuple(u for u in users if isinstance(u, str)) if isinstance(users, list) else ()

    options = _element(state_values, DELIVER_TEAMS_BLOCK, DELIVER_TEAMS_INPUT).get(
        "selected_options"
    )
    team_ids: list[int] = []
    for option in options if isinstance(options, list) else []:
        value = option.get("value") if isinstance(option, Mapping) else None
        if isinstance(value, str) and value.isdigit():
            team_ids.append(int(value))

    return Step2Values(
        user_ids=user_ids,
        team_ids=tuple(team_ids),
        emails_text=_typed(state_values, DELIVER_EMAILS_BLOCK, DELIVER_EMAILS_INPUT),
    )


# Validation


def parse_email_list(text: str) -> EmailList:
    """Split addresses on commas, semicolons and whitespace, dropping repeats of any case.

    Angle brackets around an address are removed, so "<sam@example.com>" is accepted.
    """
    valid: list[str] = []
    invalid: list[str] = []
    seen: set[str] = set()
    for token in _EMAIL_SEPARATORS.split(text):
        token = token.strip().removeprefix("<").removesuffix(">")
        if not token or token.casefold() in seen:
            continue
        seen.add(token.casefold())
        address = normalize_email(token)
        if address is None:
            invalid.append(token)
        else:
            valid.append(address)
    return EmailList(valid=tuple(valid), invalid=tuple(invalid))


def _quoted(value: str) -> str:
    return f"'{shorten(single_line(value), 60)}'"


def _too_long(field_name: str, length: int, limit: int) -> str:
    excess = length - limit
    return (
        f"{field_name}: {length:,} characters, over the limit of {limit:,}. "
        f"Remove {excess:,} character{'s' if excess > 1 else ''}."
    )


def validate_step1(values: Step1Values, context: DeliverContext) -> dict[str, str]:
    """Return {block_id: message} for every problem in step 1, or {} when it can go on."""
    errors: dict[str, str] = {}
    if context.contact is None:
        errors.update(_contact_errors(values))
    else:
        errors.update(_application_errors(values, context))

    status = values.status
    if status is None:
        errors[DELIVER_STATUS_BLOCK] = "Choose a status."
        return errors

    if status.rating_required:
        if values.rating is None:
            errors[DELIVER_RATING_BLOCK] = f"Choose a rating from {MIN_RATING} to {MAX_RATING}."
        elif not MIN_RATING <= values.rating <= MAX_RATING:
            errors[DELIVER_RATING_BLOCK] = (
                f"A rating of {values.rating} is outside {MIN_RATING} to {MAX_RATING}. "
                f"Choose {MIN_RATING} to {MAX_RATING} stars."
            )

    if status.has_reason:
        reasons = context.reasons(status)
        if values.reason is None:
            errors[REASON_BLOCKS[status]] = "Choose a reason."
        elif values.reason not in reasons:
            errors[REASON_BLOCKS[status]] = (
                f"{_quoted(values.reason)} is not a reason for {status.label}. "
                "Choose one from the list."
            )
        if not values.reason_text:
            errors[DELIVER_REASON_TEXT_BLOCK] = "Describe the reason in your own words."
        elif len(values.reason_text) > MAX_REASON_TEXT_LENGTH:
            length = len(values.reason_text)
            errors[DELIVER_REASON_TEXT_BLOCK] = _too_long(
                "Reason in your words", length, MAX_REASON_TEXT_LENGTH
            )

    if status.notes_required and not values.notes:
        errors[DELIVER_NOTES_BLOCK] = (
            f"Notes are required for {status.label}: {_NOTES_NEED[status]}"
        )
    elif len(values.notes) > MAX_NOTES_LENGTH:
        errors[DELIVER_NOTES_BLOCK] = _too_long("Notes", len(values.notes), MAX_NOTES_LENGTH)
    return errors


_NOTES_NEED = {
    Status.QUALIFIED: "say what makes the candidate a fit.",
    Status.REVIEW: "say what the reviewer should check.",
    Status.SPAM: "say why this is spam.",
    Status.OTHER: "say what happened.",
}


def _application_errors(values: Step1Values, context: DeliverContext) -> dict[str, str]:
    if values.application is None:
        return {
            DELIVER_APPLICATION_BLOCK: "Choose an application, New application or No application."
        }
    if values.application == NEW_APPLICATION:
        if not values.job_title:
            return {DELIVER_JOB_TITLE_BLOCK: "Enter the job title of the new application."}
        return _job_length_errors(values)
    if values.application == NO_APPLICATION:
        return {}
    chosen = values.application_id
    if chosen is None or context.application(chosen) is None:
        return {DELIVER_APPLICATION_BLOCK: "That application is no longer on file. Choose another."}
    return {}


def _job_length_errors(values: Step1Values) -> dict[str, str]:
    errors = {}
    if len(values.job_title) > MAX_JOB_FIELD_LENGTH:
        length = len(values.job_title)
        errors[DELIVER_JOB_TITLE_BLOCK] = _too_long("Job title", length, MAX_JOB_FIELD_LENGTH)
    if len(values.job_location) > MAX_JOB_FIELD_LENGTH:
        length = len(values.job_location)
        errors[DELIVER_JOB_LOCATION_BLOCK] = _too_long("Job location", length, MAX_JOB_FIELD_LENGTH)
    return errors


def _contact_errors(values: Step1Values) -> dict[str, str]:
    errors = _job_length_errors(values)
    if not values.contact_name:
        errors[DELIVER_CONTACT_NAME_BLOCK] = "Enter the contact's name."
    if not values.contact_email and not values.contact_phone:
        errors[DELIVER_CONTACT_EMAIL_BLOCK] = (
            "Enter an email address or a phone number, so the contact can be found again."
        )
    if values.contact_email and normalize_email(values.contact_email) is None:
        errors[DELIVER_CONTACT_EMAIL_BLOCK] = (
            f"{_quoted(values.contact_email)} is not a valid email address. "
            "Enter it as name@example.com."
        )
    if values.contact_phone and normalize_phone(values.contact_phone) is None:
        errors[DELIVER_CONTACT_PHONE_BLOCK] = (
            f"{_quoted(values.contact_phone)} is not a valid phone number. Enter 7 to 15 digits, "
            "optionally after a +. Spaces, dots, dashes and brackets are allowed."
        )
    return errors


def validate_step2(
    values: Step2Values, *, status: Status, required_override: Mapping[str, bool] | None = None
) -> dict[str, str]:
    """Return {block_id: message} for every problem in step 2, or {} when it can be delivered.

    Whether a recipient is required follows `bot.outcomes.recipient_required` for `status`.
    """
    errors: dict[str, str] = {}
    emails = parse_email_list(values.emails_text)
    if emails.invalid:
        errors[DELIVER_EMAILS_BLOCK] = _invalid_emails_message(emails.invalid)

    has_recipient = bool(values.user_ids or values.team_ids or emails.valid)
    if not has_recipient and recipient_required(status, required_override):
        errors[DELIVER_USERS_BLOCK] = (
            f"Deliveries marked {status.label} need a recipient. "
            "Choose a Slack user or a team, or enter an email address."
        )
    return errors


def _invalid_emails_message(invalid: Sequence[str]) -> str:
    listed = [_quoted(value) for value in invalid[:5]]
    if len(invalid) == 1:
        return f"{listed[0]} is not a valid email address. Correct it or remove it."
    more = f" and {len(invalid) - len(listed)} more" if len(invalid) > len(listed) else ""
    return (
        f"These are not valid email addresses: {', '.join(listed)}{more}. "
        "Correct them or remove them."
    )
