"""People move: transfers (a member's change of organisation and address), changes seen in
Slack, the yearly 異動 season, leavers and their hand-over, one person with one account.

- `eligibility`: a member's new address through the registration rules.
- `moves`, `move_emails`, `move_choices`: a move started, confirmed by the mailed link or
  code, applied (or decided by the secretariat); the mail; the form's organisation search.
- `slack_changes`, `checks`, `domain_remap`: an address Slack shows (user_change, the users
  sync) → a move confirmed, the organisation followed, or an affiliation check (所属確認が必要)
  and the secretariat's decisions on it; `kyoso orgs remap-domain`.
- `season`, `season_contacts`, `season_calendar`: the 異動 season's survey and reminders
  (staged set-based, sent once each), the member's answer, the App Home banner.
- `leavers`, `departures`: a last day and its hand-over (事務引継) set, changed or cancelled;
  on the last day from 17:30 the hand-over carried out, the goodbye, the deactivation.
- `one_account`: an application from a member's new address becomes their move (likely
  duplicates: bot/services/applications/duplicates.py).
- `org_release_file`, `org_release`: `kyoso orgs update`, a new release of the code list.
"""
