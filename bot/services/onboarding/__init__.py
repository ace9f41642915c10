"""Onboarding: from `team_join` to a member who accepted the rules and introduced themselves.

Every contact is claimed with a guarded update in the caller's transaction before it is
sent (`welcome_claimed_at`, `intro_reminded_at`, `profile_nudged_at`; marks.py): a
redelivered event, a double click or a rerun job finds the claim and sends nothing. The
welcome DM is marked sent (`welcomed_at`) only when Slack accepted it: a claim Slack refused
for a passing reason is given back, and one left in flight is checked in the member's IM by
the onboarding-welcomes job before it is sent again (bot/slack/onboarding/welcome.py).

One module per flow: joins, welcomes, suggestions, introductions, profiles, stuck, records;
the usage rules themselves are bot/services/rules.py.
"""
