"""The ``ganeval`` command line (installed as the import package ``ganeval_cli``)."""
