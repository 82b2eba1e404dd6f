"""A DHIS2 server as docs/providers.md describes it: system info, /api/me, tracker programs
with their attributes and org units, org units, and the tracked-entity query in the 2.41+
shape (`orgUnits`/`orgUnitMode`, `pager`, `trackedEntities`) or the 2.38-2.40 one
(`orgUnit`/`ouMode`, top-level `page`/`pageSize`, `instances`), by `version`.

Tracked entities live in `stub.entities` (tracker JSON, oldest first); `add_entities()` makes
many valid ones, `add_entity()` one with chosen values, `touch()` changes one now (its
`updatedAt` moves to the stub's clock, like an edit in DHIS2).
"""

import base64
import datetime
import secrets
import ssl
import tempfile
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.stubs.base import Reply, StubServer, _Handler, _Server

PROGRAM = "IpHINAT79UW"  # Child Programme
OTHER_PROGRAM = "ur1Edk5Oe2n"  # TB program: its attribute is not the Child Programme's
COUNTRY, DISTRICT, FACILITY = "ImspTQPwCqd", "O6uvpzGd5pu", "DiszpKrYNg8"
OTHER_DISTRICT, OTHER_FACILITY = "jUb8gELQApl", "Rp268JB6Ne4"
OUTSIDE_DISTRICT = "fdc6uOvgoji"  # has no facility of the program
ATTRIBUTES = {
    "first_name": ("w75KJ2mc4zz", "First name", "TEXT"),
    "last_name": ("zDhUuAYrxNC", "Last name", "TEXT"),
    "date_of_birth": ("iESIqZ0R0R0", "Date of birth", "DATE"),
    "sex": ("cejWyOfXge6", "Gender", "TEXT"),
    "phone_number": ("P2cwLGskgxn", "Mobile number", "PHONE_NUMBER"),
    "mpi_id": ("AuPLng5hLbE", "National identifier", "TEXT"),
    "vaccine": ("ruQQnf6rswq", "Vaccine given", "TEXT"),
}
TB_ATTRIBUTE = "dRKIjwIDab4"
MAPPING = {field: uid for field, (uid, _name, _type) in ATTRIBUTES.items()}
FIRST_NAMES = ("Awa", "Moussa", "Fatou", "Ibrahima", "Aminata", "Cheikh", "Khady", "Mamadou")
LAST_NAMES = ("Diop", "Ndiaye", "Fall", "Sow", "Ba", "Sy", "Diallo", "Faye")


