"""Seeded generation of an organization: hosts, event types, tags, policies, polls and events.

Everything is a function of (seed, anchor, number of events). Reference data is drawn with
`random.Random`; events are drawn with numpy in one vectorized pass so a million of them take
seconds. Only the scalar columns are generated here; the per-event details (invitee, answers,
participants, reschedulings) are derived from (seed, id) when an event is rendered.

Every seeded timestamp (createdAt, updatedAt, canceledAt, poll results…) is at or before the
anchor; only scheduledAt/endDate of upcoming bookings lie after it.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from simplymeet.contract.vocab import (
    EVENT_STATES,
    LOCATION_TYPES,
    PAYMENT_STATUSES,
    STATE_ACTIVE,
    STATE_CANCELED,
    STATE_NO_SHOW,
)
from simplymeet.emulator import pools
from simplymeet.emulator.entities import (
    AvailabilityRule,
    CancellationPolicy,
    EventType,
    EventTypeTag,
    Host,
    Organization,
    Poll,
    PollResult,
    PollSlot,
    Question,
    UserEventTypeTag,
)
from simplymeet.emulator.identifiers import seeded_uuid

DAY = 86_400
HOUR = 3_600
PAST_DAYS = 540
"""About 18 months of history before the anchor."""
FUTURE_DAYS = 60
"""Bookings reach about two months past the anchor."""
WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

STATE_CODE: dict[str, int] = {name: i for i, name in enumerate(EVENT_STATES)}
PAYMENT_CODE = {name: i for i, name in enumerate(PAYMENT_STATUSES)}
LOCATION_CODE = {name: i for i, name in enumerate(LOCATION_TYPES)}


def default_anchor() -> dt.date:
    """Today, UTC: seeded history ends at this midnight."""
    return dt.datetime.now(dt.UTC).date()


def anchor_epoch(anchor: dt.date) -> int:
    """Epoch seconds of the anchor's UTC midnight."""
    return int(dt.datetime(anchor.year, anchor.month, anchor.day, tzinfo=dt.UTC).timestamp())


@dataclass
class ReferenceData:
    """Everything seeded except events."""

    organization: Organization
    hosts: list[Host]
    event_types: list[EventType]
    availability: dict[int, list[AvailabilityRule]]
    event_type_tags: list[EventTypeTag]
    event_type_tag_links: dict[int, set[int]]
    user_event_type_tags: list[UserEventTypeTag]
    policies: dict[str, list[CancellationPolicy]]
    polls: list[Poll]
    acl: list[dict]
    integrations: dict[str, list[dict]]
    current_user_id: int = 1
    counters: dict[str, int] = field(default_factory=dict)


