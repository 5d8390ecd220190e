import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # set up Django before importing consumers

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chatbot.routing import websocket_urlpatterns  # noqa: E402
from ingestion.routing import websocket_urlpatterns as ingestion_websocket_urlpatterns  # noqa: E402
from ops.metrics import WebsocketMetricsMiddleware  # noqa: E402
from ops.origins import SiteOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": WebsocketMetricsMiddleware(
            SiteOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns + ingestion_websocket_urlpatterns)))
        ),
    }
)
