"""Partnering: evidence for NHS make / buy / partner / merge decisions.

The library is staged as the data flows: ingest -> store -> measure -> match ->
appraise -> design -> evaluate.  The CLI (``partnering.cli``) and the web app
(``partnering.web``) are thin faces over it.
"""

__version__ = "0.1.0"
