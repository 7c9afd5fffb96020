"""Following a wijk, buurt, project or proposal: Atom feeds (parsed with feedparser) and calendars
(parsed with icalendar) of what the public may see, kept current by every write, on both backends."""

import datetime as dt
import time

import feedparser
import icalendar
import pytest
from test_participation import POINT, PROPOSAL, feature, headers, path_of, publish, submit
from test_process import THIS_YEAR, project

from geoservice.domain.model import STATE_MEANINGS
from geoservice.publish import feeds, maps

SCOPES = [
    "/feeds/stad.atom",
    "/feeds/wijken/WK026801.atom",
    "/feeds/buurten/BU02680100.atom",
    "/feeds/projecten/1.atom",
    "/feeds/voorstellen/{proposal}.atom",
]
WIJK = "/feeds/wijken/WK026801.atom"  # where the proposals of test_participation lie


def parsed(client, path: str, **params):
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/atom+xml"
    document = feedparser.parse(response.content)
    assert not document.bozo, document.bozo_exception
    return document


def titles(client, path: str, **params) -> list[str]:
    return [e.title for e in parsed(client, path, **params).entries]


def _published_proposal_path(store_client, tokens) -> tuple[str, int]:
    response = submit(store_client, tokens)
    publish(store_client, tokens, path_of(response))
    return path_of(response), response.json()["id"]


@pytest.mark.parametrize("path", SCOPES)
def test_every_feed_has_every_element_atom_asks_for(client, demo_store, path):
    proposal = next(i for i, p in zip(*_proposals(demo_store)) if p["status"] == "gepubliceerd")
    document = parsed(client, path.format(proposal=proposal))
    assert document.version == "atom10"
    assert document.feed.id.startswith("tag:testserver,2024:wijkplan/feeds/")
    assert document.feed.title and document.feed.updated and document.feed.author
    assert {link.rel for link in document.feed.links} >= {"self", "first", "last", "alternate"}
    assert document.entries
    for entry in document.entries:
        assert entry.id.startswith("tag:testserver,2024:wijkplan/") and entry.title and entry.summary
        assert any(link.rel == "alternate" and link.type == "text/html" for link in entry.links)
        assert any(link.type == "application/geo+json" for link in entry.links)
        longitude, latitude = entry.where["coordinates"]
        assert 5.6 < longitude < 6.0 and 51.7 < latitude < 52.0  # Nijmegen
    updated = [entry.updated_parsed for entry in document.entries]
    assert updated == sorted(updated, reverse=True)


def _proposals(store):
    from geoservice.store import Query

    page = store.query(Query.every("voorstellen"))
    return page.ids, page.properties


def test_paging_reaches_every_entry_once(client):
    first = parsed(client, "/feeds/stad.atom")
    seen, document = [], first
    while True:
        seen += [entry.id for entry in document.entries]
        following = [link.href for link in document.feed.links if link.rel == "next"]
        if not following:
            break
        document = feedparser.parse(client.get(following[0].replace("http://testserver", "")).content)
    assert len(seen) == len(set(seen)) > feeds.PAGE_SIZE
    last = next(link.href for link in first.feed.links if link.rel == "last")
    tail = [entry.id for entry in feedparser.parse(client.get(last).content).entries]
    assert tail and tail == seen[-len(tail) :]


def _area_feeds(properties: dict) -> tuple[str, str]:
    return f"/feeds/wijken/{properties['wijkcode']}.atom", f"/feeds/buurten/{properties['buurtcode']}.atom"


def test_a_proposal_s_path_is_followed_in_its_feeds_with_explanations(store_client, tokens):
    path, fid = _published_proposal_path(store_client, tokens)
    properties = store_client.get(path).json()["properties"]
    name = properties["titel"]
    planner = headers(tokens, "planner")
    store_client.patch(path, json={"properties": {"status": "in uitwerking"}, "toelichting": "Mee in project"},
                       headers=planner)  # fmt: skip
    for feed in ("/feeds/stad.atom", *_area_feeds(properties), f"/feeds/voorstellen/{fid}.atom"):
        entries = parsed(store_client, feed).entries
        assert entries[0].title == f"{name}: gepubliceerd → in uitwerking"
        assert entries[0].summary == f"{STATE_MEANINGS['in uitwerking']['nl']}\nMee in project"
        assert f"Nieuw voorstel: {name}" in [e.title for e in entries]
    english = parsed(store_client, f"/feeds/voorstellen/{fid}.atom", lang="en").entries
    assert english[0].summary.startswith(STATE_MEANINGS["in uitwerking"]["en"]) and english[1].title.startswith("New")


