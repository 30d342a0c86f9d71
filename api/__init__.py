"""werkmatch's edges: the FastAPI app and the ``werkmatch`` command line."""
