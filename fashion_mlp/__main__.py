"""`python -m fashion_mlp` runs the CLI."""

import sys

from fashion_mlp.cli import main

sys.exit(main())
