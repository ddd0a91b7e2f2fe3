"""The office's products as application services: what the API, the pages and the schedules call."""
