"""`python3 -m tests.emulators serve ...`: see serve.py."""

import sys

from .serve import main

sys.exit(main())
