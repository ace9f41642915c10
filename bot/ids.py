"""Every callback_id, action_id and block_id in one place: the manifest and tests use them."""

SLASH_COMMAND = "/kyoso"

# Application review (secretariat review channel)
APPLICATION_REVIEW_BLOCK = "application_review"
APPLICATION_APPROVE = "application_approve"
APPLICATION_REJECT = "application_reject"
APPLICATION_REQUEST_INFO = "application_request_info"
APPLICATION_MARK_INVITED = "application_mark_invited"
APPLICATION_REJECT_MODAL = "application_reject_modal"
APPLICATION_INFO_MODAL = "application_info_modal"
APPLICATION_REASON_BLOCK = "application_reason"
APPLICATION_REASON_INPUT = "reason"

# Onboarding (welcome DM, rules, self-introduction, channel suggestions)
ONBOARDING_RULES_BLOCK = "onboarding_rules"
ONBOARDING_RULES_PROMPT_BLOCK = "onboarding_rules_prompt"
ONBOARDING_RULES_PREVIOUS_BLOCK = "onboarding_rules_previous"
ONBOARDING_ACCEPT_RULES = "onboarding_accept_rules"
ONBOARDING_JOIN_CHANNEL = "onboarding_join_channel"
ONBOARDING_INTRO_OPEN = "onboarding_intro_open"
ONBOARDING_INTRO_MODAL = "onboarding_intro_modal"
ONBOARDING_INTRO_NAME_BLOCK = "onboarding_intro_name"
ONBOARDING_INTRO_ORGANISATION_BLOCK = "onboarding_intro_organisation"
ONBOARDING_INTRO_DEPARTMENT_BLOCK = "onboarding_intro_department"
ONBOARDING_INTRO_INTERESTS_BLOCK = "onboarding_intro_interests"
ONBOARDING_INTRO_INPUT = "value"

# Moderation (report shortcut, case alerts in the review channel)
MODERATION_REPORT_SHORTCUT = "moderation_report"
MODERATION_REPORT_MODAL = "moderation_report_modal"
MODERATION_REPORT_REASON_BLOCK = "moderation_report_reason"
MODERATION_REPORT_NOTE_BLOCK = "moderation_report_note"
MODERATION_NOTICE_MODAL = "moderation_notice_modal"
MODERATION_CASE_BLOCK = "moderation_case"
MODERATION_CLAIM = "moderation_claim"
MODERATION_DISMISS = "moderation_dismiss"
MODERATION_REQUEST_EDIT = "moderation_request_edit"
MODERATION_DELETE = "moderation_delete"
MODERATION_WARN = "moderation_warn"
MODERATION_REMOVE = "moderation_remove"
MODERATION_SHOW_REPORTERS = "moderation_show_reporters"
MODERATION_ACTION_MODAL = "moderation_action_modal"
MODERATION_RULE_BLOCK = "moderation_rule"
MODERATION_REASON_BLOCK = "moderation_reason"
MODERATION_INPUT = "value"

# Dashboard (App Home: a member's page, the secretariat's queues and statistics)
DASHBOARD_HOME = "dashboard_home"
DASHBOARD_OPEN_LIST = "dashboard_open_list"
DASHBOARD_PAGE_FIRST = "dashboard_page_first"
DASHBOARD_PAGE_PREVIOUS = "dashboard_page_previous"
DASHBOARD_PAGE_NEXT = "dashboard_page_next"
DASHBOARD_PAGE_LAST = "dashboard_page_last"
DASHBOARD_PAGES = (
    DASHBOARD_PAGE_FIRST,
    DASHBOARD_PAGE_PREVIOUS,
    DASHBOARD_PAGE_NEXT,
    DASHBOARD_PAGE_LAST,
)
DASHBOARD_EXPORT_MEMBERS = "dashboard_export_members"
DASHBOARD_EXPORT_CHANNELS = "dashboard_export_channels"
DASHBOARD_EXPORT_STATS = "dashboard_export_stats"
# Export kind (exports.ExportKind value) -> the button that asks for it.
DASHBOARD_EXPORTS = {
    "members": DASHBOARD_EXPORT_MEMBERS,
    "channels": DASHBOARD_EXPORT_CHANNELS,
    "stats": DASHBOARD_EXPORT_STATS,
}

