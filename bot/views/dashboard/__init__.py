"""App Home (a member's own page; the secretariat's dashboard), queue lists, statistics and the
weekly report, as Block Kit. Pure functions of plain data and a language.

Every builder stays within Slack's limits however many items there are: the Home tab holds
at most 100 blocks and a message 50, so long lists are summarised ("and 9,990 more") or paged.
"""
