"""Account lifecycle: inactive members are contacted, flagged, approved and deactivated.

The platform's terms: an account that has not been used for a period may be deleted when
the member cannot be contacted. One round of that is an `InactivityCycle`:

    active ──sweep──▶ contacting ──DM, then email, then grace──▶ flagged ──secretariat──▶
    approved ──SCIM / admin API / by hand──▶ deactivated

and any activity, a "keep my account" click, an exemption or the secretariat's restore ends
a round early. `members.status` follows the round: `inactive` once the member has been
contacted, `flagged` while flagged or approved, `active` again when the round ends.

One module per seam: `sweep` (the daily set-based run), `contacts` (recording and settling
each contact), `answers` (keep my account, the exempt list), `decisions` (the secretariat's
approve and restore), `deactivation`, `directory` (what users.list and team.accessLogs tell),
`retention` and `overview` (what the secretariat sees); `policy` and `rounds` hold what they
share. Nothing here talks to Slack: the adapters in bot/slack/lifecycle/ send, read and
deactivate, and call these use cases for every decision.
"""
