# WebSocket routes of every app; each app appends its own consumers here.
websocket_urlpatterns = []
