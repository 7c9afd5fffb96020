"""The domain: collections, their fields, allowed values and the allowed phase/status transitions.

Everything else (store schema, pygeoapi field lists, queryables, validation) derives from here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

THEMAS = ("verharding", "riolering", "groen", "spelen", "verlichting", "water", "verkeer")
PROJECT_SOORTEN = ("groot onderhoud", "herinrichting", "vervanging", "nieuwe aanleg")
FASEN = ("gepland", "voorbereiding", "inspraak", "uitvoering", "gereed")
VOORSTEL_SOORTEN = ("behoefte", "idee", "initiatief")
CATEGORIEEN = ("groen", "spelen, bewegen en ontmoeten", "paden, wegen en verkeer", "overig")
STATUSSEN = (
    "ingediend",
    "gepubliceerd",
    "in uitwerking",
    "in uitvoering",
    "gerealiseerd",
    "afgewezen",
    "samengevoegd",
)

FASE_TRANSITIONS = {
    "gepland": ("voorbereiding",),
    "voorbereiding": ("inspraak",),
    "inspraak": ("uitvoering",),
    "uitvoering": ("gereed",),
    "gereed": (),
}
STATUS_TRANSITIONS = {
    "ingediend": ("gepubliceerd", "afgewezen", "samengevoegd"),
    "gepubliceerd": ("in uitwerking", "afgewezen", "samengevoegd"),
    "in uitwerking": ("in uitvoering", "afgewezen"),
    "in uitvoering": ("gerealiseerd",),
    "gerealiseerd": (),
    "afgewezen": (),
    "samengevoegd": (),
}

# The English titles of the fields, by their Dutch title.
TITLES_EN = {
    "Wijkcode": "District code",
    "Wijknaam": "District",
    "Gemeentecode": "Municipality code",
    "Gemeente": "Municipality",
    "Jaar": "Year",
    "Oppervlakte (ha)": "Area (ha)",
    "Bron": "Source",
    "Voorstellen per status": "Proposals per status",
    "Steun": "Support",
    "Projecten per planjaar": "Projects per plan year",
    "Projecten per fase": "Projects per phase",
    "Budgetindicatie per planjaar (EUR)": "Indicative budget per plan year (EUR)",
    "Jaar van het wijkbudget": "Year of the district budget",
    "Wijkbudget (EUR)": "District budget (EUR)",
    "Wijkbudget toegekend (EUR)": "District budget granted (EUR)",
    "Wijkbudget resterend (EUR)": "District budget left (EUR)",
    "Buurtcode": "Neighbourhood code",
    "Buurtnaam": "Neighbourhood",
    "Titel": "Title",
    "Omschrijving": "Description",
    "Thema": "Theme",
    "Soort werk": "Kind of work",
    "Soort": "Kind",
    "Fase": "Phase",
    "Start": "Start",
    "Eind": "End",
    "Planjaar": "Plan year",
    "Budgetindicatie (EUR)": "Indicative budget (EUR)",
    "Inspraak tot": "Responses until",
    "Afdeling": "Department",
    "Bijgewerkt": "Updated",
    "Categorie": "Category",
    "Status": "Status",
    "Reden": "Reason",
    "Samengevoegd met": "Merged with",
    "Reacties": "Reactions",
    "Ingediend": "Submitted",
    "Gepubliceerd": "Published",
    "Projecten": "Projects",
    "Auteur": "Author",
    "Code": "Code",
    "Voorstel": "Proposal",
    "Project": "Project",
    "Ander project": "Other project",
    "Planjaar ander project": "Plan year of the other project",
    "Tussenliggende jaren": "Years between",
    "Afstand (m)": "Distance (m)",
    "Collectie": "Collection",
    "Object": "Feature",
    "Van": "From",
    "Naar": "To",
    "Tijdstip": "Moment",
    "Rol": "Role",
    "Toelichting": "Explanation",
}

# What each phase of a project and each status of a proposal means to a resident following it.
STATE_MEANINGS = {
    "gepland": {"nl": "Het werk staat in het wijkbeheerplan.", "en": "The work is in the neighbourhood plan."},
    "voorbereiding": {"nl": "De gemeente werkt het ontwerp uit.", "en": "The municipality prepares the design."},
    "inspraak": {"nl": "Bewoners kunnen op het ontwerp reageren.", "en": "Residents can respond to the design."},
    "uitvoering": {"nl": "Het werk is op straat bezig.", "en": "The work is under way on the street."},
    "gereed": {"nl": "Het werk is klaar.", "en": "The work is finished."},
    "ingediend": {"nl": "Ontvangen; een moderator bekijkt het.", "en": "Received; a moderator reviews it."},
    "gepubliceerd": {
        "nl": "Voor iedereen te zien; buren kunnen het steunen.",
        "en": "Public; neighbours can support it.",
    },
    "in uitwerking": {"nl": "De gemeente werkt het voorstel uit.", "en": "The municipality works it out."},
    "in uitvoering": {"nl": "Het voorstel wordt uitgevoerd.", "en": "The proposal is being carried out."},
    "gerealiseerd": {"nl": "Het resultaat is op straat te zien.", "en": "The result can be seen on the street."},
    "afgewezen": {"nl": "De gemeente voert het niet uit.", "en": "The municipality will not carry it out."},
    "samengevoegd": {
        "nl": "Samengevoegd met een gelijk voorstel; de steun gaat mee.",
        "en": "Merged with a similar proposal, support included.",
    },
    "ingetrokken": {"nl": "De indiener heeft het ingetrokken.", "en": "Withdrawn by the submitter."},
    "verwijderd": {"nl": "Verwijderd.", "en": "Deleted."},
}

# Who may write: the municipality's planners and moderators, and participation clients (front ends
# that act for residents, each resident known to the service only by a pseudonymous participant id).
PLANNER, MODERATOR, PARTICIPATION = "planner", "moderator", "participatie"
ROLES = (PLANNER, MODERATOR, PARTICIPATION)
ANONYMOUS, SYSTEM = "anoniem", "systeem"  # the roles of submissions without a token, and of the service
PUBLIC_STATUSES = ("gepubliceerd", "in uitwerking", "in uitvoering", "gerealiseerd")
SUPPORTABLE = ("gepubliceerd", "in uitwerking", "in uitvoering")
BUDGET_STATUSES = ("in uitwerking", "in uitvoering")  # proposals that hold part of the wijkbudget
REACTIE_STATUSSEN = ("ingediend", "gepubliceerd", "afgewezen")
KOPPELKANS_SOORTEN = ("voorstel bij project", "projecten samen")

DEMO_SOURCE = "demo: gegenereerd, fictief"  # the `bron` of generated demo features

# The domain of every value: integers that JSON clients and 64-bit columns carry exactly, and dates
# of the last and the coming centuries. Fields narrow these to what is plausible for them.
SAFE_INTEGER = 2**53 - 1
MAX_LIST_ITEMS = 100
MAX_BUDGET = 10_000_000_000  # EUR: the indicative budget of one project
MAX_WIJKBUDGET = 10_000_000  # EUR: what one initiative may ask of a wijk's yearly budget
FIRST_DATE, LAST_DATE = "1900-01-01", "2199-12-31"

AREA_TYPES = ("Polygon", "MultiPolygon")
ALL_TYPES = ("Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon")


@dataclass(frozen=True)
class Family:
    """Geometry types of one dimension: what a client that gives a layer one type can draw whole."""

    name: str
    types: tuple[str, str]
    dimension: int
    words: dict


FAMILIES = {
    f.name: f
    for f in (
        Family("punten", ("Point", "MultiPoint"), 0, {"nl": "punten", "en": "points"}),
        Family("lijnen", ("LineString", "MultiLineString"), 1, {"nl": "lijnen", "en": "lines"}),
        Family("vlakken", ("Polygon", "MultiPolygon"), 2, {"nl": "vlakken", "en": "areas"}),
    )
}


JSON_TYPES = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "boolean": {"type": "boolean"},
    "integer-list": {"type": "array", "items": {"type": "integer"}},
    "object": {"type": "object"},
}


@dataclass(frozen=True)
class Field:
    """One property of a collection.

    kind is one of: string, integer, number, date, datetime, boolean, integer-list, object.
    derived fields are computed by the service and cannot be set by a client.
    minimum, maximum: the range of an integer (or of each integer of a list).
    """

    name: str
    kind: str
    title: str
    description: str = ""
    required: bool = False
    values: tuple[str, ...] = ()
    derived: bool = False
    max_length: int | None = None
    minimum: int = -SAFE_INTEGER
    maximum: int = SAFE_INTEGER

    def title_in(self, language: str) -> str:
        """The title in a language of the service (Dutch where no translation is known)."""
        return TITLES_EN.get(self.title, self.title) if language == "en" else self.title

    @property
    def unit(self) -> str | None:
        """The unit of a quantity, as its title ends with it: 'Budgetindicatie (EUR)' → 'EUR'."""
        if self.title.endswith(")") and "(" in self.title:
            return self.title.rsplit("(", 1)[1][:-1]
        return None

    def schema(self) -> dict:
        """The JSON Schema of the field's values, with its allowed values."""
        schema = {**JSON_TYPES[self.kind], "title": self.title}
        if self.description:
            schema["description"] = self.description
        if self.values:
            schema["enum"] = list(self.values)
        if self.max_length:
            schema["maxLength"] = self.max_length
        if self.kind in ("integer", "integer-list"):
            bounds = {"minimum": self.minimum, "maximum": self.maximum}
            if self.kind == "integer":
                schema.update(bounds)
            else:
                schema["items"] = {**schema["items"], **bounds}
                schema["maxItems"] = MAX_LIST_ITEMS
        if self.derived:
            schema["readOnly"] = True
        return schema


