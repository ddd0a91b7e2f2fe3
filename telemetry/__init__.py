"""What an operator watches: Prometheus metrics, OpenTelemetry traces, and the Temporal SDK's runtime.

Standard parts only: prometheus-client and prometheus-fastapi-instrumentator on the API, the
Temporal SDK's own Prometheus exporter on the workers, OpenTelemetry's SDK with the FastAPI and
SQLAlchemy instrumentations and Temporal's `TracingInterceptor` for traces.
"""
