import sys

from glue_loop.cli import main

sys.exit(main())
