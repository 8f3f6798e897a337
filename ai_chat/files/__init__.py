"""Attachments over HTTP: upload, download and previews (http.py), and what a file is and
whether Claude accepts it (inspect.py)."""