def _slug(text: str) -> str:
    ascii_text = text.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def generate_reference(seed: int, anchor_s: int) -> ReferenceData:
    """Seed the organization and everything in it except events."""
    rng = random.Random(seed * 7919 + 17)
    org_created = anchor_s - (PAST_DAYS + 60) * DAY
    org_name = rng.choice(("Northwind", "Bluebird", "Lumen", "Fjord", "Atlas", "Kestrel"))
    org_name += rng.choice((" Consulting", " Labs", " Partners", " Studio"))
    org = Organization(
        id=1,
        uuid=seeded_uuid(rng),
        slug=_slug(org_name),
        name=org_name,
        created_at=org_created,
        locale="en",
        email=f"hello@{_slug(org_name)}.example",
        domain=f"meet.{_slug(org_name)}.example",
        intro=f"Book a meeting with the {org_name} team.",
    )

    hosts = _generate_hosts(rng, org, org_created, anchor_s)
    event_types = _generate_event_types(rng, hosts)
    availability = {et.id: _weekday_rules(hosts[et.owner_id - 1]) for et in event_types}
    for et in event_types:
        if rng.random() < 0.3:  # a day off some weeks after the anchor: a date rule, no hours
            day = dt.datetime.fromtimestamp(anchor_s + rng.randint(3, 40) * DAY, tz=dt.UTC).date()
            availability[et.id].append(AvailabilityRule("date", [], {"date": day.isoformat()}))

    tag_names = ("Sales", "Support", "Onboarding", "Internal", "VIP", "Partners")
    tags = [
        EventTypeTag(i + 1, name, pools.COLORS[i % len(pools.COLORS)], i + 1, rng.random() > 0.15)
        for i, name in enumerate(tag_names)
    ]
    links = {
        et.id: set(rng.sample(range(1, len(tags) + 1), rng.choice((0, 1, 1, 2))))
        for et in event_types
    }

    user_tags: list[UserEventTypeTag] = []
    for host in rng.sample(hosts, min(4, len(hosts))):
        for pos, name in enumerate(
            rng.sample(("Focus", "Clients", "Team", "Personal", "Hiring"), 2)
        ):
            user_tags.append(
                UserEventTypeTag(
                    len(user_tags) + 1, name, rng.choice(pools.COLORS), pos + 1, host.id
                )
            )

    policies = {
        "organization": [
            CancellationPolicy(
                "organization",
                1,
                True,
                1440,
                "24 hours notice",
                "Cancel at least 24 hours before the meeting.",
                False,
                org_created,
            ),
            CancellationPolicy(
                "organization",
                2,
                True,
                2880,
                "48 hours notice",
                "Cancel at least 48 hours before the meeting.",
                False,
                anchor_s - 300 * DAY,
            ),
            CancellationPolicy(
                "organization",
                3,
                True,
                1440,
                "24 hours notice",
                "Cancel at least 24 hours before the meeting; later cancellations are charged.",
                True,
                anchor_s - 120 * DAY,
            ),
        ],
        "user": [
            CancellationPolicy(
                "user",
                1,
                True,
                720,
                "12 hours notice",
                "Please cancel 12 hours ahead.",
                False,
                org_created + 5 * DAY,
            ),
            CancellationPolicy(
                "user",
                2,
                True,
                1440,
                "24 hours notice",
                "Please cancel 24 hours ahead.",
                False,
                anchor_s - 200 * DAY,
            ),
        ],
    }

    polls = _generate_polls(rng, hosts, event_types, anchor_s)
    acl = [
        {
            "resource": resource,
            "attributes": ["view", "create", "edit", "delete"],
            "allowedAttributes": ["view", "create", "edit", "delete"]
            if resource != "billing"
            else ["view"],
        }
        for resource in (
            "event",
            "event-type",
            "user",
            "poll",
            "organization",
            "integration",
            "billing",
        )
    ]
    owner = hosts[0]
    integrations = {
        "user": [
            {
                "type": "google_calendar",
                "email": owner.email,
                "connectedAt": _iso(org_created + 2 * DAY),
            },
            {"type": "zoom", "email": owner.email, "connectedAt": _iso(org_created + 3 * DAY)},
        ],
        "organization": [
            {
                "type": "stripe",
                "accountId": f"acct_{rng.getrandbits(48):012x}",
                "connectedAt": _iso(org_created + 10 * DAY),
            },
            {
                "type": "webhook",
                "url": f"https://hooks.{org.slug}.example/simplymeet",
                "connectedAt": _iso(org_created + 40 * DAY),
            },
        ],
    }
    ref = ReferenceData(
        organization=org,
        hosts=hosts,
        event_types=event_types,
        availability=availability,
        event_type_tags=tags,
        event_type_tag_links=links,
        user_event_type_tags=user_tags,
        policies=policies,
        polls=polls,
        acl=acl,
        integrations=integrations,
    )
    ref.counters = {
        "event_type_tag": len(tags),
        "user_event_type_tag": len(user_tags),
        "poll": len(polls),
        "poll_slot": sum(len(p.slots) for p in polls),
    }
    return ref


def _phone(rng: random.Random) -> str:
    return f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(10**5, 10**6 - 1)}"


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC).isoformat()


