"""What the service's own pages show: values as a reader reads them, a filter form that builds the
API call, the page of a proposal or project with what it relates to, and the catalogue."""

import html
import re

import pytest
import shapely
from conftest import HOSTILE
from test_changes import MODERATOR, PARTICIPANT, PLANNER, PROPOSAL

from geoservice.api import display
from geoservice.domain.model import COLLECTIONS, PROJECTEN, STATE_MEANINGS, TABLES, VOORSTELLEN
from geoservice.store import Query, participation

FIELDS = PROJECTEN.field_map


@pytest.mark.parametrize(
    ("field", "value", "language", "shown"),
    [
        (FIELDS["start"], "2027-01-03", "nl", "3 jan 2027"),
        (FIELDS["start"], "2027-01-03", "en", "3 Jan 2027"),
        (VOORSTELLEN.field_map["ingediend"], "2026-12-31T23:30:00Z", "nl", "1 jan 2027 00:30"),  # Amsterdam time
        (VOORSTELLEN.field_map["ingediend"], "2026-07-01T10:00:00.000Z", "en", "1 Jul 2026 12:00"),
        (FIELDS["budget_indicatie"], 1250000, "nl", "1.250.000"),
        (FIELDS["budget_indicatie"], 1250000, "en", "1,250,000"),
        (FIELDS["planjaar"], 2027, "nl", "2027"),  # a year is no amount
        (COLLECTIONS["koppelkansen"].field_map["project"], 12345, "nl", "12345"),  # nor is an id
        (COLLECTIONS["koppelkansen"].field_map["afstand_m"], 2.5, "nl", "2,5"),
        (FIELDS["thema"], "groen", "nl", "Groen"),
        (FIELDS["soort"], "groot onderhoud", "en", "Groot onderhoud"),
        (FIELDS["titel"], "groen plein", "nl", "groen plein"),  # free text stays as written
        (FIELDS["omschrijving"], None, "nl", ""),
        (FIELDS["omschrijving"], "", "nl", ""),
        (VOORSTELLEN.field_map["projecten"], [], "nl", ""),
        (VOORSTELLEN.field_map["projecten"], [3, 14], "nl", "3, 14"),
        (
            COLLECTIONS["wijken"].field_map["budget_per_planjaar"],
            {"2027": 640000, "2029": 1500},
            "nl",
            "2027: 640.000; 2029: 1.500",
        ),
        (COLLECTIONS["wijken"].field_map["projecten_per_fase"], {"gepland": 8}, "nl", "Gepland: 8"),
    ],
)
def test_values_read_as_a_reader_reads_them(field, value, language, shown):
    assert display.text(field, value, language) == shown


def test_every_field_has_an_english_title():
    untranslated = {f.title for c in TABLES.values() for f in c.fields if f.title_in("en") == f.title}
    assert untranslated <= {"Status", "Start", "Code", "Project"}  # the same word in both


def _main(page: str) -> str:
    return page[page.index("<main>") : page.index("</main>")]


