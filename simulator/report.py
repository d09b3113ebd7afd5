"""The end of a run: the gateway's records (read through its public API, as a manager would)
held against what the simulated people did, as text and JSON.

Ratings: every press stored exactly once with its level (and reason, when one was picked); none
stored that nobody pressed (nothing forced, nothing defaulted: unrated stays unrated). Tickets:
every one ends served (done) or no-show (missed). Statistics: per window the API's closed,
rated, good, bad and unrated equal the simulator's own counts.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from simulator.api import HallApi
from simulator.ledger import Ledger

STAT_FIELDS = ("closed", "rated", "good", "bad", "unrated")
FINAL_STATES = ("done", "missed")


def ratings_check(stored: list[dict[str, Any]], ledger: Ledger) -> dict[str, Any]:
    by_ticket: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rating in stored:
        by_ticket[str(rating.get("ticket"))].append(rating)
    events = Counter((r["device"], r["event_id"]) for r in stored)
    pressed = {n: r for n, r in ledger.tickets.items() if r.pressed}
    lost = sorted(n for n in pressed if n not in by_ticket)
    forced = sorted(n for n in by_ticket if n not in pressed)
    duplicated = sum(len(rows) - 1 for rows in by_ticket.values() if len(rows) > 1)
    duplicated += sum(count - 1 for count in events.values() if count > 1)
    wrong_level = sorted(
        n for n, r in pressed.items() if n in by_ticket and by_ticket[n][0]["level"] != r.pressed
    )
    wrong_reason = sorted(
        n
        for n, r in pressed.items()
        if n in by_ticket and r.reason and by_ticket[n][0].get("reasons") != [r.reason]
    )
    return {
        "pressed": len(pressed),
        "stored": len(stored),
        "duplicated": duplicated,
        "lost": len(lost),
        "forced": len(forced),
        "wrong_level": len(wrong_level),
        "wrong_reason": len(wrong_reason),
        "examples": {"lost": lost[:5], "forced": forced[:5], "wrong_level": wrong_level[:5]},
    }


def stats_check(api_rows: list[dict[str, Any]], ledger: Ledger) -> dict[str, Any]:
    reported = {str(row["window"]): {k: row[k] for k in STAT_FIELDS} for row in api_rows}
    expected = ledger.by_window()
    differences = [
        {"window": w, "api": reported.get(w), "simulator": expected.get(w)}
        for w in sorted(set(reported) | set(expected), key=lambda w: (len(w), w))
        if reported.get(w) != expected.get(w)
    ]
    return {"match": not differences, "windows": len(expected), "differences": differences}


def tickets_check(api: HallApi, ledger: Ledger) -> dict[str, Any]:
    states = Counter(api.status(r.token)["state"] for r in ledger.tickets.values())
    unfinished = sum(n for state, n in states.items() if state not in FINAL_STATES)
    return {"states": dict(states), "unfinished": unfinished}


def build(
    api: HallApi, ledger: Ledger, scenario: Any, real_s: float, extra: dict[str, Any]
) -> dict[str, Any]:
    ratings = ratings_check(api.ratings(), ledger)
    stats = stats_check(api.stats("window"), ledger)
    tickets = tickets_check(api, ledger)
    summary = ledger.summary()
    ok = (
        ratings["lost"] == ratings["duplicated"] == ratings["forced"] == 0
        and ratings["wrong_level"] == ratings["wrong_reason"] == 0
        and stats["match"]
        and tickets["unfinished"] == 0
        and summary["open"] == 0
    )
    return {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "windows": scenario.windows,
        "real_s": round(real_s, 1),
        "people": summary,
        "tickets": tickets,
        "ratings": ratings,
        "stats": stats,
        "faults": ledger.faults,
        **extra,
        "ok": ok,
    }


def text(report: dict[str, Any]) -> str:
    p, r, t = report["people"], report["ratings"], report["tickets"]
    lines = [
        f"scenario {report['scenario']} (seed {report['seed']}), {report['windows']} windows, "
        f"{report['real_s']} s",
        f"tickets   {p['tickets']} issued ({p['by_guide']} by a guide), {p['served']} served, "
        f"{p['no_show']} no-show, {p['transferred']} transferred, {p['open']} open",
        f"          gateway states {t['states']}",
        f"ratings   pressed {r['pressed']}  stored {r['stored']}  duplicated {r['duplicated']}  "
        f"lost {r['lost']}  forced {r['forced']}  unrated {p['unrated']}",
        f"          levels {p['levels']}",
        f"stats     per-window API figures {'match' if report['stats']['match'] else 'DIFFER'}",
        f"clerks    {p['logins']} badge logins, {p['pauses']} pauses",
        "faults    " + ("none" if not report["faults"] else ""),
    ]
    lines += [f"          {f['at']} {f['kind']}: {f['detail']}" for f in report["faults"]]
    lines.append("result    " + ("OK" if report["ok"] else "PROBLEMS (see JSON)"))
    return "\n".join(lines)


def as_json(report: dict[str, Any]) -> str:
    return json.dumps(report, ensure_ascii=False)
