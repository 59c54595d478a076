"""The web portal: server-rendered pages (Jinja2) over the same services as the API."""