def _generate_hosts(
    rng: random.Random, org: Organization, org_created: int, anchor_s: int
) -> list[Host]:
    count = rng.randint(8, 15)
    places = list(pools.PLACES[:3]) + [rng.choice(pools.PLACES) for _ in range(count - 3)]
    hosts: list[Host] = []
    used: set[str] = set()
    for i, place in enumerate(places):
        tz, country, city, lat, lng, _currency, locale = place
        while True:
            first, first_ascii = rng.choice(pools.FIRST_NAMES)
            last, last_ascii = rng.choice(pools.LAST_NAMES)
            if f"{first} {last}" not in used:
                used.add(f"{first} {last}")
                break
        pattern = rng.random()
        work_days = (
            (0, 1, 2, 3, 4)
            if pattern < 0.7
            else (0, 1, 2, 3)
            if pattern < 0.85
            else (1, 2, 3, 4, 5)
        )
        start = rng.choice((8 * 60, 8 * 60 + 30, 9 * 60, 9 * 60, 10 * 60))
        hosts.append(
            Host(
                id=i + 1,
                uuid=seeded_uuid(rng),
                email=f"{first_ascii}.{last_ascii}@{org.slug}.example",
                full_name=f"{first} {last}",
                slug=f"{first_ascii}-{last_ascii}",
                timezone=tz,
                work_days=work_days,
                work_start_min=start,
                work_end_min=start + rng.choice((7, 8, 8, 9)) * 60,
                created_at=org_created + (0 if i == 0 else rng.randint(DAY, 30 * DAY)),
                last_login=anchor_s - rng.randint(HOUR, 20 * DAY),
                is_enabled=i == 0 or rng.random() > 0.08,
                city=city,
                country_id=country,
                phone=_phone(rng),
                lat=lat + rng.uniform(-0.05, 0.05),
                lng=lng + rng.uniform(-0.05, 0.05),
                locale=locale,
                time_format="24h" if country != "US" else "12h",
                date_format="d/m/Y"
                if country not in ("US", "JP")
                else "Y-m-d"
                if country == "JP"
                else "m/d/Y",
            )
        )
    return hosts


def _questions(rng: random.Random) -> list[Question]:
    chosen = rng.sample(pools.QUESTION_TEMPLATES, rng.randint(1, 3))
    return [
        Question(seeded_uuid(rng), label, qtype, rng.random() < 0.5, list(options), pos + 1)
        for pos, (label, qtype, options) in enumerate(chosen)
    ]


def _generate_event_types(rng: random.Random, hosts: list[Host]) -> list[EventType]:
    types: list[EventType] = []
    duration_ids = iter(range(1, 100_000))
    location_ids = iter(range(1, 100_000))
    currency_of = {place[0]: place[5] for place in pools.PLACES}

    def make(owner: Host, name: str, kind: str, user_ids: list[int]) -> EventType:
        duration = rng.choice((15, 20, 30, 30, 45, 60, 60, 90))
        flexible = rng.random() < 0.25
        durations = (
            [(next(duration_ids), m) for m in sorted({duration, rng.choice((30, 45, 60)), 90})]
            if flexible
            else []
        )
        paid = rng.random() < 0.25
        currency = currency_of[owner.timezone]
        amount = float(rng.choice((25, 49, 75, 99, 150))) * (100 if currency == "JPY" else 1)
        location_type = rng.choices(LOCATION_TYPES, weights=(10, 30, 12, 4, 25, 2, 12), k=1)[0]
        request_types = (
            [
                (next(location_ids), lt)
                for lt in rng.sample(("zoom", "google_meet", "custom", "microsoft_teams"), 3)
            ]
            if location_type == "request"
            else []
        )
        slug = _slug(name)
        taken = {t.slug for t in types if t.owner_id == owner.id}
        if slug in taken:
            slug = f"{slug}-{len(taken) + 1}"
        group = kind == "regular" and rng.random() < 0.1
        return EventType(
            id=len(types) + 1,
            uuid=seeded_uuid(rng),
            name=name,
            slug=slug,
            color=rng.choice(pools.COLORS),
            owner_id=owner.id,
            kind=kind,
            duration=duration,
            duration_type="flexible" if flexible else "fixed",
            durations=durations,
            amount=amount if paid else None,
            currency=currency if paid else None,
            location_type=location_type,
            location=f"{owner.city} office, room {rng.randint(1, 20)}"
            if location_type == "custom"
            else None,
            is_enabled=rng.random() > 0.1,
            is_secret=rng.random() < 0.1,
            user_ids=user_ids,
            timezone=owner.timezone,
            is_localized=rng.random() < 0.7,
            position=len([t for t in types if t.owner_id == owner.id]) + 1,
            request_location_types=request_types,
            is_allow_cancel=rng.random() > 0.1,
            is_allow_reschedule=rng.random() > 0.15,
            is_show_phone=rng.random() < 0.4,
            is_phone_required=rng.random() < 0.15,
            questions=_questions(rng),
            is_multiple_meeting=rng.random() < 0.1,
            location_label="How would you like to meet?" if location_type == "request" else None,
            group_meeting_limit=rng.choice((5, 10, 20)) if group else None,
            show_group_meeting_rest=group,
        )

    for host in hosts:
        for name in rng.sample(pools.EVENT_TYPE_NAMES, rng.randint(1, 3)):
            types.append(make(host, name, "regular", [host.id]))
    for name in rng.sample(pools.ROUND_ROBIN_NAMES, rng.randint(2, 3)):
        members = sorted(rng.sample([h.id for h in hosts], rng.randint(3, min(5, len(hosts)))))
        types.append(make(hosts[0], name, "round-robin", members))
    for name in rng.sample(pools.COLLECTIVE_NAMES, rng.randint(1, 2)):
        owner = rng.choice(hosts)
        others = rng.sample([h.id for h in hosts if h.id != owner.id], rng.randint(1, 2))
        types.append(make(owner, name, "collective", sorted([owner.id, *others])))
    return types


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _weekday_rules(host: Host) -> list[AvailabilityRule]:
    return [
        AvailabilityRule(
            "weekday",
            [(_hhmm(host.work_start_min), _hhmm(host.work_end_min))],
            {"weekday": WEEKDAYS[day]},
        )
        for day in host.work_days
    ]