def _cells(page: str) -> list[list[str]]:
    body = _main(page).split("<tbody>")[1].split("</tbody>")[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def test_the_items_table_shows_every_feature_of_the_page_as_text(store_client, store):
    page = store_client.get("/collections/projecten/items", params={"f": "html", "limit": 50, "lang": "en"})
    expected = store.query(Query("projecten", limit=50))
    rows = _cells(page.text)
    assert [int(row[0]) for row in rows] == expected.ids
    headings = re.findall(r'<th scope="col">(.*?)</th>', page.text)
    columns = [next(f for f in PROJECTEN.fields if f.title_in("en") == h) for h in headings[1:]]
    for row, properties in zip(rows, expected.properties):
        assert row[1:] == [display.text(f, properties[f.name], "en") for f in columns]
    assert "None" not in _main(page.text)


def test_the_filter_form_offers_each_allowed_value_and_keeps_the_rest_of_the_query(store_client):
    query = {"f": "html", "thema": "groen", "filter": "planjaar > 2026", "offset": 10, "limit": 5}
    form = _main(store_client.get("/collections/projecten/items", params=query).text).split("</form>")[0]
    for field in PROJECTEN.queryable_fields:
        if field.values:
            options = re.search(rf'<select name="{field.name}">(.*?)</select>', form, re.S).group(1)
            assert re.findall(r'<option value="([^"]*)"', options) == ["", *field.values]
    assert re.search(r'<option value="groen" selected>', form)
    kept = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    assert kept == {"f": "html", "filter": "planjaar &gt; 2026", "limit": "5"}  # paging starts over
    assert '<input type="hidden" name="bbox" id="filter-bbox" value="">' in form


def test_a_field_left_at_any_does_not_filter(store_client, store):
    every = store_client.get("/collections/projecten/items", params={"f": "html", "limit": 1})
    empty = store_client.get("/collections/projecten/items", params={"f": "html", "limit": 1, "thema": "", "bbox": ""})
    count = store.count("projecten")
    assert every.status_code == empty.status_code == 200
    assert all(re.search(rf"1\s+van\s+{count}\s+objecten", page.text) for page in (every, empty))


def _a_proposal_worked_out_with_projects(store) -> int:
    page = store.query(Query.every("voorstellen"))
    return next(fid for fid, p in zip(page.ids, page.properties) if p["projecten"] and p["status"] == "in uitwerking")


@pytest.mark.parametrize(
    ("collection", "fields"), [("voorstellen", ("voorstel",)), ("projecten", ("ander_project", "project"))]
)
def test_the_page_of_a_proposal_or_project_lists_its_koppelkansen(store_client, store, collection, fields):
    kansen = store.query(Query.every("koppelkansen"))
    fid = next(p[fields[0]] for p in kansen.properties if p[fields[0]] is not None)
    page = _main(store_client.get(f"/collections/{collection}/items/{fid}?f=html").text)
    listed = re.search(r"Koppelkansen</h2>(.*?)</section>", page, re.S).group(1)
    expected = [i for i, p in zip(kansen.ids, kansen.properties) if fid in (p[f] for f in fields)]
    assert sorted(re.findall(r"/koppelkansen/items/([^?]+)\?f=html", listed)) == sorted(expected)


def test_a_proposal_page_shows_its_history_reactions_support_and_links(store_client, store):
    fid = _a_proposal_worked_out_with_projects(store)
    shown = participation.react(store, fid, PARTICIPANT, f"Goed plan {HOSTILE}")
    participation.moderate_reaction(store, fid, shown, "gepubliceerd", MODERATOR)
    refused = participation.react(store, fid, PARTICIPANT, "Niet te publiceren reactie")
    participation.moderate_reaction(store, fid, refused, "afgewezen", MODERATOR)
    store.update("voorstellen", fid, {"status": "in uitvoering"}, actor=PLANNER, note="De gemeente pakt dit op")
    page = _main(store_client.get(f"/collections/voorstellen/items/{fid}?f=html").text)
    proposal = store.get("voorstellen", fid).properties[0]

    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.S).group(1)
    states = re.findall(r"<strong>(.*?)</strong>", timeline)
    assert states[0] == "Ingediend" and states[-3:] == ["Gepubliceerd", "In uitwerking", "In uitvoering"]
    assert STATE_MEANINGS["in uitvoering"]["nl"] in timeline and "De gemeente pakt dit op" in timeline
    assert f"Goed plan {html.escape(HOSTILE)}" in page and HOSTILE not in page
    assert "Niet te publiceren" not in page
    assert f"Steun: <strong>{proposal['steun']}</strong>" in page
    for pid in proposal["projecten"]:
        title = store.get("projecten", pid).properties[0]["titel"]
        assert f'/collections/projecten/items/{pid}?f=html">{html.escape(title)}</a>' in page


def test_a_project_page_shows_its_phase_dates_and_the_published_proposals_nearby(store_client, store):
    project = store.get("projecten", 1)
    geometry = project.geometries[0]
    hidden = store.insert(
        "voorstellen",
        [(PROPOSAL, shapely.point_on_surface(geometry))],
        PARTICIPANT,
    )[0]
    page = _main(store_client.get("/collections/projecten/items/1?f=html").text)
    published = store.query(Query.every("voorstellen"))
    distance = shapely.distance(published.geometries, geometry)
    near = sorted((d, fid) for d, fid in zip(distance, published.ids) if d <= 250)[:10]
    listed = re.search(r"Voorstellen in de buurt</h2>(.*?)</section>", page, re.S).group(1)
    assert [int(i) for i in re.findall(r"/voorstellen/items/(\d+)\?f=html", listed)] == [fid for _, fid in near]
    assert f"items/{hidden}?" not in listed
    properties = project.properties[0]
    assert f"Fase: <strong>{display.label(properties['fase'])}</strong>" in page
    assert display.text(FIELDS["start"], properties["start"], "nl") in page


def test_the_catalogue_is_a_page_in_both_languages(client):
    dutch = html.unescape(_main(client.get("/catalogus", headers={"Accept": "text/html"}).text))
    english = html.unescape(_main(client.get("/catalogus?f=html&lang=en").text))
    document = client.get("/catalogus").json()
    for dataset in document["dcat:dataset"]:
        titles = {t["@language"]: t["@value"] for t in dataset["dct:title"]}
        assert f"<h2>{titles['nl']}</h2>" in dutch and f"<h2>{titles['en']}</h2>" in english
        for distribution in dataset["dcat:distribution"]:
            address = (distribution.get("dcat:downloadURL") or distribution["dcat:accessURL"])["@id"]
            assert f'href="{address}"' in dutch
