"""The platform at a glance, from SQL aggregates (GROUP BY, COUNT … FILTER), never a Python
loop over members. `figures.compute` gathers every figure; each module holds one family.

Who counts as a member:
- **Members** are people (not bots) whose status is `active`. Every stock figure — the member
  total, members by organisation type, coverage of local governments and agencies, active
  members in the last 30 days — counts only them.
- Members in the inactivity contact cycle (`inactive`) and those flagged for deletion
  (`flagged`) are still in the workspace but are not counted as members: they appear only in
  the breakdown by status, so the secretariat sees how many are on their way out.
  `deactivated` and `deleted` accounts appear there too and nowhere else.
- **New members per week** is a flow: everyone (not a bot) who joined that week, whatever
  their status today, so that a past week's figure does not shrink when someone leaves later.
  A member Kyoso never saw join (installed into a live workspace) counts from the day Kyoso
  first recorded them.
- **Active in the last 30 days**: a member whose `last_seen_at` (messages, reactions, App Home
  opens… as the activity recorder sees them) falls in the 30 days before now.

Coverage is counted against the shipped master data: the 1,788 local governments (47
prefectures, 792 cities, 743 towns, 183 villages, 23 special wards; unions hold a code but
are not among them) and the agencies, as the latest code-list release (`kyoso orgs update`)
left them: a merged or removed code is no longer counted, a merged one's members count under
its successor. An organisation is covered when at least one member (as above) belongs to it.

Weekly snapshots of the headline figures are kept in the audit log (one entry per ISO week,
written by the weekly report), so the report can show the change since last week and the
chart can show active members over time without a table of its own.
"""
