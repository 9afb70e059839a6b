"""The web UI served by ``labelport serve`` at ``/``: server-rendered pages (Jinja2 templates), small
hand-written CSS and JavaScript shipped in the package, labels drawn as SVG. No build step, no CDN.
See docs/web.md."""
