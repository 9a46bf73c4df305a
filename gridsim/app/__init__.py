"""The top layer: the ``gridsim`` command line (:mod:`gridsim.app.cli` parses argv and
dispatches) and its commands."""
