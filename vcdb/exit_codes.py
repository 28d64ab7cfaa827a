"""Exit codes of `vcdb`, one meaning each (documented in the README)."""

OK = 0
FAILED = 1  # a run failed, a check found problems, or a worker stopped on an error
USAGE = 2  # bad arguments or settings
LOCKED = 3  # another producer run holds the lock for this database
INTERRUPTED = 4  # stopped by a signal; resumable
UNAVAILABLE = 5  # PostgreSQL, Kafka or the API cannot be reached
