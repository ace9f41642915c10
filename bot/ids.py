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
