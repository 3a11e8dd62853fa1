import logging

import pytest

from bot.outcomes import (
    DEFAULT_REASONS,
    DEFAULT_RECIPIENT_REQUIRED,
    MAX_REASON_LENGTH,
    MAX_REASONS,
    OTHER_REASON,
    Status,
    parse_status,
    reasons_for,
    recipient_required,
    stars,
)

NEGATIVE = [Status.NOT_QUALIFIED, Status.NOT_INTERESTED]


def test_status_stored_values_are_fixed():
    assert [status.value for status in Status] == [
        "qualified",
        "not_qualified",
        "not_interested",
        "review",
        "spam",
        "other",
    ]


def test_status_labels():
    assert [status.label for status in Status] == [
        "Qualified",
        "Not Qualified",
        "Not Interested",
        "Review",
        "Spam",
        "Other",
    ]


@pytest.mark.parametrize(
    ("status", "notes", "rating", "reason"),
    [
        (Status.QUALIFIED, True, True, False),
        (Status.REVIEW, True, True, False),
        (Status.NOT_QUALIFIED, False, False, True),
        (Status.NOT_INTERESTED, False, False, True),
        (Status.SPAM, True, False, False),
        (Status.OTHER, True, False, False),
    ],
)
def test_status_rules(status, notes, rating, reason):
    assert status.notes_required is notes
    assert status.rating_required is rating
    assert status.has_reason is reason


@pytest.mark.parametrize("value", ["qualified", "spam", Status.REVIEW])
def test_parse_status_known(value):
    assert parse_status(value) == Status(value)


@pytest.mark.parametrize("value", [None, "", "Qualified", "hired", 3])
def test_parse_status_unknown_is_none(value):
    assert parse_status(value) is None


@pytest.mark.parametrize(
    ("rating", "shown"),
    [(1, "★☆☆☆☆"), (4, "★★★★☆"), (5, "★★★★★"), (0, "☆☆☆☆☆"), (9, "★★★★★")],
)
def test_stars(rating, shown):
    assert stars(rating) == shown


@pytest.mark.parametrize("status", NEGATIVE)
def test_default_reasons_end_with_other(status):
    reasons = DEFAULT_REASONS[status]

    assert reasons[-1] == OTHER_REASON
    assert len(reasons) > 3
    assert len(set(reasons)) == len(reasons)
    assert all(len(reason) <= MAX_REASON_LENGTH for reason in reasons)


@pytest.mark.parametrize("status", [Status.QUALIFIED, Status.REVIEW, Status.SPAM, Status.OTHER])
def test_reasons_for_status_without_list_is_empty(status):
    assert reasons_for(status, {status.value: ["Something"]}) == ()


def test_reasons_for_defaults_without_override():
    assert reasons_for(Status.NOT_QUALIFIED) == DEFAULT_REASONS[Status.NOT_QUALIFIED]
    assert reasons_for(Status.NOT_QUALIFIED, {}) == DEFAULT_REASONS[Status.NOT_QUALIFIED]
    assert (
        reasons_for(Status.NOT_INTERESTED, {"not_qualified": ["X"]})
        == DEFAULT_REASONS[Status.NOT_INTERESTED]
    )


def test_reasons_for_override_appends_other():
    reasons = reasons_for(Status.NOT_QUALIFIED, {"not_qualified": ["No license", "Too junior"]})

    assert reasons == ("No license", "Too junior", "Other")


def test_reasons_for_override_moves_other_last():
    reasons = reasons_for(Status.NOT_INTERESTED, {"not_interested": ["other", "Moved", "OTHER"]})

    assert reasons == ("Moved", "Other")


def test_reasons_for_override_drops_blanks_and_repeats():
    override = {"not_qualified": ["  Too  junior ", "", "   ", "too junior", 7, None, "Visa"]}

    assert reasons_for(Status.NOT_QUALIFIED, override) == ("Too junior", "Visa", "Other")


def test_reasons_for_override_shortens_long_reason():
    reasons = reasons_for(Status.NOT_QUALIFIED, {"not_qualified": ["x" * 200]})

    assert len(reasons[0]) == MAX_REASON_LENGTH
    assert reasons[0].endswith("…")


def test_reasons_for_empty_override_is_only_other():
    assert reasons_for(Status.NOT_QUALIFIED, {"not_qualified": []}) == ("Other",)


def test_reasons_for_caps_at_select_limit(caplog):
    override = {"not_qualified": [f"Reason {n}" for n in range(150)]}

    with caplog.at_level(logging.WARNING, logger="bot.outcomes"):
        reasons = reasons_for(Status.NOT_QUALIFIED, override)

    assert len(reasons) == MAX_REASONS
    assert reasons[-1] == "Other"
    assert "dropped workspace reasons" in caplog.text


@pytest.mark.parametrize("broken", ["Too junior", {"a": 1}, 42, None])
def test_reasons_for_ignores_malformed_override(broken, caplog):
    with caplog.at_level(logging.WARNING, logger="bot.outcomes"):
        reasons = reasons_for(Status.NOT_QUALIFIED, {"not_qualified": broken})

    assert reasons == DEFAULT_REASONS[Status.NOT_QUALIFIED]
    assert "ignored workspace reasons" in caplog.text


def test_recipient_required_defaults():
    required = {status for status in Status if recipient_required(status)}

    assert required == {Status.QUALIFIED, Status.REVIEW}
    assert set(DEFAULT_RECIPIENT_REQUIRED) == set(Status)


def test_recipient_required_override():
    override = {"spam": True, "qualified": False}

    assert recipient_required(Status.SPAM, override) is True
    assert recipient_required(Status.QUALIFIED, override) is False
    assert recipient_required(Status.REVIEW, override) is True


@pytest.mark.parametrize("value", ["yes", 1, None, "false"])
def test_recipient_required_ignores_non_bool_override(value):
    assert recipient_required(Status.QUALIFIED, {"qualified": value}) is True
