"""The HTTP edge: auth, schemas, error mapping, routers per resource; `bootstrap.create_app` builds it."""
