"""`python -m vcdb` is the `vcdb` command."""

import sys

from vcdb.cli import main

sys.exit(main())
