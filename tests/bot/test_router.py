import pytest

from bot.router import COMMAND_NAMES, is_typed_by_person, parse_command, suggest_command


@pytest.mark.parametrize("name", COMMAND_NAMES)
def test_parse_each_command_name(name):
    command = parse_command(f"^{name}")

    assert command is not None
    assert command.name == name
    assert command.argument == ""


@pytest.mark.parametrize("typed", ["^DELIVER", "^Deliver", "^dElIvEr"])
def test_parse_ignores_letter_case(typed):
    command = parse_command(typed)

    assert command is not None
    assert command.name == "deliver"
    assert command.word == typed[1:]


@pytest.mark.parametrize(
    ("text", "argument"),
    [
        ("^note call back on Monday", "call back on Monday"),
        ("^note   spaced   out  ", "spaced   out"),
        ("^note\nfirst line\nsecond line", "first line\nsecond line"),
        ("^note\tafter a tab", "after a tab"),
    ],
)
def test_parse_argument_after_whitespace(text, argument):
    command = parse_command(text)

    assert command is not None
    assert command.name == "note"
    assert command.argument == argument


@pytest.mark.parametrize("word", ["delivr", "deliverable", "notes", "x", "deliver!"])
def test_parse_unknown_word_is_unknown_command(word):
    command = parse_command(f"^{word} something")

    assert command is not None
    assert command.name is None
    assert command.word == word


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "hello ^deliver",
        "please ^help",
        "^ deliver",
        "^^",
        "^_^",
        "^1deliver",
        "^",
        "`^deliver`",
        "```^deliver```",
        "> ^deliver",
        "^-^",
        "^.^",
    ],
)
def test_parse_chat_is_no_command(text):
    assert parse_command(text) is None


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("delivr", "deliver"),
        ("deliverable", "deliver"),
        ("clam", "claim"),
        ("notes", "note"),
        ("transcrpt", "transcript"),
        ("stats", "stat"),
        ("zzzz", None),
    ],
)
def test_suggest_closest_command(word, expected):
    assert suggest_command(word) == expected


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"user": "U1", "text": "^help"}, True),
        ({"user": "U1", "subtype": "thread_broadcast"}, True),
        ({"user": "U1", "subtype": "file_share"}, True),
        ({"user": "UBOT"}, False),
        ({"user": "U1", "bot_id": "B1"}, False),
        ({"subtype": "bot_message", "bot_id": "B1"}, False),
        ({"subtype": "message_changed", "message": {"user": "U1"}}, False),
        ({"subtype": "message_deleted"}, False),
        ({"user": "U1", "subtype": "channel_join"}, False),
        ({"text": "^help"}, False),
    ],
)
def test_typed_by_person(event, expected):
    assert is_typed_by_person(event, "UBOT") is expected
