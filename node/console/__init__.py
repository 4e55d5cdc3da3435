"""The coordinator console: a web front end that each area's node serves, for that area's people.

Starlette routes rendering Jinja2 templates on the server, served by uvicorn
over HTTPS with the operator's certificate; no script in the page, static
files shipped here. It calls only the disclosure service API
(``fedalert.node.disclosure``); see docs/ARCHITECTURE.md, "The console".
"""

from fedalert.node.console.app import ConsoleServer, create_app, open_console

__all__ = ["ConsoleServer", "create_app", "open_console"]