def test_nothing_unpublished_or_refused_shows(store_client, tokens, store):
    unpublished = submit(store_client, tokens, feature({**PROPOSAL, "titel": "Nog niet openbaar"}, POINT))
    assert unpublished.status_code == 201
    path, fid = _published_proposal_path(store_client, tokens)
    participant = headers(tokens, "participatie", "buur-2")
    shown = store_client.post(f"{path}/reacties", json={"tekst": "Mooi plan"}, headers=participant).json()["id"]
    refused = store_client.post(f"{path}/reacties", json={"tekst": "Scheldpartij"}, headers=participant).json()["id"]
    waiting = store_client.post(f"{path}/reacties", json={"tekst": "Nog te beoordelen"}, headers=participant)
    assert waiting.status_code == 201
    moderator = headers(tokens, "moderator")
    for reaction, status in ((shown, "gepubliceerd"), (refused, "afgewezen")):
        store_client.patch(f"{path}/reacties/{reaction}", json={"status": status}, headers=moderator)
    for feed in ("/feeds/stad.atom", WIJK, f"/feeds/voorstellen/{fid}.atom"):
        body = store_client.get(feed).text
        assert "Mooi plan" in body
        assert "Nog niet openbaar" not in body and "Scheldpartij" not in body and "Nog te beoordelen" not in body
    assert store_client.get(f"/feeds/voorstellen/{path_of(unpublished).rsplit('/', 1)[1]}.atom").status_code == 404


def test_a_cleaned_title_is_the_only_one_a_feed_shows(store_client, tokens):
    response = submit(store_client, tokens, feature({**PROPOSAL, "titel": "Bankje bij Jan Jansen 06-12345678"}))
    path = path_of(response)
    moderator = headers(tokens, "moderator")
    store_client.patch(path, json={"properties": {"titel": "Bankje bij de speeltuin"}}, headers=moderator)
    publish(store_client, tokens, path)
    for feed in ("/feeds/stad.atom", WIJK, f"/feeds/voorstellen/{response.json()['id']}.atom"):
        body = store_client.get(feed).text
        assert "Jansen" not in body and "12345678" not in body and "Bankje bij de speeltuin" in body


def test_a_koppelkans_found_appears_in_the_feeds_of_both(store_client, tokens):
    proposal_path, proposal = _published_proposal_path(store_client, tokens)
    geometry = store_client.get(proposal_path).json()["geometry"]["coordinates"]
    _, project_id = project(store_client, tokens, coordinates=[[geometry[0] - 0.0003, geometry[1]],
                                                                [geometry[0] + 0.0003, geometry[1]]])  # fmt: skip
    for feed in (f"/feeds/projecten/{project_id}.atom", f"/feeds/voorstellen/{proposal}.atom", WIJK):
        assert any(t.startswith("Koppelkans: ") for t in titles(store_client, feed)), feed


@pytest.mark.parametrize(("days", "shown"), [(3, True), (30, False)])
def test_an_inspraak_period_about_to_close_is_announced(store_client, tokens, days, shown):
    closes = dt.date.today() + dt.timedelta(days=days)
    _, project_id = project(store_client, tokens, inspraak_tot=closes.isoformat())
    announced = [t for t in titles(store_client, f"/feeds/projecten/{project_id}.atom") if "Inspraak sluit" in t]
    assert bool(announced) == shown


def test_a_feed_answers_304_until_something_it_shows_changes(store_client, tokens):
    first = store_client.get(WIJK)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert store_client.get(WIJK, headers={"If-None-Match": etag}).status_code == 304
    assert store_client.get(WIJK, headers={"If-Modified-Since": modified}).status_code == 304
    _published_proposal_path(store_client, tokens)
    again = store_client.get(WIJK, headers={"If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/wijken/WK999999.atom", 404),
        ("/feeds/projecten/99999999.atom", 404),
        ("/feeds/projecten/abc.atom", 404),
        ("/feeds/planeten/1.atom", 404),
        ("/feeds/stad.atom?offset=-1", 400),
        ("/feeds/stad.atom?pagina=2", 400),
        ("/kalenders/projecten/1.ics", 404),
        ("/kalenders/wijken/WK999999.ics", 404),
    ],
)
def test_what_cannot_be_followed_is_refused(client, path, status):
    response = client.get(path)
    assert response.status_code == status and response.headers["content-type"] == "application/problem+json"


