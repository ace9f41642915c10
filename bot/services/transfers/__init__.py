"""People move: transfers (a member's change of organisation and address), changes seen in
Slack, the yearly 異動 season, leavers and their hand-over, one person with one account.

- `eligibility`: a member's new address through the registration rules.
"""
