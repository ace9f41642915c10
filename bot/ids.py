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
