"""The demo data set: real CBS boundaries of Nijmegen with a generated, fictitious wijkbeheerplan
and participation history on top (deterministic for a given seed).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely import affinity, ops
from tqdm import tqdm

from geoservice.derived import derivation
from geoservice.domain.model import (
    CATEGORIEEN,
    DEMO_SOURCE,
    FASEN,
    MODERATOR,
    PARTICIPATION,
    PLANNER,
    PROJECT_SOORTEN,
    PUBLIC_STATUSES,
    STATUSSEN,
    THEMAS,
    VOORSTEL_SOORTEN,
)
from geoservice.domain.policy import Policy
from geoservice.domain.validation import format_datetime
from geoservice.participation.tokens import participant_key
from geoservice.store import STORAGE_SRID, participation, staging
from geoservice.store.base import SERVICE
from geoservice.store.history import Step

BOUNDARIES = Path(__file__).resolve().parents[2] / "data" / "nijmegen-2024" / "buurten_rd.geojson"
SOURCE = "CBS, Kadaster (Wijk- en Buurtkaart 2024)"
REFERENCE_DATE = dt.date(2026, 11, 1)  # "today" of the generated history
PLAN_YEARS = range(2025, 2033)
NAME_FIXES = {"t Acker": "'t Acker", "t Broek": "'t Broek"}

STREET_STEMS = (
    "Linden",
    "Eiken",
    "Berken",
    "Kastanje",
    "Populieren",
    "Wilgen",
    "Meidoorn",
    "Vlier",
    "Hazelaar",
    "Esdoorn",
    "Merel",
    "Lijster",
    "Spreeuwen",
    "Zwaluw",
    "Vinken",
    "Reiger",
    "Rembrandt",
    "Vermeer",
    "Ruysdael",
    "Jan Steen",
    "Frans Hals",
    "Molen",
    "Kerk",
    "School",
    "Dorps",
    "Akker",
    "Veld",
    "Beek",
    "Dijk",
    "Weide",
    "Graaf",
    "Bisschop",
    "Prins",
    "Koning",
    "Sint Jans",
    "Klooster",
    "Waal",
    "Heuvel",
)
STREET_SUFFIXES = ("straat", "straat", "laan", "weg", "singel", "pad", "dreef", "hof", "kade")
SQUARE_SUFFIXES = ("plein", "park", "plantsoen", "veld")

THEMA_WORK = {
    "verharding": ("Groot onderhoud asfalt {s}", "Vervangen bestrating {s}", "Herstraten trottoirs {s}"),
    "riolering": ("Vervangen riolering {s}", "Relinen riool {s}", "Afkoppelen regenwater {s}"),
    "groen": ("Vergroenen {s}", "Nieuwe bomen {s}", "Renovatie plantsoen {s}"),
    "spelen": ("Vernieuwen speelplek {s}", "Nieuwe speeltoestellen {s}", "Sport- en beweegplek {s}"),
    "verlichting": ("Vervangen lichtmasten {s}", "Ledverlichting {s}", "Verlichting fietspad {s}"),
    "water": ("Wadi {s}", "Baggeren watergang {s}", "Klimaatadaptieve inrichting {s}"),
    "verkeer": ("Herinrichting 30 km-zone {s}", "Veilige schoolroute {s}", "Fietsstraat {s}"),
}
THEMA_TEXT = {
    "verharding": "De verharding is versleten en wordt vernieuwd; trottoirs worden waar nodig verbreed.",
    "riolering": "Het riool heeft het einde van zijn levensduur bereikt. Regenwater wordt waar mogelijk "
    "afgekoppeld en in de bodem geïnfiltreerd.",
    "groen": "Meer en gevarieerder groen voor schaduw, biodiversiteit en minder hittestress.",
    "spelen": "De speelplek wordt samen met kinderen en ouders uit de buurt opnieuw ingericht.",
    "verlichting": "Verouderde armaturen worden vervangen door zuinige ledverlichting met dimprofiel.",
    "water": "Ruimte voor water: bij hevige buien kan het regenwater hier tijdelijk worden opgevangen.",
    "verkeer": "De straat wordt veiliger ingericht voor voetgangers en fietsers; de snelheid gaat omlaag.",
}
THEMA_AFDELING = {
    "verharding": "Stadsbeheer - Wegen",
    "riolering": "Stadsbeheer - Riolering en Water",
    "groen": "Stadsbeheer - Groen",
    "spelen": "Stadsbeheer - Spelen en Bewegen",
    "verlichting": "Stadsbeheer - Openbare Verlichting",
    "water": "Stadsbeheer - Riolering en Water",
    "verkeer": "Mobiliteit",
}
THEMA_SHAPES = {  # (probability of line, polygon, point, multi)
    "verharding": (0.85, 0.1, 0.0, 0.05),
    "riolering": (0.9, 0.0, 0.0, 0.1),
    "groen": (0.2, 0.55, 0.15, 0.1),
    "spelen": (0.0, 0.6, 0.35, 0.05),
    "verlichting": (0.5, 0.0, 0.2, 0.3),
    "water": (0.4, 0.5, 0.1, 0.0),
    "verkeer": (0.8, 0.1, 0.1, 0.0),
}
THEMA_RATE = {
    "verharding": 180,
    "riolering": 1400,
    "groen": 60,
    "spelen": 150,
    "verlichting": 120,
    "water": 90,
    "verkeer": 450,
}  # EUR per metre of street or per m2 of area
THEMA_CATEGORIE = {
    "groen": "groen",
    "water": "groen",
    "spelen": "spelen, bewegen en ontmoeten",
    "verharding": "paden, wegen en verkeer",
    "verkeer": "paden, wegen en verkeer",
    "riolering": "overig",
    "verlichting": "overig",
}

PROPOSAL_TITLES = {
    "groen": (
        "Meer bomen in de {s}",
        "Geveltuintjes in de {s}",
        "Bloemrijke berm langs de {s}",
        "Tegels eruit, groen erin: {s}",
        "Buurtmoestuin bij de {s}",
        "Schaduw op het {p}",
    ),
    "spelen, bewegen en ontmoeten": (
        "Speeltoestellen voor kleine kinderen bij de {s}",
        "Jeu-de-boulesbaan op het {p}",
        "Bankjes bij het speelveld {p}",
        "Calisthenics-toestel in het {p}",
        "Ontmoetingsplek voor ouderen {s}",
        "Voetbalkooi {p}",
    ),
    "paden, wegen en verkeer": (
        "Drempel tegen hardrijders in de {s}",
        "Veilige oversteek bij de school {s}",
        "Fietsenrek bij de winkels {s}",
        "Losliggende tegels {s}",
        "Verlaagde stoeprand {s}",
        "Wandelpad langs het {p}",
    ),
    "overig": (
        "Afvalbak bij het bankje {s}",
        "Betere verlichting op het pad {s}",
        "Kunstwerk op het {p}",
        "Watertappunt op het {p}",
        "Bankje bij de bushalte {s}",
        "Wateroverlast bij hevige regen {s}",
    ),
}
PROPOSAL_TEXT = {
    "behoefte": "Bewoners merken dat hier iets ontbreekt en vragen de gemeente om mee te denken.",
    "idee": "Een idee uit de buurt; graag samen uitwerken met de gemeente en de buren.",
    "initiatief": "Dit pakken we als buurt zelf op; we vragen de gemeente om ruimte en een bijdrage.",
}
REJECTION_REASONS = (
    "Past niet binnen het bestemmingsplan.",
    "Er liggen kabels en leidingen op deze plek.",
    "Onvoldoende draagvlak in de buurt na de inspraak.",
    "Wordt al meegenomen in een gepland project.",
    "Verkeersveiligheid laat dit op deze plek niet toe.",
)
AUTHORS = (
    "Bewonersgroep {b}",
    "Buurtvereniging {b}",
    "Sanne",
    "Mohamed",
    "Familie de Vries",
    "Ondernemers {b}",
    "Speeltuinvereniging {b}",
    "Jeroen",
    "Fatima",
    "Wim en Ria",
)
REACTIONS = (
    "Goed idee, dit mist echt in onze straat.",
    "Graag ook aandacht voor de stoep aan de overkant.",
    "Ik help graag mee met de uitvoering.",
    "Kan dit samen met het groot onderhoud?",
    "Denk ook aan mensen met een rollator.",
    "Eens! De kinderen uit de buurt zouden er blij mee zijn.",
)
STATUS_WEIGHTS = {
    "ingediend": 0.09,
    "gepubliceerd": 0.45,
    "in uitwerking": 0.14,
    "in uitvoering": 0.09,
    "gerealiseerd": 0.10,
    "afgewezen": 0.08,
    "samengevoegd": 0.05,
}


class _Generator:
    """Draws the fictitious plan and proposals inside real buurten."""

    def __init__(self, buurten: gpd.GeoDataFrame, seed: int):
        self.rng = np.random.default_rng(seed)
        self.buurten = buurten.reset_index(drop=True)
        self.inner = [g.buffer(-8) for g in self.buurten.geometry]
        for g in self.inner:
            shapely.prepare(g)
        self.streets = []  # (line, buurt index): street lines that later projects may share

    def pick(self, options, p=None):
        return options[self.rng.choice(len(options), p=p)]

    def point_in(self, b: int) -> shapely.Point:
        poly = self.inner[b]
        minx, miny, maxx, maxy = poly.bounds
        while True:
            x, y = self.rng.uniform(minx, maxx), self.rng.uniform(miny, maxy)
            point = shapely.Point(round(x, 2), round(y, 2))
            if poly.contains(point):
                return point

    def street(self, b: int) -> shapely.LineString:
        """A street-like polyline inside the buurt: a few straight stretches with gentle bends."""
        while True:
            start = self.point_in(b)
            heading = self.rng.uniform(0, 2 * np.pi)
            coords = [(start.x, start.y)]
            for _ in range(self.rng.integers(2, 6)):
                heading += self.rng.normal(0, 0.25)
                length = self.rng.uniform(40, 160)
                x, y = coords[-1]
                coords.append((x + length * np.cos(heading), y + length * np.sin(heading)))
            clipped = shapely.LineString(coords).intersection(self.inner[b])
            parts = [g for g in getattr(clipped, "geoms", [clipped]) if g.geom_type == "LineString"]
            if parts:
                longest = max(parts, key=lambda g: g.length)
                if longest.length >= 60:
                    return shapely.set_precision(longest, 0.01)

    def area(self, b: int, small: bool = False) -> shapely.Polygon:
        """A square, park or playground: a rotated rectangle or rounded blob inside the buurt."""
        while True:
            centre = self.point_in(b)
            size = self.rng.uniform(8, 30) if small else self.rng.uniform(20, 110)
            if self.rng.random() < 0.6:
                shape = shapely.box(centre.x - size / 2, centre.y - size / 3, centre.x + size / 2, centre.y + size / 3)
                shape = affinity.rotate(shape, self.rng.uniform(0, 180))
            else:
                shape = centre.buffer(size / 2, quad_segs=3)
            shape = shapely.set_precision(shape.intersection(self.inner[b]), 0.01)
            if shape.geom_type == "Polygon" and shape.area > 0.3 * size * size / 2:
                return shape

    def shared_street(self, b: int):
        """Part of an earlier project's street in this buurt (two works on one street), if any."""
        options = [line for line, owner in self.streets if owner == b]
        if not options or self.rng.random() > 0.3:
            return None
        line = options[self.rng.integers(len(options))]
        start = self.rng.uniform(0, 0.3) * line.length
        return shapely.set_precision(ops.substring(line, start, line.length), 0.01)

    def project_geometry(self, thema: str, b: int):
        kind = self.pick(("line", "polygon", "point", "multi"), THEMA_SHAPES[thema])
        if kind == "line":
            line = self.shared_street(b) or self.street(b)
            self.streets.append((line, b))
            return line
        if kind == "polygon":
            return self.area(b)
        if kind == "point":
            return self.point_in(b)
        if thema == "verlichting":
            line = self.street(b)
            steps = np.linspace(0, line.length, self.rng.integers(4, 10))
            return shapely.set_precision(shapely.MultiPoint([line.interpolate(d) for d in steps]), 0.01)
        if thema in ("groen", "spelen"):
            return shapely.MultiPolygon([self.area(b, small=True), self.area(b, small=True)]).buffer(0)
        return shapely.MultiLineString([self.street(b), self.street(b)])

    def project(self, b: int) -> tuple[dict, object]:
        thema = self.pick(THEMAS, [0.2, 0.16, 0.18, 0.12, 0.1, 0.09, 0.15])
        geometry = self.project_geometry(thema, b)
        planjaar = int(self.pick(list(PLAN_YEARS), _year_weights()))
        start = dt.date(planjaar, 1, 1) + dt.timedelta(days=int(self.rng.integers(0, 330)))
        eind = start + dt.timedelta(days=int(self.rng.integers(14, 270)))
        soort = self.pick(PROJECT_SOORTEN, _soort_weights(thema))
        fase = self.fase(start, eind)
        name = self.place_name(geometry)
        props = {
            "titel": self.pick(THEMA_WORK[thema]).format(s=name),
            "omschrijving": f"{THEMA_TEXT[thema]} ({self.buurten.buurtnaam[b]}, {soort}, {planjaar}.)",
            "thema": thema,
            "soort": soort,
            "fase": fase,
            "start": start.isoformat(),
            "eind": eind.isoformat(),
            "planjaar": planjaar,
            "budget_indicatie": self.budget(thema, geometry),
            "inspraak_tot": self.inspraak(fase, start, soort),
            "afdeling": THEMA_AFDELING[thema],
            "bron": DEMO_SOURCE,
        }
        return props, geometry

    def fase(self, start: dt.date, eind: dt.date) -> str:
        if eind < REFERENCE_DATE:
            return "gereed"
        if start <= REFERENCE_DATE:
            return "uitvoering"
        months = (start - REFERENCE_DATE).days / 30
        if months < 6:
            return self.pick(("voorbereiding", "inspraak"), [0.4, 0.6])
        if months < 18:
            return self.pick(("gepland", "voorbereiding", "inspraak"), [0.4, 0.4, 0.2])
        return "gepland"

    def inspraak(self, fase: str, start: dt.date, soort: str):
        if fase == "inspraak":
            return (REFERENCE_DATE + dt.timedelta(days=int(self.rng.integers(7, 60)))).isoformat()
        if soort == "herinrichting" and fase in ("gepland", "voorbereiding"):
            return (start - dt.timedelta(days=int(self.rng.integers(60, 150)))).isoformat()
        return None

    def budget(self, thema: str, geometry) -> int:
        size = geometry.length if geometry.geom_type in ("LineString", "MultiLineString") else geometry.area
        if geometry.geom_type in ("Point", "MultiPoint"):
            size = 120 * max(1, len(getattr(geometry, "geoms", [geometry])))
        amount = size * THEMA_RATE[thema] * self.rng.uniform(0.7, 1.4)
        return int(max(5_000, round(amount / 5_000) * 5_000))

    def place_name(self, geometry, suffixes=None) -> str:
        """A fictitious street or square name, the same for nearby geometries."""
        if suffixes is None:
            area = geometry.geom_type in ("Polygon", "MultiPolygon")
            suffixes = SQUARE_SUFFIXES if area else STREET_SUFFIXES
        x, y = geometry.centroid.x // 150, geometry.centroid.y // 150
        stem = STREET_STEMS[int(x * 7 + y * 3) % len(STREET_STEMS)]
        return f"{stem}{self.pick(suffixes)}"

    def proposal(self, b: int, project=None) -> tuple[dict, object]:
        """One proposal in buurt b; near the given (props, geometry, id) of a project when given."""
        if project is not None:
            project_props, project_geom, project_id = project
            categorie = THEMA_CATEGORIE[project_props["thema"]]
            geometry = self.near(project_geom, b)
        else:
            categorie, project_id = self.pick(CATEGORIEEN, [0.35, 0.25, 0.3, 0.1]), None
            geometry = self.proposal_geometry(b)
        soort = self.pick(VOORSTEL_SOORTEN, [0.4, 0.4, 0.2])
        status = self.pick(STATUSSEN, list(STATUS_WEIGHTS.values()))
        ingediend = REFERENCE_DATE - dt.timedelta(days=int(self.rng.integers(0 if status == "ingediend" else 20, 900)))
        linked = project_id is not None and status in ("in uitwerking", "in uitvoering", "gerealiseerd")
        props = {
            "titel": self.pick(PROPOSAL_TITLES[categorie]).format(
                s=self.place_name(geometry, STREET_SUFFIXES), p=self.place_name(geometry, SQUARE_SUFFIXES)
            ),
            "omschrijving": PROPOSAL_TEXT[soort],
            "soort": soort,
            "categorie": categorie,
            "status": status,
            "reden": self.pick(REJECTION_REASONS) if status == "afgewezen" else None,
            "ingediend": format_datetime(
                dt.datetime.combine(
                    ingediend, dt.time(int(self.rng.integers(7, 23)), int(self.rng.integers(0, 60))), dt.UTC
                )
            ),
            "projecten": [project_id] if linked else None,
            "wijkbudget": int(self.rng.integers(5, 100)) * 50
            if soort == "initiatief" and self.rng.random() < 0.5
            else None,
            "auteur": self.pick(AUTHORS).format(b=self.buurten.buurtnaam[b]) if self.rng.random() < 0.6 else None,
            "bron": DEMO_SOURCE,
        }
        return props, geometry

    def project_trail(self, props: dict) -> list[Step]:
        """From gepland to the project's phase, spread over the time before its start."""
        path = FASEN[: FASEN.index(props["fase"]) + 1]
        begin = min(REFERENCE_DATE, dt.date.fromisoformat(props["start"])) - dt.timedelta(days=len(path) * 90)
        moments = self.moments(begin, len(path), REFERENCE_DATE)
        return [Step(van, naar, moment, PLANNER) for van, naar, moment in zip((None, *path), path, moments)]

    def proposal_trail(self, props: dict) -> list[Step]:
        """From ingediend to the proposal's status, moderated and worked out over the months after."""
        status = props["status"]
        normal = ("ingediend", *PUBLIC_STATUSES)
        if status in normal:
            path = normal[: normal.index(status) + 1]
        else:
            published = status == "samengevoegd" or self.rng.random() < 0.6
            path = ("ingediend", *(("gepubliceerd",) if published else ()), status)
        begin = dt.date.fromisoformat(props["ingediend"][:10])
        moments = [props["ingediend"], *self.moments(begin, len(path) - 1, REFERENCE_DATE)]
        roles = {
            "ingediend": PARTICIPATION,
            "gepubliceerd": MODERATOR,
            "afgewezen": MODERATOR,
            "samengevoegd": MODERATOR,
        }
        return [
            Step(van, naar, moment, roles.get(naar, PLANNER), props["reden"] if naar == "afgewezen" else None)
            for van, naar, moment in zip((None, *path), path, moments)
        ]

    def moments(self, begin: dt.date, count: int, end: dt.date) -> list[str]:
        """count increasing moments after begin, none after end."""
        days = np.cumsum(self.rng.integers(3, 60, size=count))
        dates = [min(end, begin + dt.timedelta(days=int(d))) for d in days]
        return [
            format_datetime(dt.datetime.combine(d, dt.time(9), dt.UTC) + dt.timedelta(minutes=i))
            for i, d in enumerate(dates)
        ]

    def reactions(self, fid: int, props: dict, published: str) -> tuple[list, list]:
        """Supports (by pseudonymous demo participants) and published reactions of a proposal."""
        count = self.support(props["status"])
        start = dt.date.fromisoformat(published[:10])
        moments = self.moments(start, count, REFERENCE_DATE)
        supports = [(fid, participant_key("demo", f"deelnemer-{self.rng.integers(100_000)}"), m) for m in moments]
        texts = [(fid, self.pick(REACTIONS), m, m) for m in moments[: int(self.rng.poisson(count / 4))]]
        return supports, texts

    def near(self, geometry, b: int) -> shapely.Point:
        """A point within about 15 m of a project's geometry, inside the buurt."""
        outline = geometry.boundary if geometry.geom_type in ("Polygon", "MultiPolygon") else geometry
        for _ in range(50):
            if outline.length:
                anchor = outline.interpolate(self.rng.uniform(0, outline.length))
            else:
                anchor = geometry.representative_point()
            point = shapely.Point(
                round(anchor.x + self.rng.normal(0, 6), 2), round(anchor.y + self.rng.normal(0, 6), 2)
            )
            if self.inner[b].contains(point):
                return point
        return self.point_in(b)

    def proposal_geometry(self, b: int):
        kind = self.pick(("point", "line", "polygon"), [0.8, 0.12, 0.08])
        if kind == "line":
            line = self.street(b)
            return shapely.set_precision(ops.substring(line, 0, min(line.length, self.rng.uniform(30, 200))), 0.01)
        if kind == "polygon":
            return self.area(b, small=True)
        return self.point_in(b)

    def support(self, status: str) -> int:
        scale = {
            "ingediend": 0,
            "gepubliceerd": 8,
            "in uitwerking": 25,
            "in uitvoering": 35,
            "gerealiseerd": 40,
            "afgewezen": 5,
            "samengevoegd": 4,
        }[status]
        return int(self.rng.geometric(1 / (scale + 1)) - 1) if scale else 0


