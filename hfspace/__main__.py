"""`python -m hfspace`."""

from hfspace.cli import main

main()
