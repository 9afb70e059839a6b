"""``python -m labelport``: the command line."""

from labelport.cli import main

main()
