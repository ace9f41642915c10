"""Block Kit for people moving: the move form, affiliation checks, the season survey, leavers,
and the figures."""