@dataclass(frozen=True)
class Collection:
    """A feature collection: its table, geometry types, identifier and fields.

    temporal: the field(s) a `datetime` query compares with: one instant or a start and an end.
    public_when: a field that must have a value for the public to see a feature.
    writers: the roles that may create, change and delete its features.
    participant_fields: what a participant may set (through a participation client).
    max_vertices, max_extent_m: the largest geometry accepted (vertices; envelope diagonal).
    source, family: for a collection of one geometry family, the collection whose features it shows.
    """

    name: str
    title: dict
    description: dict
    geometry_types: tuple[str, ...]
    fields: tuple[Field, ...]
    id_field: str = "id"
    title_field: str = "titel"
    public_when: str | None = None
    lifecycle: tuple[str, dict] | None = None
    temporal: tuple[str, ...] = ()
    writers: tuple[str, ...] = ()
    participant_fields: tuple[str, ...] = ()
    max_vertices: int = 10_000
    max_extent_m: float = 20_000
    source: str | None = None
    family: str | None = None

    @property
    def table(self) -> str:
        """The table that holds the features."""
        return self.source or self.name

    @property
    def families(self) -> tuple[Family, ...]:
        """The geometry families of the collection's features."""
        return tuple(f for f in FAMILIES.values() if set(f.types) & set(self.geometry_types))

    @property
    def mixed(self) -> bool:
        """Whether the collection holds more than one geometry family (and offers one per family)."""
        return len(self.families) > 1

    @property
    def geometry_format(self) -> str:
        """The geometry type as OGC API - Features Part 5 names it (`format` of the primary geometry)."""
        if self.mixed:
            return "geometry-any"
        [family] = self.families
        types = [t for t in family.types if t in self.geometry_types]
        return f"geometry-{types[0].lower()}" if len(types) == 1 else f"geometry-{'-or-'.join(family.types).lower()}"

    @property
    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @property
    def editable(self) -> bool:
        return bool(self.writers)

    @property
    def queryable_fields(self) -> tuple[Field, ...]:
        """The fields a filter can compare (not lists or objects)."""
        return tuple(f for f in self.fields if f.kind not in ("integer-list", "object"))

    @property
    def storage_geometry_type(self) -> str:
        """The GeoPackage geometry type name of the table."""
        if self.geometry_types == AREA_TYPES:
            return "MULTIPOLYGON"
        return "POINT" if self.geometry_types == ("Point",) else "GEOMETRY"


