"""The ``covet`` command line (argparse): see :mod:`covet.cli.main`."""