# Channels (requests, review, registry, dormant channels, facilitator tools)
CHANNEL_REQUEST_SHORTCUT = "channel_request"
CHANNEL_SUMMARY_SHORTCUT = "channel_summary"
CHANNEL_POINT_SHORTCUT = "channel_point"
CHANNEL_REQUEST_MODAL = "channel_request_modal"
CHANNEL_KIND_BLOCK = "channel_kind"
CHANNEL_NAME_BLOCK = "channel_name"
CHANNEL_PURPOSE_BLOCK = "channel_purpose"
CHANNEL_ORGANISATION_BLOCK = "channel_organisation"
CHANNEL_FACILITATORS_BLOCK = "channel_facilitators"
CHANNEL_PREFECTURE_BLOCK = "channel_prefecture"
CHANNEL_REASON_BLOCK = "channel_reason"
CHANNEL_END_DATE_BLOCK = "channel_end_date"
CHANNEL_DISTINCT_BLOCK = "channel_distinct"
CHANNEL_INPUT = "value"
CHANNEL_REVIEW_BLOCK = "channel_review"
CHANNEL_APPROVE = "channel_approve"
CHANNEL_RETURN = "channel_return"
CHANNEL_REJECT = "channel_reject"
CHANNEL_RETRY = "channel_retry"
CHANNEL_RESUBMIT = "channel_resubmit"
CHANNEL_RETURN_MODAL = "channel_return_modal"
CHANNEL_REJECT_MODAL = "channel_reject_modal"
CHANNEL_DECISION_BLOCK = "channel_decision_reason"
CHANNELS_PAGE_BLOCK = "channels_page"
CHANNELS_PAGE_PREVIOUS = "channels_page_previous"
CHANNELS_PAGE_NEXT = "channels_page_next"
CHANNEL_EDIT_OPEN = "channel_edit_open"
CHANNEL_EDIT_MODAL = "channel_edit_modal"
DORMANCY_BLOCK = "dormancy"
DORMANCY_KEEP = "dormancy_keep"
DORMANCY_ARCHIVE = "dormancy_archive"
DORMANCY_ARCHIVE_NOW = "dormancy_archive_now"
CHANNEL_POINT_MODAL = "channel_point_modal"
CHANNEL_POINT_TARGET_BLOCK = "channel_point_target"
CHANNEL_POINT_TARGET = "channel_point_target_select"
CHANNEL_POINT_NOTE_BLOCK = "channel_point_note"

# Account lifecycle (inactivity contact DMs, the secretariat's flagged list)
# A contact DM's first block is LIFECYCLE_CONTACT_BLOCK + ":" + the attempt key: after a
# crash, the DM history shows whether that attempt reached Slack.
LIFECYCLE_CONTACT_BLOCK = "lifecycle_contact"
LIFECYCLE_KEEP = "lifecycle_keep"
LIFECYCLE_FLAGGED_BLOCK = "lifecycle_flagged"
LIFECYCLE_APPROVE_BATCH = "lifecycle_approve_batch"
LIFECYCLE_RESTORE = "lifecycle_restore"
LIFECYCLE_SHOW_FLAGGED = "lifecycle_show_flagged"

# Knowledge: search (/kyoso search, the App Home's search modal, suggestions, synonyms)
KNOWLEDGE_SEARCH_HOME = "knowledge_search_home"  # the App Home's button: opens the modal
KNOWLEDGE_SEARCH_MODAL = "knowledge_search_modal"
KNOWLEDGE_SEARCH_QUERY_BLOCK = "knowledge_search_query"
KNOWLEDGE_SEARCH_INPUT = "value"
KNOWLEDGE_SEARCH_NEXT = "knowledge_search_next"
KNOWLEDGE_SEARCH_PREVIOUS = "knowledge_search_previous"
KNOWLEDGE_SEARCH_HELPFUL = "knowledge_search_helpful"
KNOWLEDGE_SEARCH_OPEN_THREAD = "knowledge_search_open_thread"  # a link: only acknowledged
KNOWLEDGE_SEARCH_PAGE_BLOCK = "knowledge_search_page"
KNOWLEDGE_SYNONYMS_MODAL = "knowledge_synonyms_modal"
KNOWLEDGE_SYNONYMS_BLOCK = "knowledge_synonyms"
KNOWLEDGE_SYNONYMS_INPUT = "value"

