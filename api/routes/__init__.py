"""The resource routers of the API, one module per group of resources; ``api.app`` includes them all."""

from api.routes.admin import router as admin
from api.routes.instellingen import router as instellingen
from api.routes.resources import router as resources
from api.routes.toekenningen import router as toekenningen
from api.routes.verwijderen import router as verwijderen
from api.routes.workflow import router as workflow

ROUTERS = (resources, workflow, admin, instellingen, verwijderen, toekenningen)
