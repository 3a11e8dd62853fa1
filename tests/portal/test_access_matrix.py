"""Who may see what: every portal route with every kind of visitor and every kind of id.

Two restricted users each have one delivered conversation, and a third conversation was
delivered to a Slack user only. Nobody may see what was not delivered to them, and a 404 for
someone else's id reads exactly like a 404 for an id that does not exist.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.portal.security import SESSION_COOKIE
from bot.slackdouble.payloads import new_ts
from storage import access
from storage.models import AccessGrant, AccessToken, DeliveryRecipient
from tests.portal.support import (
    ANN,
    BEN,
    PortalClient,
    csrf_of,
    issue_link,
    seed_delivery,
    signed_in_client,
)

UNKNOWN_IDS = ["999999", "0", "-1", "abc", "1.0", "1e3", "0x1", "9" * 40, "%20", "1%00"]


@dataclass(frozen=True)
class World:
    ann: object
    ben: object
    slack_only: object


@pytest.fixture
def world(bot):
    ann = seed_delivery(
        bot.session_scope,
        email=ANN,
        thread_ts=new_ts(),
        contact_name="Ann's",
        message="a",
        note="n",
    )
    ben = seed_delivery(
        bot.session_scope,
        email=BEN,
        thread_ts=new_ts(),
        contact_name="Ben's",
        message="b",
        note="n",
    )
    slack_only = seed_delivery(
        bot.session_scope,
        email="carol@agency.example",
        thread_ts=new_ts(),
        contact_name="Carol's",
        message="c",
        note="n",
        grant=False,
    )
    return World(ann=ann, ben=ben, slack_only=slack_only)


def read_routes(seeded):
    """The GET routes that show something of a delivery or conversation, for one seeded one."""
    return [
        f"/portal/deliveries/{seeded.delivery_id}",
        f"/portal/deliveries/{seeded.delivery_id}/transcript.txt",
        f"/portal/conversations/{seeded.conversation_id}",
    ]


def id_routes(value):
    return [
        f"/portal/deliveries/{value}",
        f"/portal/deliveries/{value}/transcript.txt",
        f"/portal/conversations/{value}",
    ]


def accepted(bot, seeded):
    with bot.session_scope() as session:
        return session.get(DeliveryRecipient, seeded.recipient_id).accepted_by is not None


def test_owner_reads_own(bot, world):
    for email, seeded in ((ANN, world.ann), (BEN, world.ben)):
        client = signed_in_client(bot, email)
        for path in read_routes(seeded):
            response = client.get(path)
            assert response.status_code in (200, 303), (email, path, response.status_code)
            if response.status_code == 303:
                assert client.follow(response).status_code == 200


def test_others_ids_not_found(bot, world):
    client = signed_in_client(bot, ANN)
    reference = client.get("/portal/deliveries/999999")
    assert reference.status_code == 404

    for seeded in (world.ben, world.slack_only):
        for path in read_routes(seeded):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.text == reference.text, path


def test_unknown_ids_not_found(bot, world):
    client = signed_in_client(bot, ANN)
    reference = client.get("/portal/deliveries/999999").text

    for value in UNKNOWN_IDS:
        for path in id_routes(value):
            response = client.get(path)
            assert response.status_code == 404, path
            assert response.text == reference, path


def test_ids_of_other_kinds_not_found(bot, world):
    """A conversation id used as a delivery id, and the other way round, finds nothing."""
    client = signed_in_client(bot, ANN)
    reference = client.get("/portal/deliveries/999999").text
    ann = world.ann
    wrong = [
        f"/portal/deliveries/{world.ben.delivery_id}",
        f"/portal/conversations/{world.ben.conversation_id}",
        f"/portal/deliveries/{ann.recipient_id + 100}",
        "/portal/files/1",
        f"/portal/deliveries/{ann.delivery_id}/files/1",
        f"/portal/deliveries/{ann.delivery_id}/transcript.pdf",
    ]

    for path in wrong:
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.text == reference, path


def test_accept_others_not_found(bot, world):
    client = signed_in_client(bot, ANN)
    token = csrf_of(client.get("/portal/deliveries"))
    reference = client.get("/portal/deliveries/999999").text

    for seeded in (world.ben, world.slack_only):
        response = client.post(
            f"/portal/deliveries/{seeded.delivery_id}/accept", {"csrf_token": token}
        )
        assert response.status_code == 404
        assert response.text == reference
        assert not accepted(bot, seeded)
    for value in UNKNOWN_IDS:
        response = client.post(f"/portal/deliveries/{value}/accept", {"csrf_token": token})
        assert response.status_code == 404, value


def test_accept_without_csrf_rejected(bot, world):
    client = signed_in_client(bot, ANN)
    other = signed_in_client(bot, BEN)
    others_token = csrf_of(other.get("/portal/deliveries"))
    path = f"/portal/deliveries/{world.ann.delivery_id}/accept"

    missing = client.post(path, {})
    foreign = client.post(path, {"csrf_token": others_token})
    empty = client.post(path, {"csrf_token": ""})

    assert missing.status_code == 403
    assert foreign.status_code == 403
    assert empty.status_code == 403
    assert not accepted(bot, world.ann)


def anonymous(bot):
    return PortalClient(bot.server.url)


def tampered(bot):
    client = signed_in_client(bot, ANN)
    value = client.cookies[SESSION_COOKIE]
    client.cookies[SESSION_COOKIE] = value[:-1] + ("A" if value[-1] != "A" else "B")
    return client


def garbage(bot):
    client = PortalClient(bot.server.url)
    client.cookies[SESSION_COOKIE] = "x" * 500
    return client


def link_token_as_cookie(bot):
    """A sign-in link's token is not a session, even though both are tokens of one user."""
    client = PortalClient(bot.server.url)
    client.cookies[SESSION_COOKIE] = issue_link(bot.session_scope, ANN)
    return client


