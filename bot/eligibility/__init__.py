"""Who may join: one pure function deciding an application's eligibility, with reasons.

`decision.decide()` never raises on what an applicant typed and never looks anything up
itself: the organisation directory and the email history are handed in. Every verdict
carries at least one `Reason`; a reason has a stable code (a key for the ja/en catalogues),
string params and a severity. The outcome follows from the severities: any REFUSE reason
refuses, otherwise any FLAG reason sends the application to the secretariat, otherwise it is
eligible.

One module per seam: verdict.py (outcome, reasons), addresses.py (the address), domains.py
(what a mail domain is), directory.py (the master data indexed), organisations.py (the code
or agency entered against the domain), names.py (a name that reads like an organisation),
decision.py (all of it together).

Rules (issue 3, "Eligibility"):
- normalise first: NFKC (full-width ＠, letters and digits), trim, lowercase;
- `*.lg.jp` → local government; `*.go.jp` of a listed agency (or a subdomain of its mail
  domain) → government organisation; any other `go.jp` → manual review;
- a regional JP domain (`city.<name>.<pref>.jp`, `pref.<pref>.jp`, `city.sapporo.jp`, …) only
  when it is, or is under, a known local government's domain; everything else → manual
  review, never a silent rejection;
- look-alikes and address games are refused;
- the local-government code must pass its check digit; a valid unknown code (unions and
  wide-area associations hold codes too) → manual review; the organisation is suggested from
  the domain and a mismatch with the code entered is flagged;
- one account per address; a re-application after rejection or deletion is marked;
- a name that reads like an organisation rather than a person is flagged.

Sub-addressing: a `+` in the local part is REFUSED (reason `email.subaddress`), for every
domain. Addresses are compared as strings for "one account per address", so `taro+1@…` and
`taro+2@…` would each pass as a fresh address while reaching one mailbox. Stripping the tag
instead would silently change what the applicant typed and would merge distinct mailboxes
on servers where `+` is an ordinary character. Government mail systems issue plain
addresses, so refusing costs a real applicant nothing but retyping, and the reason says why.
The plain address is still checked against the history so a duplicate is reported too.
Source routing (`%`, `!`), quoted local parts and several `@` are refused for the same
reason; other rare RFC 5322 characters (`#`, `&`, `'`, …) only flag for review.
"""

from __future__ import annotations