def _generate_polls(
    rng: random.Random, hosts: list[Host], event_types: list[EventType], anchor_s: int
) -> list[Poll]:
    polls: list[Poll] = []
    slot_id = 0
    for i, name in enumerate(rng.sample(pools.POLL_NAMES, 6)):
        et = rng.choice(event_types)
        created = anchor_s - rng.randint(2, 90) * DAY + rng.randint(0, DAY - 1)
        slots: list[PollSlot] = []
        first_day = created // DAY + rng.randint(3, 20)
        for k in range(rng.randint(3, 6)):
            slot_id += 1
            when = (first_day + k) * DAY + rng.choice((9, 10, 14, 15)) * HOUR
            results = [
                PollResult(
                    f"{rng.choice(pools.FIRST_NAMES)[1]}.{rng.choice(pools.LAST_NAMES)[1]}@example.com",
                    rng.choice((None, None, "Works for me", "Prefer mornings")),
                )
                for _ in range(rng.randint(0, 4))
            ]
            slots.append(PollSlot(slot_id, when, results))
        polls.append(
            Poll(
                id=i + 1,
                uuid=seeded_uuid(rng),
                user_id=et.owner_id,
                event_type_id=et.id,
                vote_visibility=rng.random() < 0.7,
                comment_visibility=rng.random() < 0.5,
                email_notification=rng.random() < 0.6,
                duration=et.duration,
                name=name,
                created_at=created,
                slots=slots,
            )
        )
    return polls


# --- events ----------------------------------------------------------------------------------


def _tz_offsets(hosts: list[Host], first_day: int, n_days: int) -> np.ndarray:
    """UTC offset (seconds) of each host's zone at local noon of each day.

    DST switches at night, so the noon offset is right for every working-hours slot.
    """
    if not hosts:
        return np.zeros((0, n_days), dtype=np.int64)
    return np.stack([_noon_offsets(host.timezone, first_day, n_days) for host in hosts])


@functools.lru_cache(maxsize=64)
def _noon_offsets(timezone: str, first_day: int, n_days: int) -> np.ndarray:
    """One zone's offsets at local noon of each day; hosts share zones and every emulator
    of a process seeds the same days, and this loop was most of an emulator's start."""
    zone = ZoneInfo(timezone)
    epoch = dt.date(1970, 1, 1).toordinal()
    offsets = np.zeros(n_days, dtype=np.int64)
    for d in range(n_days):
        day = dt.date.fromordinal(epoch + first_day + d)
        noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=zone)
        offsets[d] = int(noon.utcoffset().total_seconds())  # type: ignore[union-attr]
    offsets.flags.writeable = False
    return offsets