def _year_weights() -> list[float]:
    weights = np.array([1.0, 1.3, 1.4, 1.3, 1.1, 1.0, 0.8, 0.7])
    return list(weights / weights.sum())


def _soort_weights(thema: str) -> list[float]:
    if thema in ("verharding", "riolering", "verlichting"):
        return [0.55, 0.1, 0.3, 0.05]
    if thema == "verkeer":
        return [0.15, 0.65, 0.05, 0.15]
    return [0.2, 0.45, 0.1, 0.25]


def load_buurten(path: Path = BOUNDARIES) -> gpd.GeoDataFrame:
    """The CBS buurten as a GeoDataFrame in EPSG:28992 with the store's field names."""
    frame = gpd.read_file(path).to_crs(STORAGE_SRID)
    frame["statnaam"] = frame["statnaam"].replace(NAME_FIXES)
    return frame.rename(columns={"statcode": "buurtcode", "statnaam": "buurtnaam"})


def boundary_features(buurten: gpd.GeoDataFrame) -> tuple[list, list]:
    """(wijken, buurten) as [(properties, geometry)]; wijken dissolved from their buurten."""
    common = ["gemeentecode", "gemeentenaam", "jaar"]
    buurt_features = [
        (
            {
                **{k: row[k] for k in ["buurtcode", "buurtnaam", "wijkcode", "wijknaam", *common]},
                "jaar": int(row["jaar"]),
                "bron": SOURCE,
            },
            row.geometry,
        )
        for _, row in buurten.iterrows()
    ]
    wijken = buurten.dissolve(by="wijkcode", as_index=False, aggfunc="first")
    wijk_features = [
        (
            {
                "wijkcode": row["wijkcode"],
                "wijknaam": row["wijknaam"],
                **{k: row[k] for k in common},
                "jaar": int(row["jaar"]),
                "bron": SOURCE,
            },
            row.geometry,
        )
        for _, row in wijken.iterrows()
    ]
    return wijk_features, buurt_features