# Knowledge: capture (the message shortcut, the ✅ offer, /kyoso forget, knowledge-channel, faq)
KNOWLEDGE_SAVE_SHORTCUT = "knowledge_save"
KNOWLEDGE_CAPTURE_MODAL = "knowledge_capture_modal"
KNOWLEDGE_CAPTURE_NOTICE_MODAL = "knowledge_capture_notice_modal"  # loading, then a notice
KNOWLEDGE_CAPTURE_TITLE_BLOCK = "knowledge_capture_title"
KNOWLEDGE_CAPTURE_QUESTION_BLOCK = "knowledge_capture_question"
KNOWLEDGE_CAPTURE_ANSWER_BLOCK = "knowledge_capture_answer"
KNOWLEDGE_CAPTURE_TAGS_BLOCK = "knowledge_capture_tags"
KNOWLEDGE_CAPTURE_INPUT = "value"
KNOWLEDGE_CAPTURE_OFFER = "knowledge_capture_offer"  # the ✅ ephemeral's button: opens the modal
KNOWLEDGE_REMOVE = "knowledge_remove"  # value: the entry id (owners and the secretariat)
KNOWLEDGE_FORGET_BLOCK = "knowledge_forget"  # + ":" + entry id: a line of /kyoso forget
KNOWLEDGE_CHANNEL_MODAL = "knowledge_channel_modal"
KNOWLEDGE_CHANNEL_CHOICES_BLOCK = "knowledge_channel_choices"
KNOWLEDGE_CHANNEL_CHOICES = "knowledge_channel_choices_input"
KNOWLEDGE_FAQ_MODAL = "knowledge_faq_modal"

# Transfers: the App Home's buttons (rendered by the dashboard, handled by handlers/transfers)
TRANSFER_MOVE_HOME = "transfer_move_home"  # 「所属が変わりました」: opens the move form
TRANSFER_LEAVE_HOME = "transfer_leave_home"  # 「退職・離任の予定」: opens the leaving form

# Transfers: moves (/kyoso move, the move form, the code, the secretariat's review)
TRANSFER_MOVE_MODAL = "transfer_move_modal"  # the move form
TRANSFER_MOVE_INPUT = "transfer_move_input"  # the form's text inputs
TRANSFER_MOVE_ORGANISATION_BLOCK = "transfer_move_organisation"
TRANSFER_MOVE_ORGANISATION = "transfer_move_organisation_select"  # external select (options)
TRANSFER_MOVE_EMAIL_BLOCK = "transfer_move_email"
TRANSFER_MOVE_DEPARTMENT_BLOCK = "transfer_move_department"
TRANSFER_MOVE_EFFECTIVE_BLOCK = "transfer_move_effective"
TRANSFER_MOVE_EFFECTIVE = "transfer_move_effective_date"
TRANSFER_MOVE_CODE_OPEN = "transfer_move_code_open"  # in the "mail sent" DM (value: public id)
TRANSFER_MOVE_CODE_MODAL = "transfer_move_code_modal"
TRANSFER_MOVE_CODE_BLOCK = "transfer_move_code"
TRANSFER_MOVE_REVIEW_BLOCK = "transfer_move_review"  # the review channel's buttons
TRANSFER_MOVE_APPROVE = "transfer_move_approve"  # value: public id
TRANSFER_MOVE_REFUSE = "transfer_move_refuse"  # value: public id
TRANSFER_MOVE_TODO_BLOCK = "transfer_move_todo:"  # + public id: the Slack address to-do
TRANSFER_MOVE_CANCEL = "transfer_move_cancel"  # the scheduled move's DM (value: public id)

# Transfers: affiliation checks (所属確認が必要: the review channel's case and its actions)
TRANSFER_CHECK_BLOCK = "transfer_check"  # + ":" + the check's public id
TRANSFER_CHECK_ASK = "transfer_check_ask"  # value: the check's public id
TRANSFER_CHECK_KEEP = "transfer_check_keep"
TRANSFER_CHECK_DEACTIVATE = "transfer_check_deactivate"

