"""Ambassadors: appointments by prefecture or region for a term, the greeting of newcomers,
the ambassador's view of their prefectures, and the secretariat's figures.

- `roster`: who serves where on a given day (a prefecture's own ambassadors, else its
  region's).
"""
