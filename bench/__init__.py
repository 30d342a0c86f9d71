"""The benchmarks: each module is a command (``python bench/<name>.py`` or ``python -m bench.<name>``) that
measures and writes its raw JSON under ``bench/results/``. Installed with the project (editable), so one bench
can import another's helpers from wherever it is started."""
