"""``python -m labelport``: the command line."""

from labelport.cli import main

if __name__ == "__main__":  # not when a spawned job process imports this module again
    main()
