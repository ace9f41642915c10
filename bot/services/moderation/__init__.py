"""Moderation cases: members' reports, detector findings, and the secretariat's decisions.

One case per message (reports of the same message merge into it). A case is claimed (not a
decision), may be sent back to its author for an edit (not final either), and is decided
once: dismissed, warned, deleted or removed (bot/decided.py), and lands in the audit log.

Privacy: a case never keeps the message itself, only an excerpt with personal values masked
(and nothing at all of a message labelled 機密性3); reporters are kept in `case_reports`,
which only the secretariat can see and which nothing sends to the reported member.
"""
