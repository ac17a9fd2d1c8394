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
    USER_ROLES,
    Barrier,
    Brand,
    Observation,
    Territory,
    User,
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


@dataclass
class DemoReport:
    credentials: list[tuple[str, str, str]] = field(default_factory=list)
    hcps: int = 0
    observations: int = 0


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


def _users(territories: dict[str, Territory]) -> tuple[dict[str, User], list[tuple[str, str, str]]]:
    """One user per role; every run sets a fresh password and returns it to be printed once."""
    users, credentials = {}, []
    home = territories["NE-BOS"]
    for role in USER_ROLES:
        email = f"{role.replace('_', '.')}@{DEMO_DOMAIN}"
        user = db.session.scalar(db.select(User).where(User.email == email))
        if user is None:
            user = User(email=email, role=role, territory=home,
                        name=role.replace("_", " ").title().replace("Hq", "HQ"))
            db.session.add(user)
        password = secrets.token_urlsafe(9)  # 12 characters
        user.set_password(password)
        users[role] = user
        credentials.append((role, email, password))
    return users, credentials


def _observations(rng, users, hcps, brands, days: int, count: int) -> int:
    if db.session.scalar(db.select(Observation.id).limit(1)):
        return 0  # the demo's history is written once; re-runs only refresh users
    barriers = db.session.scalars(db.select(Barrier).where(Barrier.retired_at.is_(None))).all()
    home_hcps = [h for h in hcps if h.territory_id == users["sales_rep"].territory_id]
    now = utcnow()
    # Spread over the whole window, a little busier lately so "rising" has something to show.
    for n in range(count):
        role = rng.choice(FIELD_AUTHORS)
        author = users[role]
        pool = [b for b in barriers if role in b.compliant_for] or barriers
        chosen = rng.sample(pool if rng.random() < 0.7 else barriers, k=rng.choice([1, 1, 1, 2]))
        hcp = rng.choice(home_hcps)
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
    record("demo_loaded", entity="demo", hcps=report.hcps, observations=report.observations)
    db.session.commit()
    return report
