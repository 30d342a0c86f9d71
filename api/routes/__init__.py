"""The routers of the API, one module per resource; ``api.app.create_app`` includes them in this order.

The order matters where a literal path and a template share a prefix: ``/klanten/datakwaliteit`` is
registered before ``/klanten/{klantnummer}`` (inside :mod:`api.routes.klanten`).
"""

from api import security
from api.routes.audit import router as audit
from api.routes.gebruikers import router as gebruikers
from api.routes.inbox import router as inbox
from api.routes.instellingen import router as instellingen
from api.routes.klanten import router as klanten
from api.routes.matches import router as matches
from api.routes.modellen import router as modellen
from api.routes.rapportages import router as rapportages
from api.routes.status import router as status
from api.routes.toekenningen import router as toekenningen
from api.routes.vacatures import router as vacatures
from api.routes.vannacht import klanten_router as klant_vannacht
from api.routes.vannacht import router as vannacht
from api.routes.voorstellen import router as voorstellen
from api.routes.zoekopdrachten import router as zoekopdrachten

ROUTERS = (
    security.router,
    klanten,
    vacatures,
    vannacht,
    klant_vannacht,
    matches,
    voorstellen,
    inbox,
    zoekopdrachten,
    rapportages,
    modellen,
    gebruikers,
    instellingen,
    toekenningen,
    status,
    audit,
)
