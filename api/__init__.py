"""API gateway (PRD module 2): FastAPI starts flow runs of the ``music-video`` deployment; a bridge process copies
Prefect events into per-job Redis Streams, which the WebSocket and the status endpoints read."""
