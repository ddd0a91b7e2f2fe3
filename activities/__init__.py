"""Every side effect of the loop: audit append, numbering, calendar, notifications."""
