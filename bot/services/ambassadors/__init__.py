"""Ambassadors: appointments by prefecture or region for a term, the greeting of newcomers,
the ambassador's view of their prefectures, and the secretariat's figures.

- `roster`: who serves where on a given day (a prefecture's own ambassadors, else its
  region's).
- `appointments`: appoint, extend, end (Role.AMBASSADOR kept in step), terms that start,
  end or end within a month; `appointments_import` the roster from a CSV.
- `coverage`: municipalities with an active member per prefecture (recorded when a term
  begins).
- `overview`: the ambassador's Home section, per prefecture (members, coverage and the
  municipalities with no member, newcomers greeted or not, questions waiting, search gaps).
- `questions`: questions in a prefecture's デジ_re_ channel, asked and answered (no text).
- `outreach`: the municipalities with no member in their prefectures, as an Excel CSV.
- `greetings`: each newcomer's card (recorded with the rules' acceptance), one claim, the
  introduction owed, the reminder and the secretariat's notice in 開庁日, `greeting_figures`.
"""
