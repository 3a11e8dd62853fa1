"""Every action_id, callback_id and block_id that caretbot puts on the wire.

Messages already posted keep their buttons for months, so a value here, once shipped, never
changes. Names are written out, never derived from Python names, so a rename cannot break a
posted button.
"""

from typing import Final

# Buttons in the ephemeral answer to a caret command that needs a modal.
OPEN_NOTE_MODAL: Final = "open_note_modal"
OPEN_DELIVER_MODAL: Final = "open_deliver_modal"
OPEN_STAT_MODAL: Final = "open_stat_modal"

# Message shortcuts (declared in manifest.yml under features.shortcuts).
SHORTCUT_NOTE: Final = "note_conversation"
SHORTCUT_DELIVER: Final = "deliver_conversation"

# The ^deliver modal: callbacks, then block and action ids of its inputs, then the Accept
# button on hand-off cards.
DELIVER_MODAL: Final = "deliver_modal"
DELIVER_RECIPIENTS_MODAL: Final = "deliver_recipients_modal"
DELIVER_APPLICATION_BLOCK: Final = "deliver_application"
DELIVER_APPLICATION_INPUT: Final = "deliver_application_select"
DELIVER_JOB_TITLE_BLOCK: Final = "deliver_job_title"
DELIVER_JOB_TITLE_INPUT: Final = "deliver_job_title_input"
DELIVER_JOB_LOCATION_BLOCK: Final = "deliver_job_location"
DELIVER_JOB_LOCATION_INPUT: Final = "deliver_job_location_input"
DELIVER_CONTACT_NAME_BLOCK: Final = "deliver_contact_name"
DELIVER_CONTACT_NAME_INPUT: Final = "deliver_contact_name_input"
DELIVER_CONTACT_EMAIL_BLOCK: Final = "deliver_contact_email"
DELIVER_CONTACT_EMAIL_INPUT: Final = "deliver_contact_email_input"
DELIVER_CONTACT_PHONE_BLOCK: Final = "deliver_contact_phone"
DELIVER_CONTACT_PHONE_INPUT: Final = "deliver_contact_phone_input"
DELIVER_STATUS_BLOCK: Final = "deliver_status"
DELIVER_STATUS_INPUT: Final = "deliver_status_select"
DELIVER_RATING_BLOCK: Final = "deliver_rating"
DELIVER_RATING_INPUT: Final = "deliver_rating_radio"
DELIVER_REASON_NOT_QUALIFIED_BLOCK: Final = "deliver_reason_not_qualified"
DELIVER_REASON_NOT_INTERESTED_BLOCK: Final = "deliver_reason_not_interested"
DELIVER_REASON_INPUT: Final = "deliver_reason_select"
DELIVER_REASON_TEXT_BLOCK: Final = "deliver_reason_text"
DELIVER_REASON_TEXT_INPUT: Final = "deliver_reason_text_input"
DELIVER_NOTES_BLOCK: Final = "deliver_notes"
DELIVER_NOTES_INPUT: Final = "deliver_notes_input"
DELIVER_USERS_BLOCK: Final = "deliver_users"
DELIVER_USERS_INPUT: Final = "deliver_users_select"
DELIVER_TEAMS_BLOCK: Final = "deliver_teams"
DELIVER_TEAMS_INPUT: Final = "deliver_teams_select"
DELIVER_EMAILS_BLOCK: Final = "deliver_emails"
DELIVER_EMAILS_INPUT: Final = "deliver_emails_input"
DELIVER_ACCEPT: Final = "deliver_accept"

# The Take over button in the ephemeral reply to ^claim on a conversation another agent holds.
CLAIM_TAKE_OVER: Final = "claim_take_over"

# The ^stat modal.
STAT_MODAL: Final = "stat_modal"
STAT_ACTIONS_BLOCK: Final = "stat_actions"
STAT_SWITCH_MEASURE: Final = "stat_switch_measure"

# Modals.
NOTE_MODAL: Final = "note_modal"
NOTE_BLOCK: Final = "note_text"
NOTE_INPUT: Final = "note_text_input"


def all_ids() -> dict[str, str]:
    """Return every wire id defined here, by constant name."""
    return {name: value for name, value in globals().items() if name.isupper()}