def generate_events(seed: int, n: int, anchor_s: int, ref: ReferenceData) -> dict[str, np.ndarray]:
    """The scalar columns of `n` seeded events, ordered by createdAt and numbered from 1."""
    rng = np.random.default_rng([seed, 0xE7E475])
    hosts, types = ref.hosts, ref.event_types
    org_created = ref.organization.created_at
    if n == 0:
        return {}

    # Which event type, which host, how long.
    popularity = rng.gamma(1.5, 1.0, len(types)) * np.array(
        [3 if t.is_enabled else 0.3 for t in types]
    )
    et_idx = rng.choice(len(types), size=n, p=popularity / popularity.sum())
    user_id = np.zeros(n, dtype=np.int32)
    duration = np.zeros(n, dtype=np.int16)
    location = np.zeros(n, dtype=np.int8)
    for k, et in enumerate(types):
        rows = np.flatnonzero(et_idx == k)
        if not len(rows):
            continue
        if et.kind == "round-robin":
            user_id[rows] = rng.choice(np.array(et.user_ids), size=len(rows))
        else:
            user_id[rows] = et.owner_id
        choices = np.array([m for _, m in et.durations] or [et.duration])
        duration[rows] = rng.choice(choices, size=len(rows))
        lts = [lt for _, lt in et.request_location_types] or [et.location_type]
        location[rows] = rng.choice(np.array([LOCATION_CODE[lt] for lt in lts]), size=len(rows))
    host_idx = user_id - 1

    # Which day: growth over the past, thinning out ahead (those bookings are not made yet).
    n_days = PAST_DAYS + FUTURE_DAYS
    d = np.arange(n_days, dtype=np.float64)
    weights = np.where(
        d < PAST_DAYS,
        0.6 + 0.8 * d / PAST_DAYS,
        1.4 * (1 - (d - PAST_DAYS) / FUTURE_DAYS) ** 2 + 0.02,
    )
    first_day = anchor_s // DAY - PAST_DAYS
    day = rng.choice(n_days, size=n, p=weights / weights.sum())
    weekday = (first_day + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
    works = np.zeros((len(hosts), 7), dtype=bool)
    for h, host in enumerate(hosts):
        works[h, list(host.work_days)] = True
    for _ in range(12):  # redraw days the host does not work; 12 rounds leave ~none
        bad = ~works[host_idx, (weekday + day) % 7]
        if not bad.any():
            break
        day[bad] = rng.choice(n_days, size=int(bad.sum()), p=weights / weights.sum())
    step = np.where(day >= 7, -1, 1)  # the few left: walk to the nearest working day
    for _ in range(6):
        bad = ~works[host_idx, (weekday + day) % 7]
        day[bad] += step[bad]

    # Which slot: a half-hour grid inside the host's working hours, local time.
    start_min = np.array([h.work_start_min for h in hosts])[host_idx]
    end_min = np.array([h.work_end_min for h in hosts])[host_idx]
    slots = np.maximum((end_min - start_min - duration) // 30 + 1, 1)
    minute = start_min + 30 * (rng.random(n) * slots).astype(np.int64)
    offsets = _tz_offsets(hosts, first_day, n_days)
    scheduled = (first_day + day) * DAY + minute * 60 - offsets[host_idx, day]
    end = scheduled + duration.astype(np.int64) * 60

    # When it was booked: lognormal lead time, median four days.
    lead = np.clip(np.exp(rng.normal(np.log(96 * HOUR), 1.3, n)), HOUR, 120 * DAY).astype(np.int64)
    created = scheduled - lead
    too_late = created > anchor_s - 60
    created[too_late] = anchor_s - rng.integers(60, 3 * DAY, int(too_late.sum()))
    created = np.maximum(created, org_created + 31 * DAY)

    # Cancellations: ~12 %, a third of them late (inside the 24 h policy window).
    horizon = np.minimum(scheduled - 60, anchor_s)
    lo = created + 60
    can_cancel = horizon > lo
    canceled_mask = can_cancel & (rng.random(n) < rng.uniform(0.10, 0.15))
    late = rng.random(n) < 0.33
    when_late = scheduled - (rng.uniform(0.02, 1.0, n) * DAY).astype(np.int64)
    when_any = lo + (rng.random(n) * (horizon - lo)).astype(np.int64)
    late_fits = late & (when_late >= lo) & (when_late <= horizon)
    canceled = np.clip(np.where(late_fits, when_late, when_any), lo, np.maximum(horizon, lo))
    canceled = np.where(canceled_mask, canceled, 0)

    state = np.full(n, STATE_CODE[STATE_ACTIVE], dtype=np.int8)
    state[canceled_mask] = STATE_CODE[STATE_CANCELED]
    past = end < anchor_s - HOUR
    no_show = past & ~canceled_mask & (rng.random(n) < 0.05)
    state[no_show] = STATE_CODE[STATE_NO_SHOW]
    marked = end + rng.integers(HOUR, 48 * HOUR, n)
    spread = end + (rng.random(n) * (anchor_s - end)).astype(np.int64)
    marked_no_show = np.where(no_show, np.where(marked > anchor_s, spread, marked), 0)

    # Reschedulings: ~8 %, before any cancellation and before the meeting.
    resched_hi = np.where(canceled_mask, canceled, horizon)
    can_resched = resched_hi - created > HOUR
    n_resched = np.where(can_resched & (rng.random(n) < 0.08), 1 + (rng.random(n) < 0.2), 0).astype(
        np.int8
    )
    resched_at = np.where(
        n_resched > 0, created + (rng.random(n) * (resched_hi - created)).astype(np.int64), 0
    )
    updated = np.maximum.reduce([created, canceled, marked_no_show, resched_at])

    # Payments for paid event types.
    paid_type = np.array([t.amount is not None for t in types])[et_idx]
    pay = np.full(n, -1, dtype=np.int8)
    live_codes = np.array([PAYMENT_CODE[s] for s in ("paid", "pending", "failed")])
    pay_live = rng.choice(live_codes, size=n, p=[0.88, 0.07, 0.05])
    pay_canceled = np.where(rng.random(n) < 0.7, PAYMENT_CODE["refunded"], PAYMENT_CODE["paid"])
    pay[paid_type] = np.where(canceled_mask, pay_canceled, pay_live)[paid_type]

    reminded = (scheduled - DAY <= anchor_s) & ~(canceled_mask & (canceled < scheduled - DAY))
    domain_p = np.array(pools.EMAIL_DOMAIN_WEIGHTS) / sum(pools.EMAIL_DOMAIN_WEIGHTS)
    email_number = np.where(rng.random(n) < 0.4, rng.integers(1, 1000, n), 0)

    columns = {
        "user_id": user_id,
        "event_type_id": (et_idx + 1).astype(np.int32),
        "created": created,
        "updated_us": updated * 1_000_000,
        "scheduled": scheduled,
        "end": end,
        "canceled": canceled,
        "duration": duration,
        "state": state,
        "pay_status": pay,
        "location_type": location,
        "reminders": reminded.astype(np.int16),
        "n_participants": rng.choice(4, size=n, p=[0.6, 0.25, 0.1, 0.05]).astype(np.int8),
        "n_reschedules": n_resched,
        "first_name": rng.integers(0, len(pools.FIRST_NAMES), n).astype(np.int16),
        "last_name": rng.integers(0, len(pools.LAST_NAMES), n).astype(np.int16),
        "email_domain": rng.choice(len(pools.EMAIL_DOMAINS), size=n, p=domain_p).astype(np.int16),
        "email_number": email_number.astype(np.int32),
    }
    # Ids follow booking order, as an auto-increment key would.
    order = np.argsort(created, kind="stable")
    columns = {name: values[order] for name, values in columns.items()}
    columns["seed_user_id"] = columns["user_id"].copy()
    columns["seed_event_type_id"] = columns["event_type_id"].copy()
    return columns