def _text(name, title, description="", max_length=200, **kw) -> Field:
    return Field(name, "string", title, description, max_length=max_length, **kw)


def _choice(name, title, values, description="", **kw) -> Field:
    return Field(name, "string", title, description, values=values, **kw)


_AREA_COMMON = (
    _text("gemeentecode", "Gemeentecode", "CBS-code van de gemeente (GMxxxx)", 6, required=True),
    _text("gemeentenaam", "Gemeente", required=True),
    Field("jaar", "integer", "Jaar", "Jaar van de CBS Wijk- en Buurtkaart", required=True, minimum=1900, maximum=2199),
    Field("oppervlakte_ha", "number", "Oppervlakte (ha)", derived=True),
    _text("bron", "Bron", "Herkomst van de grens", required=True),
)

WIJKEN = Collection(
    name="wijken",
    title={"nl": "Wijken", "en": "Districts"},
    description={
        "nl": "Wijken van de gemeente (CBS Wijk- en Buurtkaart). Bron: CBS, Kadaster.",
        "en": "Districts of the municipality (CBS district and neighbourhood map). Source: CBS, Kadaster.",
    },
    geometry_types=AREA_TYPES,
    id_field="wijkcode",
    title_field="wijknaam",
    fields=(
        _text("wijkcode", "Wijkcode", "CBS-code van de wijk (WKxxxxxx)", 8, required=True),
        _text("wijknaam", "Wijknaam", required=True),
        *_AREA_COMMON,
        Field("voorstellen_per_status", "object", "Voorstellen per status", derived=True),
        Field("steun", "integer", "Steun", "Steunbetuigingen voor gepubliceerde voorstellen", derived=True),
        Field("projecten_per_planjaar", "object", "Projecten per planjaar", derived=True),
        Field("projecten_per_fase", "object", "Projecten per fase", derived=True),
        Field("budget_per_planjaar", "object", "Budgetindicatie per planjaar (EUR)", derived=True),
        Field("wijkbudget_jaar", "integer", "Jaar van het wijkbudget", derived=True),
        Field("wijkbudget", "integer", "Wijkbudget (EUR)", "Jaarlijks budget voor bewonersinitiatieven", derived=True),
        Field(
            "wijkbudget_toegekend",
            "integer",
            "Wijkbudget toegekend (EUR)",
            "Gevraagd door voorstellen in uitwerking of uitvoering",
            derived=True,
        ),
        Field("wijkbudget_resterend", "integer", "Wijkbudget resterend (EUR)", derived=True),
    ),
)