# Transfers: the 異動 season (the survey DM, its buttons, reminders)
# A season DM's first block is TRANSFER_SEASON_BLOCK + ":" + the contact key (found after a crash).
TRANSFER_SEASON_BLOCK = "transfer_season"
TRANSFER_SEASON_NO_CHANGE = "transfer_season_no_change"  # value: the contact key
TRANSFER_SEASON_MOVING = "transfer_season_moving"  # records MOVING, opens the move form
TRANSFER_SEASON_LEAVING = "transfer_season_leaving"  # records LEAVING, opens the leaving form
TRANSFER_SEASON_REMINDER_MOVE = "transfer_season_reminder_move"  # the reminder's move form

# Transfers: leavers (last day, hand-over, goodbye)
TRANSFER_LEAVE_MODAL = "transfer_leave_modal"  # the leaving form (last day, hand-over)
TRANSFER_LEAVE_INPUT = "transfer_leave_input"  # every input of the leaving form
TRANSFER_LEAVE_LAST_DAY_BLOCK = "transfer_leave_last_day"
TRANSFER_LEAVE_KNOWLEDGE_BLOCK = "transfer_leave_knowledge"
TRANSFER_LEAVE_CHANNEL_BLOCK = "transfer_leave_channel:"  # + the Slack channel id
TRANSFER_LEAVE_OTHER_CHANNELS_BLOCK = "transfer_leave_other_channels"
TRANSFER_LEAVE_REQUESTS_BLOCK = "transfer_leave_requests"
TRANSFER_LEAVE_CASES_BLOCK = "transfer_leave_cases"
TRANSFER_LEAVE_CANCEL = "transfer_leave_cancel"  # in the confirmation DM (value: public id)
TRANSFER_LEAVE_CHANGE = "transfer_leave_change"  # in the confirmation DM: the form again
TRANSFER_LEAVE_GOODBYE_BLOCK = "departure_goodbye:"  # + public id: found again after a crash
TRANSFER_LEAVE_HANDOVER_BLOCK = "departure_handover:"  # + public id (the review channel)
TRANSFER_LEAVE_TODO_BLOCK = "departure_todo:"  # + public id (the review channel)

# Applications: one person, one account (earlier account on the form, duplicates flagged)

# Ambassadors: appointments (/kyoso ambassadors, the appointment modal, extend and end)
AMBASSADORS_APPOINT = "ambassadors_appoint"  # the roster's 「任命」: opens the modal
AMBASSADORS_APPOINT_MODAL = "ambassadors_appoint_modal"
AMBASSADORS_EXTEND = "ambassadors_extend"  # value: the appointment's public id
AMBASSADORS_EXTEND_MODAL = "ambassadors_extend_modal"
AMBASSADORS_END = "ambassadors_end"  # value: the appointment's public id (a confirm dialog)
AMBASSADORS_INPUT = "ambassadors_input"  # every input of both modals
AMBASSADORS_MEMBER_BLOCK = "ambassadors_member"
AMBASSADORS_PREFECTURES_BLOCK = "ambassadors_prefectures"
AMBASSADORS_REGION_BLOCK = "ambassadors_region"
AMBASSADORS_STARTS_BLOCK = "ambassadors_starts"
AMBASSADORS_ENDS_BLOCK = "ambassadors_ends"
AMBASSADORS_ROSTER_BLOCK = "ambassadors_roster:"  # + public id: a line's buttons
AMBASSADORS_PAGE_PREVIOUS = "ambassadors_page_previous"  # value: the offset
AMBASSADORS_PAGE_NEXT = "ambassadors_page_next"
AMBASSADORS_REMINDER_BLOCK = "ambassadors_term_reminder:"  # + public id (the review channel)

# Ambassadors: greeting cards (the ambassadors' channel, 「担当します」)
AMBASSADOR_GREETING_CLAIM = "ambassador_greeting_claim"  # 「担当します」 (value: the greeting's id)
AMBASSADOR_GREETING_BLOCK = "ambassador_greeting:"  # + the greeting's id: found again after a crash
AMBASSADOR_INTRO_BLOCK = "ambassador_intro:"  # + the greeting's id: the newcomer's DM

# Ambassadors: the ambassador's Home section (their prefectures, the export)
AMBASSADORS_EXPORT_UNCOVERED = "ambassadors_export_uncovered"  # CSV of municipalities, to the DM

