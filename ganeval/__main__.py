"""``python -m ganeval`` runs the command line."""

from ganeval_cli.main import main

if __name__ == "__main__":
    main()