BUURTEN = Collection(
    name="buurten",
    title={"nl": "Buurten", "en": "Neighbourhoods"},
    description={
        "nl": "Buurten van de gemeente (CBS Wijk- en Buurtkaart). Bron: CBS, Kadaster.",
        "en": "Neighbourhoods of the municipality (CBS district and neighbourhood map). Source: CBS, Kadaster.",
    },
    geometry_types=AREA_TYPES,
    id_field="buurtcode",
    title_field="buurtnaam",
    fields=(
        _text("buurtcode", "Buurtcode", "CBS-code van de buurt (BUxxxxxxxx)", 10, required=True),
        _text("buurtnaam", "Buurtnaam", required=True),
        _text("wijkcode", "Wijkcode", "Wijk waarin de buurt ligt", 8, required=True),
        _text("wijknaam", "Wijknaam", required=True),
        *_AREA_COMMON,
    ),
)

_LOCATION = (
    _text("wijkcode", "Wijkcode", "Afgeleid uit de geometrie", 8, derived=True),
    _text("buurtcode", "Buurtcode", "Afgeleid uit de geometrie", 10, derived=True),
)

PROJECTEN = Collection(
    name="projecten",
    title={"nl": "Projecten wijkbeheerplan", "en": "Planned works (wijkbeheerplan)"},
    description={
        "nl": "Gepland groot onderhoud en herinrichting van de openbare ruimte per wijk.",
        "en": "Planned major maintenance and redesign of public space per district.",
    },
    geometry_types=ALL_TYPES,
    lifecycle=("fase", FASE_TRANSITIONS),
    temporal=("start", "eind"),
    writers=(PLANNER,),
    fields=(
        _text("titel", "Titel", required=True),
        _text("omschrijving", "Omschrijving", max_length=4000),
        _choice("thema", "Thema", THEMAS, required=True),
        _choice("soort", "Soort werk", PROJECT_SOORTEN, required=True),
        _choice("fase", "Fase", FASEN, required=True),
        Field("start", "date", "Start", "Geplande start van het werk", required=True),
        Field("eind", "date", "Eind", "Gepland einde van het werk", required=True),
        Field("planjaar", "integer", "Planjaar", required=True, minimum=2000, maximum=2100),
        Field("budget_indicatie", "integer", "Budgetindicatie (EUR)", minimum=0, maximum=MAX_BUDGET),
        Field("inspraak_tot", "date", "Inspraak tot", "Datum tot wanneer bewoners kunnen reageren"),
        *_LOCATION,
        _text("afdeling", "Afdeling", "Verantwoordelijke afdeling"),
        _text("bron", "Bron", "Herkomst van het record"),
        Field("bijgewerkt", "datetime", "Bijgewerkt", derived=True),
    ),
)

