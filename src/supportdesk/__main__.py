"""``python -m supportdesk``: the command line."""

import sys

from supportdesk.command import main

sys.exit(main())