# Secretariat toolkit: announcements (the modal, preview, test send, confirm, progress controls)
# An announcement DM's first block is ANNOUNCE_DM_BLOCK + ":" + the recipient key (found after a crash).
ANNOUNCE_DM_BLOCK = "announce_dm"
ANNOUNCE_MODAL = "announce_modal"
ANNOUNCE_INPUT = "announce_input"  # every input of the modal
ANNOUNCE_TITLE_BLOCK = "announce_title"
ANNOUNCE_TEXT_JA_BLOCK = "announce_text_ja"
ANNOUNCE_TEXT_EN_BLOCK = "announce_text_en"
ANNOUNCE_CATEGORY_BLOCK = "announce_category"
ANNOUNCE_AUDIENCE_BLOCK = "announce_audience"
ANNOUNCE_PREFECTURES_BLOCK = "announce_prefectures"
ANNOUNCE_VALUES_BLOCK = "announce_values"  # organisation kind / roles (checkboxes)
ANNOUNCE_CHANNEL_BLOCK = "announce_channel"
ANNOUNCE_USERS_BLOCK = "announce_users"
ANNOUNCE_TEST_SEND = "announce_test_send"  # value: the announcement's public id
ANNOUNCE_SEND = "announce_send"  # value: the announcement's public id (confirms once)
ANNOUNCE_PROGRESS_BLOCK = "announce_progress:"  # + public id (the review channel)
ANNOUNCE_CONTROL = {  # value: the announcement's public id
    "pause": "announce_pause",
    "resume": "announce_resume",
    "cancel": "announce_cancel",
}

# Secretariat toolkit: member look-up (/kyoso member, the member card, its actions)
# value: "<offset>|<query>"
SECRETARIAT_MEMBER_PAGE_PREVIOUS = "secretariat_member_page_previous"
SECRETARIAT_MEMBER_PAGE_NEXT = "secretariat_member_page_next"
SECRETARIAT_MEMBER_CARD = "secretariat_member_card"  # value: the member's Slack user id
# value: "grant|<user>" or "revoke|<user>"; one button per role on the card
SECRETARIAT_MEMBER_ROLE = {
    "secretariat": "secretariat_member_role_secretariat",
    "facilitator": "secretariat_member_role_facilitator",
    "ambassador": "secretariat_member_role_ambassador",
}
SECRETARIAT_MEMBER_EXEMPT = "secretariat_member_exempt"  # value: "exempt|<user>" / "unexempt|…"
SECRETARIAT_MEMBER_RESTORE = "secretariat_member_restore"  # value: "<cycle id>|<user>"

# Secretariat toolkit: roles and rules (grant/revoke from App Home or the card; publish rules)
SECRETARIAT_RULES_EDIT_MODAL = "secretariat_rules_edit_modal"  # `/kyoso rules publish`
SECRETARIAT_RULES_PREVIEW_MODAL = "secretariat_rules_preview_modal"  # submit = 公開する
SECRETARIAT_RULES_BACK = "secretariat_rules_back"  # 「戻る」 from the preview to the form
SECRETARIAT_RULES_INPUT = "secretariat_rules_input"  # every input of the form
SECRETARIAT_RULES_VERSION_BLOCK = "secretariat_rules_version"
SECRETARIAT_RULES_JA_BLOCK = "secretariat_rules_ja"
SECRETARIAT_RULES_EN_BLOCK = "secretariat_rules_en"
SECRETARIAT_RULES_SUMMARY_BLOCK = "secretariat_rules_summary"
# The preview shows each text in one section with this block id: what is shown is published.
SECRETARIAT_RULES_PREVIEW_JA_BLOCK = "secretariat_rules_preview_ja"
SECRETARIAT_RULES_PREVIEW_EN_BLOCK = "secretariat_rules_preview_en"
SECRETARIAT_ROLES_OPEN = "secretariat_roles_open"
SECRETARIAT_ROLES_MODAL = "secretariat_roles_modal"
SECRETARIAT_ROLES_USER_BLOCK = "secretariat_roles_user"
SECRETARIAT_ROLES_ROLE_BLOCK = "secretariat_roles_role"
SECRETARIAT_ROLES_CHANGE_BLOCK = "secretariat_roles_change"
SECRETARIAT_ROLES_INPUT = "secretariat_roles_input"

# Members: opting out of optional announcement categories
ANNOUNCE_OPT_OUT = "announce_opt_out"  # value: the recipient key (the DM's own)
