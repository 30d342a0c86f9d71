"""The services: what werkmatch does, without a web framework.

The API routes (:mod:`api.routes`), the web pages (:mod:`api.web`) and the CLI (:mod:`api.cli`) all
call these modules; they only parse, authenticate and render. Nothing here imports FastAPI or
Starlette (``tests/test_layers.py`` checks it). Each module owns its tables;
:func:`api.services.schema.create_all` creates them all, once at start.
"""
