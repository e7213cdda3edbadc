import sys

from glue_loop.cli import main

# argparse would name the program after this file, __main__.py.
sys.exit(main(prog="python -m glue_loop"))