def uid(prefix, n):
    """A DHIS2-shaped uid (11 chars, a letter first) unique per prefix and n."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    text = ""
    while True:
        n, rest = divmod(n, 62)
        text = digits[rest] + text
        if not n:
            break
    return (prefix + text.rjust(11 - len(prefix), "0"))[:11]


def dhis2_time(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def error(status, message):
    phrase = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict"}
    return Reply(status, {"httpStatus": phrase.get(status, "Error"), "httpStatusCode": status,
                          "status": "ERROR", "message": message})


class Dhis2Stub(StubServer):
    name = "dhis2"

    def __init__(self, *, version="2.41.1"):
        super().__init__()
        self.version = version
        self.token = "d2pat_" + secrets.token_hex(21) + "1234567890"
        self.username, self.password = "admin", "district"
        self.entities = []
        self._index = {}
        self._cache = {}
        self._data_lock = threading.Lock()
        self.org_units = {
            COUNTRY: ("Sierra Leone", f"/{COUNTRY}", 1),
            DISTRICT: ("Bo", f"/{COUNTRY}/{DISTRICT}", 2),
            OTHER_DISTRICT: ("Kailahun", f"/{COUNTRY}/{OTHER_DISTRICT}", 2),
            OUTSIDE_DISTRICT: ("Bombali", f"/{COUNTRY}/{OUTSIDE_DISTRICT}", 2),
            FACILITY: ("Ngelehun CHC", f"/{COUNTRY}/{DISTRICT}/{FACILITY}", 3),
            OTHER_FACILITY: ("Kailahun Hospital",
                             f"/{COUNTRY}/{OTHER_DISTRICT}/{OTHER_FACILITY}", 3),
        }
        self.programs = {
            PROGRAM: ("Child Programme", list(ATTRIBUTES.values()), [FACILITY, OTHER_FACILITY]),
            OTHER_PROGRAM: ("TB program", [(TB_ATTRIBUTE, "TB number", "TEXT")], [FACILITY]),
        }
        self._created = datetime.datetime(2024, 1, 1, 8, 0, 0)

    # --- what a test configures ----------------------------------------------------------

    def config(self, auth="token"):
        """A connection config that works against this stub."""
        if auth == "token":
            return {"base_url": self.url, "auth": "token", "token": self.token}
        return {"base_url": self.url, "auth": "basic", "username": self.username,
                "password": self.password}

    @property
    def shape(self):
        major, minor = (int(part) for part in self.version.split(".")[:2])
        return "pager" if (major, minor) >= (2, 41) else "instances"

    def now(self):
        return dhis2_time(datetime.datetime.now(datetime.UTC).replace(tzinfo=None))

    def add_entities(self, count, *, start=0, fresh=False):
        """`count` valid tracked entities, enrolled in PROGRAM in one of its two facilities;
        `fresh` ones are stamped with the clock (entered now), others in early 2024."""
        for n in range(start, start + count):
            self.add_entity(
                n, fresh=fresh,
                first_name=FIRST_NAMES[n % len(FIRST_NAMES)],
                last_name=f"{LAST_NAMES[n % len(LAST_NAMES)]} {n}",
                date_of_birth=f"{2015 + n % 9}-{1 + n % 12:02d}-{1 + n % 28:02d}",
                sex="Female" if n % 2 else "Male",
                phone_number=f"+22177{n:07d}",
                mpi_id=f"MPI{n:08d}",
                vaccine="Penta 3",
            )

    def add_entity(self, n, *, enrollments=None, org_unit=None, fresh=False, **values):
        """One tracked entity numbered `n`; `values` by our field names (None: no value)."""
        org_unit = org_unit or (FACILITY if n % 2 else OTHER_FACILITY)
        self._created += datetime.timedelta(seconds=1)
        stamp = self.now() if fresh else dhis2_time(self._created)
        if enrollments is None:
            enrollments = [{"enrollment": uid("En", n), "program": PROGRAM, "orgUnit": org_unit,
                            "enrolledAt": stamp, "status": "ACTIVE"}]
        entity = {
            "trackedEntity": uid("Te", n),
            "createdAt": stamp,
            "updatedAt": stamp,
            "orgUnit": org_unit,
            "attributes": [
                {"attribute": ATTRIBUTES[field][0], "displayName": ATTRIBUTES[field][1],
                 "value": value}
                for field, value in values.items() if value is not None
            ],
            "enrollments": enrollments,
        }
        with self._data_lock:
            self._index[entity["trackedEntity"]] = entity
            self.entities.append(entity)
            self._cache.clear()
        return entity

    def touch(self, n, **values):
        """Changes entity `n` now: its attributes get `values`, its `updatedAt` the clock."""
        with self._data_lock:
            entity = self._index[uid("Te", n)]
            by_uid = {a["attribute"]: a for a in entity["attributes"]}
            for field, value in values.items():
                attribute_uid = ATTRIBUTES[field][0]
                if value is None:
                    by_uid.pop(attribute_uid, None)
                else:
                    by_uid[attribute_uid] = {"attribute": attribute_uid, "value": value,
                                             "displayName": ATTRIBUTES[field][1]}
            entity["attributes"] = list(by_uid.values())
            entity["updatedAt"] = self.now()
            self._cache.clear()

    def page_requests(self):
        return self.received("GET", "/api/tracker/trackedEntities")

    # --- answering -----------------------------------------------------------------------

    def route(self, request):
        if not self._authorised(request):
            return error(401, "Unauthorized")
        path = request.path.rstrip("/")
        if path == "/api/system/info":
            return Reply(200, {"version": self.version, "revision": "stub",
                               "serverDate": self.now(), "systemName": "Stub DHIS2",
                               "contextPath": self.url})
        if path == "/api/me":
            return Reply(200, {"id": "M5zQapPyTZI", "username": self.username,
                               "displayName": "John Traore"})
        if path == "/api/programs":
            return Reply(200, {"programs": [{"id": key, "displayName": value[0]}
                                            for key, value in self.programs.items()]})
        if path.startswith("/api/programs/"):
            return self._program(path.rsplit("/", 1)[1])
        if path == "/api/organisationUnits":
            wanted = request.query.get("filter", "").removeprefix("id:in:[").rstrip("]")
            return Reply(200, {"organisationUnits": [
                self._org_unit(key) for key in wanted.split(",") if key in self.org_units
            ]})
        if path.startswith("/api/organisationUnits/"):
            key = path.rsplit("/", 1)[1]
            if key not in self.org_units:
                return error(404, f"OrganisationUnit with id {key} could not be found.")
            return Reply(200, self._org_unit(key))
        if path == "/api/tracker/trackedEntities":
            return self._tracked_entities(request.query)
        return error(404, f"No endpoint {path}")

    def _authorised(self, request):
        header = request.headers.get("authorization", "")
        if header == f"ApiToken {self.token}":
            return True
        basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return header == f"Basic {basic}"

    def _org_unit(self, key):
        name, path, level = self.org_units[key]
        return {"id": key, "displayName": name, "path": path, "level": level}

    def _program(self, key):
        if key not in self.programs:
            return error(404, f"Program with id {key} could not be found.")
        name, attributes, org_units = self.programs[key]
        return Reply(200, {
            "id": key, "displayName": name,
            "programTrackedEntityAttributes": [
                {"trackedEntityAttribute": {"id": a, "displayName": n, "valueType": t}}
                for a, n, t in attributes
            ],
            "organisationUnits": [{"id": ou, "path": self.org_units[ou][1]} for ou in org_units],
        })

    def _tracked_entities(self, query):
        if self.shape == "pager":
            if "orgUnit" in query or "ouMode" in query:
                return error(400, "Only one parameter of 'orgUnit' and 'orgUnits' must be "
                                  "specified. Prefer 'orgUnits' as 'orgUnit' will be removed.")
            org_unit, mode = query.get("orgUnits", ""), query.get("orgUnitMode", "SELECTED")
        else:
            if "orgUnits" in query or "orgUnitMode" in query:
                return error(400, "Unknown parameter orgUnits")
            org_unit, mode = query.get("orgUnit", ""), query.get("ouMode", "SELECTED")
        program = query.get("program", "")
        if program not in self.programs:
            return error(409, f"Program is specified but does not exist: {program}")
        if org_unit not in self.org_units:
            return error(409, f"Organisation unit does not exist: {org_unit}")
        page, size = int(query.get("page", 1)), int(query.get("pageSize", 50))
        matching = self._matching(program, org_unit, mode, query.get("updatedAfter", ""),
                                  query.get("updatedBefore", ""))
        chunk = matching[(page - 1) * size : page * size]
        pager = {"page": page, "pageSize": size}
        if query.get("totalPages") == "true":
            pager.update(total=len(matching), pageCount=-(-len(matching) // size))
        if self.shape == "pager":
            return Reply(200, {"pager": pager, "trackedEntities": chunk})
        return Reply(200, {**pager, "instances": chunk})

    def _matching(self, program, org_unit, mode, after, before):
        key = (program, org_unit, mode, after, before)
        with self._data_lock:
            if key not in self._cache:
                ou_path = self.org_units[org_unit][1]
                found = []
                for entity in self.entities:
                    if after and entity["updatedAt"] <= after:
                        continue
                    if before and entity["updatedAt"] > before:
                        continue
                    enrolled = [e for e in entity["enrollments"] if e["program"] == program]
                    if not enrolled and entity["enrollments"]:
                        continue
                    where = self.org_units[enrolled[0]["orgUnit"] if enrolled
                                           else entity["orgUnit"]][1]
                    if where == ou_path or (mode == "DESCENDANTS" and
                                            where.startswith(ou_path + "/")):
                        found.append(entity)
                self._cache[key] = found
            return self._cache[key]


class TlsDhis2Stub(Dhis2Stub):
    """The same server behind HTTPS with a self-signed certificate nobody trusts."""

    def start(self):
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"stub": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert_path, key_path = _self_signed_files()
        context.load_cert_chain(cert_path, key_path)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"https://{host}:{port}"


def _self_signed_files():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "stub-dhis2.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix="dhis2-tls-")
    cert_path, key_path = f"{folder}/cert.pem", f"{folder}/key.pem"
    with open(cert_path, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as fh:
        fh.write(key.private_bytes(serialization.Encoding.PEM,
                                   serialization.PrivateFormat.PKCS8,
                                   serialization.NoEncryption()))
    return cert_path, key_path