VOORSTELLEN = Collection(
    name="voorstellen",
    title={"nl": "Voorstellen van bewoners", "en": "Residents' proposals"},
    description={
        "nl": "Behoeften, ideeën en initiatieven van bewoners en ondernemers (na moderatie gepubliceerd).",
        "en": "Needs, ideas and initiatives of residents and businesses (published after moderation).",
    },
    geometry_types=("Point", "LineString", "Polygon"),
    public_when="gepubliceerd",
    lifecycle=("status", STATUS_TRANSITIONS),
    temporal=("ingediend",),
    writers=(MODERATOR, PLANNER, PARTICIPATION),
    participant_fields=("titel", "omschrijving", "soort", "categorie", "wijkbudget", "auteur"),
    max_vertices=1_000,
    max_extent_m=2_000,
    fields=(
        _text("titel", "Titel", required=True, max_length=120),
        _text("omschrijving", "Omschrijving", max_length=4000),
        _choice("soort", "Soort", VOORSTEL_SOORTEN, required=True),
        _choice("categorie", "Categorie", CATEGORIEEN, required=True),
        _choice("status", "Status", STATUSSEN, required=True),
        _text("reden", "Reden", "Toelichting bij afwijzing", max_length=2000),
        Field("samengevoegd_met", "integer", "Samengevoegd met", "Voorstel waarin dit is opgegaan", minimum=1),
        Field("steun", "integer", "Steun", "Aantal steunbetuigingen", derived=True),
        Field("reacties", "integer", "Reacties", "Aantal gepubliceerde reacties", derived=True),
        Field("ingediend", "datetime", "Ingediend", "Moment van indienen (standaard: nu)"),
        Field("gepubliceerd", "datetime", "Gepubliceerd", "Moment van publicatie na moderatie", derived=True),
        Field("bijgewerkt", "datetime", "Bijgewerkt", derived=True),
        *_LOCATION,
        Field("projecten", "integer-list", "Projecten", "Gekoppelde projecten", minimum=1),
        Field(
            "wijkbudget",
            "integer",
            "Wijkbudget (EUR)",
            "Gevraagd uit het wijkbudget",
            minimum=0,
            maximum=MAX_WIJKBUDGET,
        ),
        _text("auteur", "Auteur", "Publieke naam van de indiener (optioneel)", max_length=80),
        _text("bron", "Bron", "Herkomst van het record"),
    ),
)

