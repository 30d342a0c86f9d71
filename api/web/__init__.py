"""The Dutch web UI, served by the same app: server-rendered pages, plain forms, no build step.

:func:`api.web.site.install` mounts it; the pages call the same services and route functions as the
API, so the checks, the audit entries and the Dutch refusals are the API's own.
"""
