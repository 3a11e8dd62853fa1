from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.views.text import (
    TIME_ON_DATE,
    escape_mrkdwn,
    mrkdwn_link,
    shorten,
    single_line,
    slack_date,
    split_for_sections,
    user_mention,
)


@pytest.mark.parametrize(
    ("typed", "escaped"),
    [
        ("plain words", "plain words"),
        ("<!channel>", "&lt;!channel&gt;"),
        ("<@U123>", "&lt;@U123&gt;"),
        ("<!here|here>", "&lt;!here|here&gt;"),
        ("Tom & Jerry", "Tom &amp; Jerry"),
        ("&amp;", "&amp;amp;"),
        ("a < b > c", "a &lt; b &gt; c"),
        ("<https://evil.example|click>", "&lt;https://evil.example|click&gt;"),
    ],
)
def test_escape_mrkdwn_cases(typed, escaped):
    assert escape_mrkdwn(typed) == escaped


def test_escape_mrkdwn_leaves_no_control_characters():
    escaped = escape_mrkdwn("<!channel> <@U1> <#C1> & more")

    assert "<" not in escaped
    assert ">" not in escaped
    assert escaped.count("&") == escaped.count("&amp;") + escaped.count("&lt;") + escaped.count(
        "&gt;"
    )


def _entities_whole(chunk: str) -> bool:
    index = chunk.find("&")
    while index != -1:
        if not chunk.startswith(("&amp;", "&lt;", "&gt;"), index):
            return False
        index = chunk.find("&", index + 1)
    return True


def test_split_short_text_is_one_chunk():
    assert split_for_sections("hello there") == ["hello there"]


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_split_blank_text_is_no_chunks(text):
    assert split_for_sections(text) == []


def test_split_prefers_line_breaks():
    text = "a" * 60 + "\n" + "b" * 30 + " " + "c" * 20

    chunks = split_for_sections(text, limit=100)

    assert chunks == ["a" * 60, "b" * 30 + " " + "c" * 20]


def test_split_falls_back_to_spaces():
    words = " ".join(["word"] * 100)

    chunks = split_for_sections(words, limit=50)

    assert all(len(chunk) <= 50 for chunk in chunks)
    assert all(not chunk.startswith(" ") and not chunk.endswith(" ") for chunk in chunks)
    assert " ".join(chunks) == words


@pytest.mark.parametrize("character", ["&", "<", ">", "x"])
def test_split_without_whitespace_keeps_entities_whole(character):
    escaped = escape_mrkdwn(character * 3000)

    chunks = split_for_sections(escaped)

    assert len(chunks) > 1 or character == "x"
    assert all(len(chunk) <= 3000 for chunk in chunks)
    assert all(_entities_whole(chunk) for chunk in chunks)
    assert "".join(chunks) == escaped


@pytest.mark.parametrize("limit", [7, 8, 9, 10, 11])
def test_split_cut_never_lands_inside_entity(limit):
    escaped = escape_mrkdwn("a&b<c>d&&e" * 20)

    chunks = split_for_sections(escaped, limit=limit)

    assert all(len(chunk) <= limit for chunk in chunks)
    assert all(_entities_whole(chunk) for chunk in chunks)
    assert "".join(chunks) == escaped


def test_split_mixed_text_loses_only_whitespace_at_cuts():
    text = escape_mrkdwn(("Notes <!channel> & <@U1> > all\n" * 200).strip())

    chunks = split_for_sections(text, limit=500)

    assert all(len(chunk) <= 500 for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(
        " ", ""
    )


def test_split_rejects_tiny_limit():
    with pytest.raises(ValueError, match="too small"):
        split_for_sections("text", limit=5)


def test_shorten_keeps_short_text():
    assert shorten("short", 10) == "short"
    assert shorten("exactly10!", 10) == "exactly10!"


def test_shorten_cuts_on_word_boundary():
    shortened = shorten("the quick brown fox jumps over", 20)

    assert shortened == "the quick brown fox…"
    assert len(shortened) <= 20


def test_shorten_cuts_long_word_hard():
    shortened = shorten("x" * 50, 10)

    assert shortened == "x" * 9 + "…"


def test_shorten_rejects_zero_limit():
    with pytest.raises(ValueError, match="too small"):
        shorten("text", 0)


def test_single_line_collapses_whitespace():
    assert single_line("  a\n\nb\t c  ") == "a b c"


def test_user_mention_of_user_id():
    assert user_mention("U012AB3CD") == "<@U012AB3CD>"
    assert user_mention("W012AB3CD") == "<@W012AB3CD>"


def test_user_mention_escapes_other_text():
    assert user_mention("<!channel>") == "&lt;!channel&gt;"


def test_slack_date_uses_tokens_and_utc_fallback():
    moment = datetime(2024, 3, 4, 9, 30, tzinfo=UTC)

    text = slack_date(moment)

    assert text == "<!date^1709544600^{date_short_pretty} at {time}|2024-03-04 09:30 UTC>"


def test_slack_date_converts_other_zones():
    moment = datetime(2024, 3, 4, 11, 30, tzinfo=timezone(timedelta(hours=2)))

    assert slack_date(moment) == slack_date(datetime(2024, 3, 4, 9, 30, tzinfo=UTC))


def test_slack_date_takes_naive_as_utc():
    naive = datetime(2024, 3, 4, 9, 30)

    assert slack_date(naive) == slack_date(naive.replace(tzinfo=UTC))


def test_slack_date_custom_tokens():
    text = slack_date(datetime(2024, 3, 4, 9, 30, tzinfo=UTC), TIME_ON_DATE)

    assert text.startswith("<!date^1709544600^{time} on {date_short_pretty}|")


def test_mrkdwn_link_escapes_url_and_label():
    link = mrkdwn_link("https://x.slack.com/archives/C1/p1?thread_ts=1.2&cid=C1", "A <b> & c")

    assert (
        link == "<https://x.slack.com/archives/C1/p1?thread_ts=1.2&amp;cid=C1|A &lt;b&gt; &amp; c>"
    )