KOPPELKANSEN = Collection(
    name="koppelkansen",
    title={"nl": "Koppelkansen", "en": "Linking opportunities"},
    description={
        "nl": "Waar een gepubliceerd voorstel bij gepland werk ligt, of twee projecten dezelfde ruimte delen "
        "binnen enkele jaren: kansen om werk te combineren. Afgeleid na elke wijziging.",
        "en": "Where a published proposal lies at planned works, or two projects share space within a few "
        "years: chances to combine work. Derived after every change.",
    },
    geometry_types=ALL_TYPES,
    id_field="code",
    fields=(
        _text("code", "Code", "V<voorstel>-P<project> of P<project>-P<project>", 40, required=True),
        _choice("soort", "Soort", KOPPELKANS_SOORTEN, required=True),
        _text("titel", "Titel", max_length=400, required=True),
        Field("voorstel", "integer", "Voorstel"),
        Field("project", "integer", "Project", required=True),
        Field("ander_project", "integer", "Ander project"),
        Field("planjaar", "integer", "Planjaar", "Planjaar van het project", required=True),
        Field("ander_planjaar", "integer", "Planjaar ander project"),
        Field(
            "tussenliggende_jaren",
            "integer",
            "Tussenliggende jaren",
            "Jaren tussen de twee projecten, of van nu tot het project",
        ),
        Field("afstand_m", "number", "Afstand (m)", required=True),
        *_LOCATION,
    ),
)

STATUSWIJZIGINGEN = Collection(
    name="statuswijzigingen",
    title={"nl": "Statuswijzigingen", "en": "Status changes"},
    description={
        "nl": "Elke fase- en statuswijziging van projecten en voorstellen, met tijd, rol en toelichting: "
        "de geschiedenis van elk voorstel en project.",
        "en": "Every phase and status change of projects and proposals, with time, role and explanation.",
    },
    geometry_types=("Point",),
    public_when="gepubliceerd",
    temporal=("tijdstip",),
    fields=(
        _choice("collectie", "Collectie", ("projecten", "voorstellen"), required=True),
        Field("object_id", "integer", "Object", required=True),
        _text("titel", "Titel", "Titel van het object zoals die nu gepubliceerd is", required=True),
        _text("van", "Van", "Fase of status ervoor (leeg bij aanmaken)"),
        _text("naar", "Naar", "Fase of status erna (ingetrokken of verwijderd bij verwijderen)", required=True),
        Field("tijdstip", "datetime", "Tijdstip", required=True),
        _choice("rol", "Rol", (*ROLES, ANONYMOUS, SYSTEM), required=True),
        _text("toelichting", "Toelichting", max_length=2000),
        *_LOCATION,
        Field("gepubliceerd", "datetime", "Gepubliceerd", "Sinds wanneer de wijziging openbaar is"),
    ),
)


def family_view(collection: Collection, family: Family) -> Collection:
    """The features of one geometry family of a mixed collection, as a read-only collection."""
    words = family.words
    return replace(
        collection,
        name=f"{collection.name}-{family.name}",
        title={lang: f"{title} ({words[lang]})" for lang, title in collection.title.items()},
        description={
            "nl": f"Alleen de {words['nl']} van {collection.name} (zelfde ids en velden): één geometrietype, zodat "
            f"QGIS en andere clients die een laag één type geven alles tekenen. {collection.description['nl']}",
            "en": f"Only the {words['en']} of {collection.name} (same ids and fields): one geometry type, so that "
            f"QGIS and other clients that give a layer one type draw everything. {collection.description['en']}",
        },
        geometry_types=tuple(t for t in collection.geometry_types if t in family.types),
        writers=(),
        participant_fields=(),
        source=collection.name,
        family=family.name,
    )


# The collections that hold features (a table each), and every collection the service offers.
TABLES = {c.name: c for c in (WIJKEN, BUURTEN, PROJECTEN, VOORSTELLEN, KOPPELKANSEN, STATUSWIJZIGINGEN)}
VIEWS = {view.name: view for c in TABLES.values() if c.mixed for view in (family_view(c, f) for f in c.families)}
COLLECTIONS = {**TABLES, **VIEWS}
