from datetime import UTC, datetime, timedelta

from storage.access import (
    LINK,
    SESSION,
    TokenState,
    active_grants,
    check_token,
    find_restricted_user,
    grant_delivery,
    hash_token,
    issue_token,
    revoke_access,
    revoke_token,
)
from storage.deliveries import NewRecipient, create_delivery, list_recipients
from storage.models import AccessToken
from tests.storage.test_deliveries import a_conversation, new_delivery

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def deliver_to_email(session, email, key, thread_ts="1700000000.000100"):
    conversation = a_conversation(session, thread_ts=thread_ts)
    recipients = [NewRecipient(kind="email", email=email)]
    delivery, _ = create_delivery(session, new_delivery(conversation, key, recipients=recipients))
    (recipient,) = list_recipients(session, delivery.id)
    return conversation, delivery, recipient


def test_one_restricted_user_per_address_whatever_the_case(session_scope):
    with session_scope() as session:
        first_conversation, _, first = deliver_to_email(session, "Ann@Example.com", "V1")
        second_conversation, _, second = deliver_to_email(
            session, "ann@example.COM ", "V2", thread_ts="1700000000.000200"
        )
        first_user = grant_delivery(
            session, first, workspace_id="T1", conversation_id=first_conversation.id
        )
        second_user = grant_delivery(
            session, second, workspace_id="T1", conversation_id=second_conversation.id
        )
        # Granting the same delivery again adds nothing.
        grant_delivery(session, first, workspace_id="T1", conversation_id=first_conversation.id)

    with session_scope() as session:
        grants = active_grants(session, first_user.id)
        assert first_user.id == second_user.id
        assert find_restricted_user(session, "ANN@example.com").email == "ann@example.com"
        assert sorted(g.conversation_id for g in grants) == sorted(
            [first_conversation.id, second_conversation.id]
        )


def test_only_the_hash_of_a_token_is_stored(session_scope):
    with session_scope() as session:
        _, _, recipient = deliver_to_email(session, "ann@example.com", "V1")
        user = grant_delivery(session, recipient, workspace_id="T1", conversation_id=1)
        raw, token = issue_token(session, user.id, LINK, timedelta(days=14), now=NOW)

    with session_scope() as session:
        stored = session.get(AccessToken, token.id)
        assert stored.token_hash == hash_token(raw) != raw
        assert raw not in (stored.token_hash, stored.csrf_token)
        assert stored.expires_at == NOW + timedelta(days=14)


def test_token_valid_until_expired_or_revoked(session_scope):
    with session_scope() as session:
        _, _, recipient = deliver_to_email(session, "ann@example.com", "V1")
        user = grant_delivery(session, recipient, workspace_id="T1", conversation_id=1)
        raw, token = issue_token(session, user.id, SESSION, timedelta(hours=1), now=NOW)

    with session_scope() as session:
        valid = check_token(session, raw, SESSION, now=NOW + timedelta(minutes=59))
        expired = check_token(session, raw, SESSION, now=NOW + timedelta(hours=1))
        wrong_purpose = check_token(session, raw, LINK, now=NOW)
        unknown = check_token(session, raw + "x", SESSION, now=NOW)
        revoke_token(session, token.id, now=NOW)

    with session_scope() as session:
        revoked = check_token(session, raw, SESSION, now=NOW)

    assert (valid.state, valid.user.email) == (TokenState.VALID, "ann@example.com")
    assert valid.token.csrf_token
    assert expired.state is TokenState.EXPIRED
    assert expired.user is None
    assert wrong_purpose.state is TokenState.UNKNOWN
    assert unknown.state is TokenState.UNKNOWN
    assert revoked.state is TokenState.REVOKED


def test_revoking_an_address_withdraws_grants_links_and_sessions(session_scope):
    with session_scope() as session:
        conversation, _, recipient = deliver_to_email(session, "ann@example.com", "V1")
        user = grant_delivery(
            session, recipient, workspace_id="T1", conversation_id=conversation.id
        )
        link, _ = issue_token(session, user.id, LINK, timedelta(days=14), now=NOW)
        cookie, _ = issue_token(session, user.id, SESSION, timedelta(days=1), now=NOW)

    with session_scope() as session:
        revoked = revoke_access(session, "Ann@example.com", now=NOW)
        nobody = revoke_access(session, "bob@example.com", now=NOW)

    with session_scope() as session:
        assert (revoked.grants, revoked.tokens) == (1, 2)
        assert nobody is None
        assert active_grants(session, user.id) == []
        assert check_token(session, link, LINK, now=NOW).state is TokenState.REVOKED
        assert check_token(session, cookie, SESSION, now=NOW).state is TokenState.REVOKED
