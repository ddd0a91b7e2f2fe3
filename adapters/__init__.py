"""Adapters from the world's data to the domain's predicates, shared by every process.

`workdays`: the Chinese working-day calendar (`chinesecalendar`) as `domain.dues.IsWorkday`,
used alike by the API (the dues an action records) and the activities (a ladder's instants).
"""
