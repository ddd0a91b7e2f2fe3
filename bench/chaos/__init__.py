"""`make chaos`: items driven through the closed loop over HTTP while the parts are killed.

A throwaway PostgreSQL cluster, a Temporal dev server on a file database, two `duban worker`
processes and one `duban api`, all started here on free ports (`cluster`); concurrent HTTP
drivers take every item from 立项 to 办结 with retries and idempotency keys (`drive`); a seeded
schedule kills one part with SIGKILL and restarts it (`faults`); at the end every item's audit
log is checked against what the clients were told (`check`) and the table goes to
`bench/CHAOS.md` (`report`).
"""
