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

# The /caret-settings modal: the menu, the buttons that push each section, and the sections'
# callbacks, blocks and inputs.
SETTINGS_MODAL: Final = "settings_modal"
SETTINGS_OPEN_TEAMS: Final = "settings_open_teams"
SETTINGS_OPEN_REASONS: Final = "settings_open_reasons"
SETTINGS_OPEN_RECIPIENTS: Final = "settings_open_recipients"
SETTINGS_OPEN_HOURS: Final = "settings_open_hours"
SETTINGS_OPEN_UNREAD: Final = "settings_open_unread"
SETTINGS_OPEN_AUTOCLAIM: Final = "settings_open_autoclaim"
SETTINGS_OPEN_ADMINS: Final = "settings_open_admins"
SETTINGS_TEAMS_MODAL: Final = "settings_teams_modal"
SETTINGS_TEAM_ADD: Final = "settings_team_add"
SETTINGS_TEAM_EDIT: Final = "settings_team_edit"
SETTINGS_TEAM_MODAL: Final = "settings_team_modal"
SETTINGS_TEAM_NAME_BLOCK: Final = "settings_team_name"
SETTINGS_TEAM_NAME_INPUT: Final = "settings_team_name_input"
SETTINGS_TEAM_MEMBERS_BLOCK: Final = "settings_team_members"
SETTINGS_TEAM_MEMBERS_INPUT: Final = "settings_team_members_select"
SETTINGS_TEAM_USERGROUP_BLOCK: Final = "settings_team_usergroup"
SETTINGS_TEAM_USERGROUP_INPUT: Final = "settings_team_usergroup_select"
SETTINGS_TEAM_CHANNEL_BLOCK: Final = "settings_team_channel"
SETTINGS_TEAM_CHANNEL_INPUT: Final = "settings_team_channel_select"
SETTINGS_TEAM_REMOVE_BLOCK: Final = "settings_team_remove"
SETTINGS_TEAM_REMOVE_INPUT: Final = "settings_team_remove_checkbox"
SETTINGS_REASONS_MODAL: Final = "settings_reasons_modal"
SETTINGS_REASONS_NOT_QUALIFIED_BLOCK: Final = "settings_reasons_not_qualified"
SETTINGS_REASONS_NOT_INTERESTED_BLOCK: Final = "settings_reasons_not_interested"
SETTINGS_REASONS_INPUT: Final = "settings_reasons_input"
SETTINGS_RECIPIENTS_MODAL: Final = "settings_recipients_modal"
SETTINGS_RECIPIENTS_BLOCK: Final = "settings_recipients"
SETTINGS_RECIPIENTS_INPUT: Final = "settings_recipients_checkboxes"
SETTINGS_HOURS_MODAL: Final = "settings_hours_modal"
SETTINGS_HOURS_ZONE_BLOCK: Final = "settings_hours_zone"
SETTINGS_HOURS_ZONE_INPUT: Final = "settings_hours_zone_select"
SETTINGS_HOURS_MON_BLOCK: Final = "settings_hours_mon"
SETTINGS_HOURS_TUE_BLOCK: Final = "settings_hours_tue"
SETTINGS_HOURS_WED_BLOCK: Final = "settings_hours_wed"
SETTINGS_HOURS_THU_BLOCK: Final = "settings_hours_thu"
SETTINGS_HOURS_FRI_BLOCK: Final = "settings_hours_fri"
SETTINGS_HOURS_SAT_BLOCK: Final = "settings_hours_sat"
SETTINGS_HOURS_SUN_BLOCK: Final = "settings_hours_sun"
SETTINGS_HOURS_DAY_INPUT: Final = "settings_hours_day_input"
SETTINGS_HOURS_HOLIDAYS_BLOCK: Final = "settings_hours_holidays"
SETTINGS_HOURS_HOLIDAYS_INPUT: Final = "settings_hours_holidays_input"
SETTINGS_UNREAD_MODAL: Final = "settings_unread_modal"
SETTINGS_UNREAD_BLOCK: Final = "settings_unread"
SETTINGS_UNREAD_INPUT: Final = "settings_unread_input"
SETTINGS_AUTOCLAIM_MODAL: Final = "settings_autoclaim_modal"
SETTINGS_AUTOCLAIM_BLOCK: Final = "settings_autoclaim"
SETTINGS_AUTOCLAIM_INPUT: Final = "settings_autoclaim_select"
SETTINGS_ADMINS_MODAL: Final = "settings_admins_modal"
SETTINGS_ADMINS_BLOCK: Final = "settings_admins"
SETTINGS_ADMINS_INPUT: Final = "settings_admins_select"


def all_ids() -> dict[str, str]:
    """Return every wire id defined here, by constant name."""
    return {name: value for name, value in globals().items() if name.isupper()}
