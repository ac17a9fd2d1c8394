"""A believable demo: brands, territories, ~200 HCPs, one user per role, weeks of observations."""

import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from ..audit import record
from ..extensions import db
from ..library.services import load_library
from ..models import (
    HCP,
    OUTCOME_AFTER_DAYS,
    USER_ROLES,
    AdoptionStage,
    AdoptionStep,
    Barrier,
    Brand,
    LeaveBehind,
    Observation,
    Play,
    PlayRun,
    Territory,
    User,
    observation_barrier,
    utcnow,
)

DEMO_DOMAIN = "demo.clearpath.test"
BRANDS = [("ONCORA", "Oncora (zelitinib)"), ("DERMAVEX", "Dermavex (pen injector)"),
          ("CARDIOLYN", "Cardiolyn (infusion)")]
TERRITORIES = [
    ("NE-BOS", "Boston Metro", "NORTHEAST"),
    ("NE-PVD", "Providence & Cape", "NORTHEAST"),
    ("MW-CHI", "Chicago North", "MIDWEST"),
    ("MW-MKE", "Milwaukee & Madison", "MIDWEST"),
]
SPECIALTIES = ["Medical oncology", "Hematology", "Dermatology", "Rheumatology", "Cardiology",
               "Internal medicine", "Nurse practitioner", "Pharmacy director"]
SEGMENTS = ["evidence seeker", "access constrained", "early adopter", "loyal to competitor",
            "high potential"]
