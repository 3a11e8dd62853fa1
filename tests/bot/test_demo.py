import io

from bot.demo import run_demo


def test_demo_plays_conversation():
    out = io.StringIO()

    status = run_demo(out)

    text = out.getvalue()
    assert status == 0
    assert "was rejected" not in text
    assert "caretbot marks the thread unread with :red_circle:" in text
    assert "caretbot removes the :red_circle: unread marker" in text
    assert "Marked read by @Ann (agent)" in text
    assert "Claimed by @Ann (agent)" in text
    assert "`^delivr` is not a caretbot command. Did you mean `^deliver`?" in text
    assert text.count("Note saved. Only your team can see it.") == 2
    assert "caretbot opens a form titled 'Add a note'" in text
    assert "Demo finished." in text


def test_demo_plays_delivery_and_acceptance():
    out = io.StringIO()

    run_demo(out)

    text = out.getvalue()
    assert "caretbot fills in a form titled 'Deliver conversation'" in text
    assert "*Delivered: Qualified*  ★★★★☆" in text
    assert "Delivered by @Ann (agent) to @Rita (recruiter)" in text
    assert "caretbot, to Rita (recruiter):" in text
    assert "Rita (recruiter) clicks [Accept] in the DM" in text
    assert "Accepted by @Rita (recruiter)" in text


def test_demo_plays_stat_and_transcript():
    out = io.StringIO()

    run_demo(out)

    text = out.getvalue()
    assert "caretbot fills in a form titled 'Conversation stats'" in text
    assert "*Messages:* 3 from the contact, 2 from the team" in text
    assert "caretbot sends 'Transcript: conversation with Casey Candidate' to Ann's DM:" in text
    assert "| Contact: Casey Candidate" in text
    assert "Sent the transcript to your DM with caretbot" in text
