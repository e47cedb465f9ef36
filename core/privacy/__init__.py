"""A client's data: what the workspace holds about one client, exported as a zip or erased.

`parts` (who holds client data: one part per app, registered in AppConfig.ready), `scope` (the client's
records as ids), `records` (core's own part), `bundle` (the zip), `services` (export, erase, inventory).
"""

from core.privacy.parts import ClientDataPart as ClientDataPart
from core.privacy.parts import blank_for as blank_for
from core.privacy.parts import client_data_part_register as client_data_part_register
from core.privacy.parts import client_data_parts as client_data_parts
from core.privacy.parts import client_linked_models as client_linked_models
from core.privacy.parts import models_answered_for as models_answered_for
from core.privacy.scope import ClientScope as ClientScope
from core.privacy.scope import client_scope as client_scope
from core.privacy.services import ExportResult as ExportResult
from core.privacy.services import client_data_inventory as client_data_inventory
from core.privacy.services import client_erase as client_erase
from core.privacy.services import client_export as client_export
from core.privacy.services import client_exports_dir as client_exports_dir