FIRST = ["Anika", "Ben", "Carla", "Deepak", "Elena", "Farid", "Grace", "Hiro", "Isabel", "Jonas",
         "Kemi", "Luis", "Maya", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tara"]
LAST = ["Patel", "Nguyen", "Okafor", "Schmidt", "Rossi", "Cohen", "Kim", "Haddad", "Silva",
        "Novak", "Brennan", "Ito"]
PRACTICES = ["{city} Oncology Associates", "{city} Skin & Laser", "{city} Heart Institute",
             "{city} Rheumatology Group", "{city} Community Health", "St. Anne's {city} Hospital",
             "{city} Cancer Center", "{city} Family Practice"]
CITIES = {"NE-BOS": ["Boston", "Cambridge", "Quincy"], "NE-PVD": ["Providence", "Hyannis"],
          "MW-CHI": ["Evanston", "Skokie", "Chicago"], "MW-MKE": ["Milwaukee", "Madison"]}
FIELD_AUTHORS = ("sales_rep", "msl", "frm", "kam", "pal", "nurse_educator", "idn_director")
# The people behind the demo accounts; the roles' own names say what they do.
PEOPLE = ["Sam Rivera", "Dr Lena Brooks", "Marcus Hale", "Ines Duarte", "Tom Becker",
          "Aisha Khan", "Joanna Price", "Victor Lindqvist", "Hannah Cole", "Raj Mehta",
          "Chloe Dubois", "Dr Paul Weber", "Nora Fitzgerald", "Dr Mei Chen", "Alex Morgan"]
# Colleagues in the other territories, so the feed shows the whole country.
COLLEAGUES = [("sales_rep", "MW-CHI", "Jordan Ellis"), ("frm", "MW-CHI", "Beatriz Lopes"),
              ("sales_rep", "MW-MKE", "Kyle Anders"), ("msl", "MW-MKE", "Dr Ruth Adler"),
              ("sales_rep", "NE-PVD", "Olivia Grant"), ("pal", "NE-PVD", "Sofia Marino")]


# Alternative plays HQ is trying for common access barriers, so the next best play has a choice.
ALTERNATIVES = {
    "ACC-PA-001": ("Payer-specific PA huddle",
                   "Walk the office through this payer's own checklist with their PA coordinator."),
    "ACC-PA-002": ("Office PA workshop",
                   "A 20-minute lunch workshop on the payer portals and the hub's PA support."),
    "AFF-CPY-001": ("Copay card enrolment at the front desk",
                    "Enrol eligible commercially insured patients before they leave the office."),
}
# How often each kind of play works in the demo: alternatives do a little better.
SUCCESS = {"library": 0.5, "alternative": 0.68}
LADDER = ["unaware", "aware", "considering", "trialing", "adopting", "advocating"]


@dataclass
class DemoReport:
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    hcps: int = 0
    observations: int = 0
    runs: int = 0


def _territories() -> dict[str, Territory]:
    found = {t.code: t for t in db.session.scalars(db.select(Territory))}
    for code, name, district in TERRITORIES:
        territory = found.get(code) or Territory(code=code)
        territory.name, territory.district = name, district
        db.session.add(territory)
        found[code] = territory
    return found


def _brands() -> list[Brand]:
    found = {b.code: b for b in db.session.scalars(db.select(Brand))}
    brands = []
    for code, name in BRANDS:
        brand = found.get(code) or Brand(code=code)
        brand.name = name
        db.session.add(brand)
        brands.append(brand)
    return brands


def _hcps(rng: random.Random, territories: dict[str, Territory], count: int) -> list[HCP]:
    found = {h.external_id: h for h in db.session.scalars(db.select(HCP))}
    hcps = []
    codes = [code for code, _, _ in TERRITORIES]
    for n in range(count):
        external_id = f"HCP-{n + 1:05d}"
        code = codes[n % len(codes)]
        city = rng.choice(CITIES[code])
        hcp = found.get(external_id) or HCP(external_id=external_id)
        hcp.name = f"Dr {rng.choice(FIRST)} {rng.choice(LAST)}"
        hcp.specialty = rng.choice(SPECIALTIES)
        hcp.account = rng.choice(PRACTICES).format(city=city)
        hcp.segment = rng.choice(SEGMENTS)
        hcp.territory = territories[code]
        db.session.add(hcp)
        hcps.append(hcp)
    return hcps


def _demo_user(email: str, role: str, territory: Territory, name: str, credentials: list) -> User:
    """Create or refresh a demo user with a new password, noted for printing once."""
    user = db.session.scalar(db.select(User).where(User.email == email))
    if user is None:
        user = User(email=email, role=role, territory=territory, name=name)
        db.session.add(user)
    password = secrets.token_urlsafe(9)  # 12 characters
    user.set_password(password)
    credentials.append((role, email, password))
    return user


def _users(territories: dict[str, Territory]) -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    """One user per role in Boston, plus colleagues elsewhere; each run sets new passwords."""
    users, credentials = {}, []
    for role, name in zip(USER_ROLES, PEOPLE, strict=True):
        email = f"{role.replace('_', '.')}@{DEMO_DOMAIN}"
        users[role] = _demo_user(email, role, territories["NE-BOS"], name, credentials)
    for role, code, name in COLLEAGUES:
        email = f"{role.replace('_', '.')}.{code.lower()}@{DEMO_DOMAIN}"
        users[(role, code)] = _demo_user(email, role, territories[code], name, credentials)
    return users, credentials


def _observations(rng, users, hcps, brands, days: int, count: int) -> int:
    if db.session.scalar(db.select(Observation.id).limit(1)):
        return 0  # the demo's history is written once; re-runs only refresh users
    barriers = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))).all()
    authors = [u for u in users.values() if u.role in FIELD_AUTHORS]
    hcps_by_territory: dict[int, list[HCP]] = {}
    for hcp in hcps:
        hcps_by_territory.setdefault(hcp.territory_id, []).append(hcp)
    now = utcnow()
    # Spread over the whole window, a little busier lately so "rising" has something to show.
    for _ in range(count):
        author = rng.choice(authors)
        role = author.role
        pool = [b for b in barriers if role in b.compliant_for] or barriers
        chosen = rng.sample(pool if rng.random() < 0.7 else barriers, k=rng.choice([1, 1, 1, 2]))
        hcp = rng.choice(hcps_by_territory[author.territory_id])
        observed = now - timedelta(days=days * (rng.random() ** 1.3), minutes=rng.randint(5, 600))
        note = rng.choice(chosen[0].signals) if chosen[0].signals and rng.random() < 0.8 else ""
        brand = rng.choice(brands)
        observation = Observation(
            id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            author=author,
            author_role=role,
            hcp=hcp,
            territory_id=hcp.territory_id,
            brand=brand,
            note=note,
            observed_at=observed,
            received_at=observed + timedelta(minutes=rng.randint(1, 90)),
            barriers=chosen,
        )
        observation.fingerprint = Observation.fingerprint_of(
            hcp.external_id, [b.code for b in chosen], note, observed, brand.code, None
        )
        db.session.add(observation)
    return count


