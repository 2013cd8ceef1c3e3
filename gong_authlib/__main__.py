"""``python -m gong_authlib``: the same command line as ``gong-authlib``."""

import sys

from gong_authlib.cli import main

sys.exit(main())
