"""Match commands: ``peers``, ``partners`` and ``plan`` — thin faces over :mod:`partnering.match.service`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from partnering.cli.common import console, engine, err, print_frame
from partnering.errors import ValidationError

if TYPE_CHECKING:  # pandas is imported by the commands, not at start
    import pandas as pd


def _records(df: pd.DataFrame) -> list[dict]:
    from partnering.match.service import _jsonable

    return _jsonable(df.to_dict("records"))


def _emit_json(payload) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False))


def _pins(pin: list[str] | None, pin_file: Path | None) -> list[str]:
    codes = [p.strip().upper() for p in (pin or []) if p.strip()]
    if pin_file is not None:
        if not pin_file.is_file():
            raise ValidationError(f"--pin-file {pin_file} does not exist")
        for line in pin_file.read_text(encoding="utf-8-sig").splitlines():
            cell = line.split(",")[0].strip().upper()
            if cell and not cell.startswith("#") and cell not in ("ORG_CODE", "PEER_CODE", "CODE"):
                codes.append(cell)
    return codes


def _travel_line(travel: dict | None) -> str:
    """What the minutes rest on: the loaded road matrices, else the drive-time model and its fit."""
    m = (travel or {}).get("model") or {}
    used = ", ".join((travel or {}).get("matrices") or []) or "none loaded"
    return (f"Travel minutes: road matrix where it holds the pair ({used}); otherwise {m.get('formula')} "
            f"(fitted on {m.get('fitted_on')}: n = {m.get('n_pairs')}, R² = {m.get('r2')}, "
            f"RMSE = {m.get('rmse_minutes')} min).")


def _travel_limit(new: float | None, old: float | None, default: float | None = None) -> float | None:
    """The travel limit from ``--max-travel-minutes`` (the one name the API and the web form use too:
    ``max_travel_minutes``), or from the deprecated ``--max-minutes`` with a warning; checked."""
    if old is not None:
        if new is not None and new != old:
            raise ValidationError("give the travel limit once: --max-travel-minutes (--max-minutes is its old name)")
        err.print("Note: --max-minutes is deprecated; use --max-travel-minutes.", highlight=False)
        new = old
    v = default if new is None else new
    if v is not None and (not math.isfinite(v) or v < 0):
        raise ValidationError(f"--max-travel-minutes must be a non-negative number, got {v:g}")
    return v


def _data_note(note: str | None) -> None:
    if note:
        console.print(f"[bold]{note}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def peers(
        org: str = typer.Argument(..., help="ODS code of the organisation."),
        k: int = typer.Option(10, "--k", help="How many peers."),
        pin: Optional[list[str]] = typer.Option(None, "--pin", help="A bespoke peer (repeat for each)."),
        pin_file: Optional[Path] = typer.Option(None, "--pin-file", help="File of peer codes, one per line."),
        save: bool = typer.Option(False, "--save", help="Save the --pin list as the organisation's peer group "
                                                       "(the web page and the API show it too; audited)."),
        automatic: bool = typer.Option(False, "--automatic", help="Forget a saved peer group: back to the automatic "
                                                                 "peers (audited)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """The most similar organisations (catchment deprivation, age, size, case mix), each variable's share of the
        distance and why they are close. Pin your own peer list with --pin CODE --pin CODE (add --save to keep it
        as the organisation's peer group). Peers matched mostly on estimated (imputed) values come last."""
        from partnering.match.service import peers_for, pin_peers, unpin_peers
        from partnering.store.audit import default_actor

        if k < 1:
            raise ValidationError("--k must be at least 1")
        pins = _pins(pin, pin_file)
        if save and not pins:
            raise ValidationError("--save needs the peers to save: --pin CODE (repeat) or --pin-file")
        if automatic and (save or pins):
            raise ValidationError("--automatic forgets the saved peers: give it without --pin or --save")
        code = org.strip().upper()
        if automatic:
            forgot = unpin_peers(engine(), code, default_actor())
            err.print(f"{code}: back to the automatic peers." if forgot else f"{code} had no saved peer group.",
                      highlight=False)
        if save:
            res = pin_peers(engine(), code, pins, default_actor())
            err.print(f"Saved {len(pins)} peers as the peer group of {code}.", highlight=False)
        else:
            res = peers_for(engine(), org, k=k, pinned=pins or None)
        if as_json:
            _emit_json({"org_code": code, "peers": _records(res), "peer_group": res.attrs.get("peer_group")})
            return
        group = res.attrs.get("peer_group")
        if group and not pins:
            console.print(f"Peer group chosen by {group['set_by']} on {str(group['set_at'])[:10]}"
                          + (f": {group['reason']}" if group.get("reason") else "") + ".", highlight=False)
        shown = res.assign(estimated=res["mostly_imputed"].map({True: "mostly estimated", False: ""}))
        print_frame(shown[["rank", "peer_code", "peer_name", "similarity", "pinned", "estimated", "explanation"]],
                    f"Peers of {code}", 100)

    @app.command()
    def partners(
        org: str = typer.Argument(..., help="ODS code of the organisation (usually one in persistent difficulty)."),
        k: int = typer.Option(10, "--k", help="How many candidates."),
        catalogue: Optional[Path] = typer.Option(
            None, "--catalogue", help="Partner catalogue (CSV or TOML: org_code, name, kind, offers, capacity)."),
        max_travel_minutes: Optional[float] = typer.Option(
            None, "--max-travel-minutes", help="Longest drive to a candidate, in minutes (default 90, as the "
            "buddying plan: docs/methods/buddying-plan.md)."),
        max_minutes_old: Optional[float] = typer.Option(None, "--max-minutes", hidden=True),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    ) -> None:
        """Candidate supporters ranked by suitability (0-100): capability where the organisation is weak, track
        record, similarity, travel time, spare capacity and kind fit — each with a reason and any two-way
        learning."""
        from partnering.match.candidates import kind_words
        from partnering.match.service import DEFAULT_MAX_MINUTES, partner_candidates

        if k < 1:
            raise ValidationError("--k must be at least 1")
        max_minutes = _travel_limit(max_travel_minutes, max_minutes_old, DEFAULT_MAX_MINUTES)
        res = partner_candidates(engine(), org, k=k, catalogue=catalogue, max_minutes=max_minutes)
        code = org.strip().upper()
        if as_json:
            _emit_json({"org_code": code, "in_persistent_difficulty": bool(res.attrs.get("recipient_in_difficulty")),
                        "candidates": _records(res), "travel": res.attrs.get("travel"),
                        "data_note": res.attrs.get("data_note", "")})
            return
        _data_note(res.attrs.get("data_note"))
        if not res.attrs.get("recipient_in_difficulty"):
            console.print(f"Note: {code} is not in persistent difficulty; candidates are shown all the same.")
        if res.empty:
            limit = f" within {max_minutes:g} minutes" if max_minutes is not None else ""
            console.print(f"No candidate partners for {code}{limit}: candidates need a known location to be within "
                          "a travel limit, and must not be in persistent difficulty themselves. Load ODS data "
                          "(partnering ingest ods ...) or raise --max-travel-minutes.")
            return
        shown = res.assign(kind=[kind_words(x) for x in res["supporter_kind"]],
                           minutes=[None if m != m else round(m) for m in res["travel_minutes"]])
        print_frame(shown[["rank", "supporter", "supporter_name", "kind", "score", "minutes", "reason"]],
                    f"Candidate partners for {code} within {max_minutes:g} minutes", 100)
        learn = res[res["two_way_learning"] != ""]
        for row in learn.itertuples(index=False):
            console.print(f"{row.supporter}: {row.two_way_learning}")
        console.print(_travel_line(res.attrs.get("travel")))

    @app.command()
    def plan(
        capacity: int = typer.Option(1, "--capacity", help="Most organisations one trust supports in total."),
        max_travel_minutes: Optional[float] = typer.Option(
            None, "--max-travel-minutes", help="Longest drive between a pair, in minutes (default 90: "
            "docs/methods/buddying-plan.md)."),
        max_minutes_old: Optional[float] = typer.Option(None, "--max-minutes", hidden=True),
        min_suitability: Optional[float] = typer.Option(
            None, "--min-suitability", help="Lowest suitability (0-100) a new pair may have; below it an "
            "organisation has 'no suitable partner'. Default 32.5: docs/methods/buddying-plan.md."),
        require: Optional[list[str]] = typer.Option(None, "--require", help="REC:SUP pair that must be used."),
        forbid: Optional[list[str]] = typer.Option(None, "--forbid", help="REC:SUP pair that must not be used."),
        second_kind: Optional[str] = typer.Option(
            None, "--second-kind", help="Also a partner of this catalogue kind, e.g. technology_partner."),
        catalogue: Optional[Path] = typer.Option(None, "--catalogue", help="Partner catalogue (CSV or TOML)."),
        as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
        out: Optional[Path] = typer.Option(None, "--out", help="Write the plan to FILE.json or FILE.csv."),
    ) -> None:
        """The optimal buddying plan for every organisation in persistent difficulty: most organisations helped,
        then the greatest total suitability, solved exactly; unmatched organisations with the binding
        constraint."""
        from partnering.match.service import buddying_plan

        if capacity < 0:
            raise ValidationError("--capacity must be 0 or more")
        from partnering.match.service import DEFAULT_MAX_MINUTES

        max_minutes = _travel_limit(max_travel_minutes, max_minutes_old, DEFAULT_MAX_MINUTES)
        if out is not None and out.suffix.lower() not in (".json", ".csv"):
            raise ValidationError("--out must end in .json or .csv")
        floor = {} if min_suitability is None else {"min_suitability": min_suitability}
        res = buddying_plan(engine(), capacity=capacity, max_minutes=max_minutes, required=require or (),
                            forbidden=forbid or (), second_kind=second_kind, catalogue=catalogue, **floor)
        payload = res.to_dict()
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            if out.suffix.lower() == ".json":
                out.write_text(json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False), encoding="utf-8")
            else:
                import pandas as pd

                rows = pd.DataFrame(payload["pairs"])
                um = pd.DataFrame(payload["unmatched"])
                if len(um):
                    um = um.assign(supporter=None, score=None)
                held = pd.DataFrame(payload["existing"])
                if len(held):
                    held = held.assign(role="existing")
                pd.concat([rows, held, um], ignore_index=True).to_csv(out, index=False)
        if as_json:
            _emit_json(payload)
            return
        console.print(
            f"{res.n_matched} of {res.n_recipients} organisations in persistent difficulty matched"
            f"{f' ({res.n_existing} more already have a lead partner, held fixed)' if res.n_existing else ''}; "
            f"minimum suitability {res.parameters['min_suitability']:g}; total score "
            f"{res.total_score:.1f}; "
            + ("no other plan helps more organisations or scores higher." if res.proven_optimal else
               "NOT proven the best possible plan (the search stopped first).")
            + " How: docs/methods/buddying-plan.md."
        )
        console.print(_travel_line(res.travel))
        _data_note(res.data_note)
        if len(res.pairs):
            print_frame(res.pairs[["recipient", "recipient_name", "supporter", "supporter_name", "role", "score",
                                   "reason"]], "Plan", 200)
        if res.n_existing:
            print_frame(res.existing[["recipient", "recipient_name", "supporter", "supporter_name", "form"]],
                        "Held fixed (registered partnerships)", 200)
        if len(res.unmatched):
            print_frame(res.unmatched[["recipient", "recipient_name", "role", "reason"]], "Unmatched", 200)
        if out is not None:
            console.print(f"Wrote {out}")