def load_demo(seed: int = 7, hcp_count: int = 200, days: int = 28,
              observations: int = 320) -> DemoReport:
    """Load the library and the demo organisation; safe to run again."""
    rng = random.Random(seed)
    load_library()
    territories = _territories()
    brands = _brands()
    hcps = _hcps(rng, territories, hcp_count)
    db.session.flush()
    users, credentials = _users(territories)
    db.session.flush()
    report = DemoReport(credentials=credentials, hcps=len(hcps))
    report.observations = _observations(rng, users, hcps, brands, days, observations)
    if report.observations:
        db.session.flush()
        _alternative_plays(users["hq_brand"])
        db.session.flush()
        report.runs = _plays_in_motion(rng, users)
        _adoption_ladder(rng, users, hcps, brands)
    record("demo_loaded", entity="demo", hcps=report.hcps, observations=report.observations)
    db.session.commit()
    return report


def _alternative_plays(author: User) -> None:
    """Approved alternatives to a few library plays, as HQ would add them."""
    for code, (title, use) in ALTERNATIVES.items():
        barrier = db.session.scalar(db.select(Barrier).where(Barrier.code == code))
        if barrier is None or barrier.play is None:
            continue
        base = barrier.play
        play = Play(barrier=barrier, lineage=f"{code}-P2", version=1, status="approved",
                    approval_code=f"MLR-DEMO-{code}-P2", title=title, goal=base.goal,
                    channel_code=base.channel_code, know=base.know, use=use, tell=list(base.tell),
                    expires_on=(utcnow() + timedelta(days=365)).date(), created_by=author)
        db.session.add(play)
        db.session.add(LeaveBehind(play=play, title=title, approval_code=play.approval_code,
                                   steps=["Bring the payer's current checklist.",
                                          "Agree who in the office owns each step.",
                                          "Call the hub for anything the office cannot finish."]))


def _runner_for(users: dict, observation: Observation, barrier: Barrier) -> User | None:
    if barrier.may_be_run_by(observation.author_role):
        return observation.author
    for user in users.values():
        if user.territory_id == observation.territory_id and barrier.may_be_run_by(user.role):
            return user
    return None


def _plays_in_motion(rng: random.Random, users: dict) -> int:
    """Run about half of the observed barriers' plays, with outcomes once they are due."""
    now, runs = utcnow(), 0
    observations = db.session.scalars(db.select(Observation).order_by(Observation.observed_at))
    for observation in observations:
        for barrier in observation.barriers:
            offered = barrier.offered_plays()
            if not offered:
                continue
            play = rng.choice(offered)
            db.session.execute(
                observation_barrier.update()
                .where(observation_barrier.c.observation_id == observation.id,
                       observation_barrier.c.barrier_id == barrier.id)
                .values(play_id=play.id))
            runner = _runner_for(users, observation, barrier)
            if runner is None or rng.random() > 0.55:
                continue
            ran_at = observation.observed_at + timedelta(hours=rng.lognormvariate(2.8, 0.9))
            if ran_at > now:
                continue
            due = ran_at + timedelta(days=OUTCOME_AFTER_DAYS)
            outcome = None
            if due <= now or rng.random() < 0.3:
                chance = SUCCESS["library" if play.lineage == barrier.code else "alternative"]
                roll = rng.random()
                outcome = ("resolved" if roll < chance else "partly" if roll < chance + 0.15
                           else "too_early" if roll > 0.93 else "not_resolved")
            db.session.add(PlayRun(observation=observation, barrier=barrier, play=play,
                                   runner=runner, runner_role=runner.role, ran_at=ran_at,
                                   channel_code=play.channel_code,
                                   leave_behind=rng.choice(["none", "given", "emailed"]),
                                   outcome=outcome, outcome_due_at=due,
                                   outcome_at=due if outcome else None))
            runs += 1
    return runs


def _adoption_ladder(rng: random.Random, users: dict, hcps: list[HCP], brands: list[Brand]) -> None:
    """Where each HCP stood on one brand four weeks ago, and for some, a step up since."""
    if not db.session.scalar(db.select(AdoptionStage.code).limit(1)):
        return
    now, rep = utcnow(), users["sales_rep"]
    for hcp in hcps:
        brand = rng.choice(brands)
        position = rng.randint(0, 3)
        db.session.add(AdoptionStep(hcp=hcp, brand=brand, stage_code=LADDER[position],
                                    at=now - timedelta(days=29), user=rep))
        if rng.random() < 0.35:
            db.session.add(AdoptionStep(hcp=hcp, brand=brand, stage_code=LADDER[position + 1],
                                        at=now - timedelta(days=rng.randint(1, 20)), user=rep))