def _draw_buurten(generator: _Generator, count: int, minimum: int) -> list[int]:
    """Buurt index of each feature: at least `minimum` per buurt, the rest by area."""
    areas = generator.buurten.geometry.area.to_numpy()
    extra = generator.rng.choice(len(areas), size=count - minimum * len(areas), p=areas / areas.sum())
    return sorted([*np.repeat(np.arange(len(areas)), minimum), *extra.tolist()])


def build(
    location: str,
    policy: Policy,
    seed: int = 2024,
    projects: int = 340,
    proposals: int = 680,
    boundaries: Path = BOUNDARIES,
) -> None:
    """Build the demo store at location (a GeoPackage path or a PostGIS URL), aside first, with its
    derived collections under the policy: a reader of the file (QGIS) finds them complete."""
    with tqdm(total=4, desc="demo store", unit="step") as progress, staging(str(location)) as target:
        buurten = load_buurten(boundaries)
        wijk_features, buurt_features = boundary_features(buurten)
        target.insert("wijken", wijk_features)
        target.insert("buurten", buurt_features)
        progress.update()
        generator = _Generator(buurten, seed)
        plan = [generator.project(b) for b in _draw_buurten(generator, projects, 3)]
        plan_ids = target.insert("projecten", plan, trails=[generator.project_trail(p) for p, _ in plan])
        progress.update()
        _insert_proposals(target, generator, plan, plan_ids, proposals)
        progress.update()
        derivation.derive_whole(target, policy)
        progress.update()