def test_areas_projects_and_proposals_link_their_feed_and_calendar(client, demo_store):
    proposal = next(i for i, p in zip(*_proposals(demo_store)) if p["status"] == "gepubliceerd")
    for item, follows in [
        ("/collections/wijken/items/WK026801", {"application/atom+xml", "text/calendar"}),
        ("/collections/buurten/items/BU02680100", {"application/atom+xml", "text/calendar"}),
        ("/collections/projecten/items/1", {"application/atom+xml"}),
        (f"/collections/voorstellen/items/{proposal}", {"application/atom+xml"}),
    ]:
        links = client.get(item).json()["links"]
        found = {link["type"]: link["href"] for link in links if link["type"] in follows}
        assert set(found) == follows
        assert all(client.get(href).status_code == 200 for href in found.values())
        page = client.get(f"{item}?f=html").text
        assert all(f'<link rel="alternate" type="{media_type}"' in page for media_type in follows)
    assert '<link rel="alternate" type="application/atom+xml"' in client.get("/?f=html").text


def test_each_map_links_the_feed_and_calendar_of_its_area(demo_store, tmp_path):
    from conftest import POLICY

    from geoservice.domain.policy import Policy

    maps.build(demo_store, Policy.load(POLICY), tmp_path)
    page = (tmp_path / "wijk" / "WK026801.html").read_text()
    assert '<link rel="alternate" type="application/atom+xml"' in page and "../../feeds/wijken/WK026801.atom" in page
    assert "../../kalenders/wijken/WK026801.ics" in page


# -- calendars ----------------------------------------------------------------------------------
def events(client, path: str) -> dict[str, icalendar.Event]:
    response = client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["uid"]): event for event in calendar.walk("VEVENT")}


def test_a_wijk_calendar_holds_every_work_and_deadline(client, demo_store):
    from geoservice.query.filters import equals
    from geoservice.store import Query

    projects = demo_store.query(Query.every("projecten", equals("wijkcode", "WK026801")))
    found = events(client, "/kalenders/wijken/WK026801.ics")
    for fid, p in zip(projects.ids, projects.properties):
        work = found[f"project-{fid}@testserver"]
        assert work.decoded("dtstart") == dt.date.fromisoformat(p["start"])
        assert work.decoded("dtend") == dt.date.fromisoformat(p["eind"]) + dt.timedelta(days=1)
        assert str(work["summary"]) == f"{p['titel']} (fase: {p['fase']})"
        assert str(work["url"]).endswith(f"/collections/projecten/items/{fid}?f=html")
        deadline = found.get(f"project-{fid}-inspraak@testserver")
        assert (deadline is not None) == (p["inspraak_tot"] is not None)
        if deadline:
            assert deadline.decoded("dtstart") == dt.date.fromisoformat(p["inspraak_tot"])
    assert len(found) == len(projects.ids) + sum(p["inspraak_tot"] is not None for p in projects.properties)


def test_a_changed_work_keeps_its_uid_with_a_higher_sequence(store_client, tokens):
    path, fid = project(store_client, tokens)
    uid, buurt = f"project-{fid}@testserver", store_client.get(path).json()["properties"]["buurtcode"]
    before = events(store_client, f"/kalenders/buurten/{buurt}.ics")[uid]
    time.sleep(1.1)  # SEQUENCE counts seconds (RFC 5545 allows it 32 bits): a change in a later second
    store_client.patch(
        path, json={"properties": {"eind": f"{THIS_YEAR + 1}-09-30"}}, headers=headers(tokens, "planner")
    )
    after = events(store_client, f"/kalenders/buurten/{buurt}.ics")[uid]
    assert after.decoded("dtend") == dt.date(THIS_YEAR + 1, 10, 1)
    assert int(after["sequence"]) > int(before["sequence"])
    assert after.decoded("last-modified") > before.decoded("last-modified")
