"""The HTTP edge: auth, schemas, error mapping, routers per resource; `api.app.create_app` builds it."""
