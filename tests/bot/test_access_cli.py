"""`caretbot access list|revoke`: the command functions, and the command as a user runs it."""

import io
from datetime import timedelta

import pytest

from bot.access_cli import list_access_command, revoke_access_command
from bot.records import RecordsError
from storage.access import (
    LINK,
    SESSION,
    TokenState,
    check_token,
    grant_delivery,
    issue_token,
    restricted_user,
)
from tests.bot.test_cli import caretbot_env, run_caretbot
from tests.storage.test_access import deliver_to_email


@pytest.fixture
def granted(session_scope):
    """Deliver two conversations to one address and give it a link and a session."""
    with session_scope() as session:
        first_conversation, first_delivery, first = deliver_to_email(
            session, "Manager@Client.example", "V1"
        )
        second_conversation, _, second = deliver_to_email(
            session, "manager@client.example", "V2", thread_ts="1700000000.000200"
        )
        grant_delivery(session, first, workspace_id="T1", conversation_id=first_conversation.id)
        user = grant_delivery(
            session, second, workspace_id="T1", conversation_id=second_conversation.id
        )
        link, _ = issue_token(session, user.id, LINK, timedelta(days=14))
        portal_session, _ = issue_token(session, user.id, SESSION, timedelta(hours=12))
    return {"link": link, "session": portal_session, "first_delivery": first_delivery}


def run(command, session_scope, **options):
    out = io.StringIO()
    status = command(session_scope, out, **options)
    return status, out.getvalue()


def test_list_counts_live_access(session_scope, granted):
    status, output = run(list_access_command, session_scope)

    header, row = output.splitlines()
    assert status == 0
    assert header.split() == ["EMAIL", "CONVERSATIONS", "LINKS", "SESSIONS", "SINCE"]
    assert row.split()[:4] == ["manager@client.example", "2", "1", "1"]


def test_list_one_address_in_detail(session_scope, granted):
    status, output = run(list_access_command, session_scope, email="MANAGER@client.example")

    assert status == 0
    assert output.startswith("manager@client.example, restricted user since ")
    assert f"delivery {granted['first_delivery'].id}: channel " in output
    assert output.count(", open") == 2
    assert "  link " in output
    assert "  session " in output
    assert output.count("valid until") == 2


def test_list_unknown_address_rejected(session_scope, granted):
    with pytest.raises(RecordsError) as raised:
        run(list_access_command, session_scope, email="nobody@client.example")

    assert "nobody@client.example has no access" in str(raised.value)


def test_list_empty(session_scope):
    status, output = run(list_access_command, session_scope)

    assert status == 0
    assert output.startswith("No restricted users")


def test_revoke_withdraws_everything(session_scope, granted):
    status, output = run(revoke_access_command, session_scope, email=" Manager@CLIENT.example")

    assert status == 0
    assert "Revoked the access of manager@client.example: 2 conversation(s)" in output
    assert "2 link(s) and session(s)" in output
    with session_scope() as session:
        assert check_token(session, granted["link"], LINK).state is TokenState.REVOKED
        assert check_token(session, granted["session"], SESSION).state is TokenState.REVOKED
    _status, listing = run(list_access_command, session_scope)
    assert listing.splitlines()[1].split()[:4] == ["manager@client.example", "0", "0", "0"]
    _status, detail = run(list_access_command, session_scope, email="manager@client.example")
    assert ", open" not in detail
    assert detail.count("revoked ") == 4


def test_revoke_unknown_address_rejected(session_scope):
    with pytest.raises(RecordsError) as raised:
        run(revoke_access_command, session_scope, email="nobody@client.example")

    assert "nobody@client.example has no access" in str(raised.value)


def test_access_commands_run(tmp_path, db_url, granted):
    if not db_url.startswith("sqlite"):
        pytest.skip("the subprocess test runs once, on the SQLite file")
    env = caretbot_env(None, tmp_path, DATABASE_URL=db_url)

    listed = run_caretbot("access", "list", env=env, cwd=tmp_path)
    revoked = run_caretbot("access", "revoke", "manager@client.example", env=env, cwd=tmp_path)
    again = run_caretbot("access", "revoke", "nobody@client.example", env=env, cwd=tmp_path)

    assert listed.returncode == 0, listed.stderr
    assert "manager@client.example" in listed.stdout
    assert revoked.returncode == 0, revoked.stderr
    assert "Revoked the access of manager@client.example" in revoked.stdout
    assert again.returncode == 2
    assert "caretbot: nobody@client.example has no access" in again.stderr


def test_invalid_address_named_in_error(session_scope):
    with pytest.raises(RecordsError) as raised:
        run(list_access_command, session_scope, email="not-an-email")

    assert "'not-an-email' is not an email address" in str(raised.value)


def test_revoke_finds_stored_odd_spelling(session_scope):
    # Addresses stored before the stricter check can still be revoked as they were stored.
    with session_scope() as session:
        restricted_user(session, '"ann"@example.com')

    status, output = run(revoke_access_command, session_scope, email='"ann"@example.com')

    assert status == 0
    assert 'Revoked the access of "ann"@example.com' in output
