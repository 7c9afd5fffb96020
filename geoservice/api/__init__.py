"""The HTTP layer: the application, its routes, OpenAPI, pages and the server protocol.
The only room that speaks HTTP."""