def _insert_proposals(target, generator: _Generator, plan, plan_ids, count: int) -> None:
    """Proposals, a third of them next to planned projects; merged ones point at an earlier one."""
    located = target.locate([g for _, g in plan])[0]
    buurt_of = {code: i for i, code in enumerate(generator.buurten.buurtcode)}
    drafts = []
    for b in _draw_buurten(generator, count, 4):
        nearby = [k for k, code in enumerate(located) if buurt_of[code] == b]
        if nearby and generator.rng.random() < 0.35:
            k = nearby[generator.rng.integers(len(nearby))]
            drafts.append(generator.proposal(b, (plan[k][0], plan[k][1], plan_ids[k])))
        else:
            drafts.append(generator.proposal(b))
    merged = [d for d in drafts if d[0]["status"] == "samengevoegd"]
    first = [d for d in drafts if d[0]["status"] != "samengevoegd"]
    ids = _insert_with_history(target, generator, first)
    open_ids = [i for i, (p, _) in zip(ids, first) if p["status"] in ("gepubliceerd", "in uitwerking")]
    for props, _ in merged:
        props["samengevoegd_met"] = open_ids[int(generator.rng.integers(len(open_ids)))]
    _insert_with_history(target, generator, merged)


def _insert_with_history(target, generator: _Generator, drafts) -> list[int]:
    """Proposals with their trail, supports and reactions."""
    trails = [generator.proposal_trail(p) for p, _ in drafts]
    ids = target.insert("voorstellen", drafts, trails=trails)
    supports, reactions = [], []
    for fid, trail in zip(ids, trails):
        published = [step.tijdstip for step in trail if step.naar == "gepubliceerd"]
        if published:
            extra_supports, extra_reactions = generator.reactions(fid, {"status": trail[-1].naar}, published[0])
            supports += extra_supports
            reactions += extra_reactions
    participation.load(target, supports, reactions, SERVICE)
    return ids
