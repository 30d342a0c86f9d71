"""The routers of the API, one module per resource; ``api.app.create_app`` includes them in this order.

The order matters where a literal path and a template share a prefix: ``/klanten/datakwaliteit`` is
registered before ``/klanten/{klantnummer}`` (inside :mod:`api.routes.resources`).
"""

from api import security
from api.routes.admin import router as admin
from api.routes.audit import router as audit
from api.routes.inbox import router as inbox
from api.routes.instellingen import router as instellingen
from api.routes.modellen import router as modellen
from api.routes.rapportages import router as rapportages
from api.routes.resources import router as resources
from api.routes.status import router as status
from api.routes.toekenningen import router as toekenningen
from api.routes.verwijderen import router as verwijderen
from api.routes.voorstellen import router as voorstellen
from api.routes.zoekopdrachten import router as zoekopdrachten

ROUTERS = (
    security.router,
    resources,
    voorstellen,
    inbox,
    zoekopdrachten,
    rapportages,
    admin,
    instellingen,
    verwijderen,
    toekenningen,
    status,
    modellen,
    audit,
)
