import pytest

from bot.slack_text import mentioned_user_ids, to_plain

USER_NAMES = {"U123": "Ann Agent", "W456": "Rita Recruiter", "U789": "Tom & <Jerry>"}
CHANNEL_NAMES = {"C123": "general"}
USERGROUP_NAMES = {"S123": "recruiters"}


def plain(text):
    return to_plain(
        text,
        user_names=USER_NAMES,
        channel_names=CHANNEL_NAMES,
        usergroup_names=USERGROUP_NAMES,
    )


@pytest.mark.parametrize(
    ("markup", "expected"),
    [
        # Users: the mapped name wins, then the label, then the id.
        ("<@U123>", "@Ann Agent"),
        ("<@U123|ann>", "@Ann Agent"),
        ("<@W456>", "@Rita Recruiter"),
        ("<@U999|bob>", "@bob"),
        ("<@U999|@bob>", "@bob"),
        ("<@U999>", "@U999"),
        ("<@U999|>", "@U999"),
        # Channels.
        ("<#C123>", "#general"),
        ("<#C123|old-name>", "#general"),
        ("<#C999|hiring>", "#hiring"),
        ("<#C999>", "#C999"),
        ("<#C999|>", "#C999"),
        # Special mentions, with and without the legacy label.
        ("<!here>", "@here"),
        ("<!channel>", "@channel"),
        ("<!everyone>", "@everyone"),
        ("<!here|here>", "@here"),
        ("<!channel|@channel>", "@channel"),
        # User groups.
        ("<!subteam^S123>", "@recruiters"),
        ("<!subteam^S123|@old-handle>", "@recruiters"),
        ("<!subteam^S999|@sourcers>", "@sourcers"),
        ("<!subteam^S999|sourcers>", "@sourcers"),
        ("<!subteam^S999>", "@S999"),
        # A date shows its fallback text, or the time in UTC when it has none.
        ("<!date^1700000000^{date_short}|Nov 14, 2023>", "Nov 14, 2023"),
        ("<!date^1700000000^{date} at {time}^https://x.y/e|Nov 14>", "Nov 14"),
        ("<!date^1700000000^{date}>", "2023-11-14 22:13 UTC"),
        ("<!date^soon^{date}>", "<!date^soon^{date}>"),
        # Unknown special commands keep their label, or are kept as written.
        ("<!unknown|Something>", "Something"),
        ("<!unknown>", "<!unknown>"),
        # Links.
        ("<https://x.y|label>", "label (https://x.y)"),
        ("<https://x.y>", "https://x.y"),
        ("<https://x.y|https://x.y>", "https://x.y"),
        ("<http://example.com|example.com>", "http://example.com"),
        ("<https://x.y/a?b=1&amp;c=2|A &amp; B>", "A & B (https://x.y/a?b=1&c=2)"),
        ("<https://x.y/p|label|with pipe>", "label|with pipe (https://x.y/p)"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("<mailto:a@b.c>", "a@b.c"),
        ("<mailto:a@b.c|Ann>", "Ann (a@b.c)"),
        ("<tel:+15550100|call me>", "call me (tel:+15550100)"),
    ],
)
def test_to_plain_markup_forms(markup, expected):
    assert plain(markup) == expected


@pytest.mark.parametrize(
    ("escaped", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("a &lt; b &gt; c", "a < b > c"),
        # An escaped token reads as typed and is not a mention.
        ("&lt;@U123&gt;", "<@U123>"),
        ("&lt;!channel&gt;", "<!channel>"),
        # Entities decode once, so a typed "&lt;" stays "&lt;".
        ("&amp;lt;", "&lt;"),
        ("&amp;amp;", "&amp;"),
        # Other entities are not Slack's and stay as they are.
        ("&quot;hi&quot; &nbsp;", "&quot;hi&quot; &nbsp;"),
        ("& alone", "& alone"),
    ],
)
def test_to_plain_entities(escaped, expected):
    assert plain(escaped) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # An unescaped "<", as an app may post it, starts no token.
        ("a < b > c", "a < b > c"),
        ("<not a token>", "<not a token>"),
        ("<>", "<>"),
        ("<@>", "<@>"),
        ("<#>", "<#>"),
        ("unclosed <@U123", "unclosed <@U123"),
        # A token is the innermost pair, so the outer brackets stay.
        ("<<@U123>>", "<@Ann Agent>"),
        ("<@U123><#C123>", "@Ann Agent#general"),
        ("", ""),
        ("no markup at all", "no markup at all"),
    ],
)
def test_to_plain_edge_cases(text, expected):
    assert plain(text) == expected


def test_to_plain_mixed_message():
    text = (
        "<!here> <@U123> moved <@U999|bob> to <#C123>: see "
        "<https://jobs.example/1?a=1&amp;b=2|the req> &amp; mail <mailto:hr@x.y|hr@x.y>\n"
        "<!subteam^S123|@recruiters> by <!date^1700000000^{date}|Nov 14>"
    )

    assert plain(text) == (
        "@here @Ann Agent moved @bob to #general: see "
        "the req (https://jobs.example/1?a=1&b=2) & mail hr@x.y\n"
        "@recruiters by Nov 14"
    )


def test_to_plain_names_inserted_verbatim():
    # A name from the mapping is plain text already, so it is not decoded again.
    assert to_plain("<@U1>", user_names={"U1": "R&amp;D"}) == "@R&amp;D"
    assert plain("<@U789>") == "@Tom & <Jerry>"


def test_to_plain_labels_decoded():
    assert plain("<@U999|Tom &amp; Jerry>") == "@Tom & Jerry"
    assert plain("<#C999|r&amp;d>") == "#r&d"


def test_to_plain_default_mappings():
    assert to_plain("<#C123|general> <!subteam^S1|@hr>", user_names={}) == "#general @hr"


def test_mentioned_user_ids_finds_users():
    text = "<@U123> <@W456|rita> <@U123> <#C123> <!subteam^S123> <!here>"

    assert mentioned_user_ids(text) == {"U123", "W456"}


def test_mentioned_user_ids_ignores_escaped():
    assert mentioned_user_ids("&lt;@U123&gt; <@> plain @U456") == set()