def expired_session(bot):
    client = signed_in_client(bot, ANN)
    with bot.session_scope() as session:
        session.execute(
            sa.update(AccessToken)
            .where(AccessToken.token_hash == access.hash_token(client.cookies[SESSION_COOKIE]))
            .values(expires_at=access.utcnow() - timedelta(seconds=1))
        )
    return client


def revoked_session(bot):
    client = signed_in_client(bot, ANN)
    with bot.session_scope() as session:
        access.revoke_access(session, ANN)
    return client


VISITORS = [anonymous, tampered, garbage, link_token_as_cookie, expired_session, revoked_session]


@pytest.mark.parametrize("visitor", VISITORS, ids=lambda visitor: visitor.__name__)
def test_visitor_without_session_sent_to_signin(bot, world, visitor):
    client = visitor(bot)
    paths = ["/portal/deliveries"]
    for seeded in (world.ann, world.ben, world.slack_only):
        paths += read_routes(seeded)

    for path in paths:
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/portal/signin"), path
        assert "Ann" not in response.text
    for seeded in (world.ann, world.ben):
        response = client.post(
            f"/portal/deliveries/{seeded.delivery_id}/accept", {"csrf_token": "guess"}
        )
        assert response.status_code == 303
        assert not accepted(bot, seeded)


def test_revoked_grant_hides_delivery(bot, world):
    client = signed_in_client(bot, ANN)
    with bot.session_scope() as session:
        session.execute(
            sa.update(AccessGrant)
            .where(AccessGrant.delivery_id == world.ann.delivery_id)
            .values(revoked_at=access.utcnow())
        )

    listing = client.get("/portal/deliveries")

    assert listing.status_code == 200
    assert f"/portal/deliveries/{world.ann.delivery_id}" not in listing.text
    for path in read_routes(world.ann):
        assert client.get(path).status_code == 404, path


def test_list_shows_only_own(bot, world):
    ann_page = signed_in_client(bot, ANN).get("/portal/deliveries").text
    ben_page = signed_in_client(bot, BEN).get("/portal/deliveries").text

    assert f'/portal/deliveries/{world.ann.delivery_id}"' in ann_page
    assert f'/portal/deliveries/{world.ben.delivery_id}"' not in ann_page
    assert f'/portal/deliveries/{world.slack_only.delivery_id}"' not in ann_page
    assert f'/portal/deliveries/{world.ben.delivery_id}"' in ben_page
    assert f'/portal/deliveries/{world.ann.delivery_id}"' not in ben_page
    assert "Ben&#39;s" not in ann_page
    assert "Ann&#39;s" not in ben_page


def test_same_conversation_two_recipients(bot, world):
    """A second delivery of Ann's conversation to Ben lets Ben read it, not Ann's delivery."""
    second = seed_delivery(
        bot.session_scope,
        email=BEN,
        thread_ts=world.ann.thread_ts,
        contact_name="Ann's",
        message="a",
        note="n",
    )
    assert second.conversation_id == world.ann.conversation_id
    ben_client = signed_in_client(bot, BEN)
    token = csrf_of(ben_client.get("/portal/deliveries"))

    conversation = ben_client.get(f"/portal/conversations/{world.ann.conversation_id}")
    own = ben_client.get(f"/portal/deliveries/{second.delivery_id}")
    anns = ben_client.get(f"/portal/deliveries/{world.ann.delivery_id}")
    accept = ben_client.post(
        f"/portal/deliveries/{world.ann.delivery_id}/accept", {"csrf_token": token}
    )

    assert conversation.headers["location"] == f"/portal/deliveries/{second.delivery_id}"
    assert own.status_code == 200
    assert anns.status_code == 404
    assert accept.status_code == 404
    assert not accepted(bot, world.ann)
