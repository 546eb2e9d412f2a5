"""Believable, fictional casework for the development demo (``manage.py seed_demo``).

Everything goes through the services, so the demo data obeys the same rules as
real work (visibility, validation, audit). Names, places and events are made up.
Photos are drawn here (a silhouette with initials on a colour per person), for everyone on an
open or on-hold case; nothing is downloaded.
The tasks on these cases are the tasks app's demo (``tenant_apps.tasks.demo``).
"""

from __future__ import annotations

import datetime as dt
import io
import random
import zlib

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from tenant_apps.accounts.models import User
from tenant_apps.casework import services
from tenant_apps.casework.models import Case, CaseSubject, CaseType, FamilyMember, Profile
from tenant_apps.directory.models import Team
from tenant_apps.documents.models import Document
from tenant_apps.documents.services import StorageUnavailable, document_store

FIRST = ["Kyle", "Jade", "Liam", "Chloe", "Connor", "Megan", "Tyler", "Shannon", "Reece", "Leah", "Jordan",
         "Amber", "Callum", "Courtney", "Bradley", "Demi", "Lewis", "Kayleigh", "Dean", "Stacey", "Gary",
         "Tracey", "Wayne", "Donna", "Paul", "Karen", "Darren", "Michelle", "Ryan", "Danielle"]  # fmt: skip
LAST = ["Brennan", "Whitlock", "Pryce", "Okonkwo", "Hargreaves", "Doyle", "Marsh", "Finch", "Kowalski",
        "Ashworth", "Baines", "Mahmood", "Tranter", "Gallagher", "Rudd", "Swann", "Ilori", "Catchpole"]  # fmt: skip
STREETS = ["Mill Lane", "Station Road", "Orchard Close", "Victoria Street", "Church Walk", "Meadow View",
           "Kingsway", "Nelson Court", "Granary Yard", "Elm Crescent"]  # fmt: skip
TOWNS = {
    "suffolk": [("Ipswich", "IP4"), ("Lowestoft", "NR32"), ("Bury St Edmunds", "IP33")],
    "norfolk": [("Norwich", "NR3"), ("Great Yarmouth", "NR30"), ("King's Lynn", "PE30")],
    "staffordshire": [("Stoke-on-Trent", "ST4"), ("Stafford", "ST16"), ("Burton upon Trent", "DE14")],
}


def seed(demo) -> None:
    """The demo's casework, once, and its photos (``demo``: a ``tenants.demo.Demo``; inside its
    partnership's schema, after the directory's demo)."""
    if casework_seed_demo(slug=demo.slug, council_email=demo.council, police_email=demo.police):
        demo.say(f"Added demo casework to {demo.name}.")
    if demo.files:
        try:
            casework_seed_demo_photos()
        except (StorageUnavailable, BotoCoreError, ClientError, OSError):
            demo.warn(f"{demo.slug}: object storage is not reachable; demo photos skipped.")


# Background colours for the drawn photos, each dark enough for white initials (contrast >= 4.5:1).
PHOTO_COLOURS = [(29, 112, 184), (0, 112, 60), (212, 53, 28), (80, 90, 95), (145, 43, 136), (115, 65, 0),
                 (0, 94, 110), (150, 30, 80)]  # fmt: skip


def _photo(initials: str, colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A clearly drawn portrait: a pale head-and-shoulders silhouette on ``colour``, with the
    person's initials across it, 240 by 300 pixels (the gallery's 4:5 frame)."""
    image = Image.new("RGB", (240, 300), colour)
    draw = ImageDraw.Draw(image)
    pale = tuple(round(channel + (255 - channel) * 0.35) for channel in colour)
    draw.ellipse((75, 40, 165, 140), fill=pale)  # head
    draw.ellipse((25, 155, 215, 380), fill=pale)  # shoulders
    font = ImageFont.load_default(size=64)
    draw.text((120, 225), initials, fill=(255, 255, 255), font=font, anchor="mm", stroke_width=3,
              stroke_fill=colour)  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile(f"{initials}.jpg", buffer.getvalue(), content_type="image/jpeg")


def casework_seed_demo(*, slug: str, council_email: str, police_email: str) -> bool:
    """Seed a partnership with casework once (inside its schema). Returns False if it had some."""
    if Profile.objects.exists():
        return False
    rng = random.Random(f"concord-demo-{slug}")  # noqa: S311 - made-up demo data, not security
    council = User.objects.get(email=council_email)
    police = User.objects.get(email=police_email)
    asb = Team.objects.get(name="ASB Team")
    snt = Team.objects.get(name="Safer Neighbourhood Team")
    iom = Team.objects.get(name="IOM", agency__name="Constabulary")
    if not iom.team_memberships.filter(user=police).exists():
        iom = snt  # a record is owned by one of its creator's own teams (the police user is in SNT only)
    now = timezone.now()
    today = timezone.localdate()

    profiles = []
    for index in range(30):
        owner, team = (council, asb) if index % 3 else (police, snt)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        born = today - dt.timedelta(days=rng.randint(14 * 365, 70 * 365))
        profile = services.profile_create(
            user=owner, first_name=first, last_name=last, date_of_birth=born,
            gender=rng.choice(["female", "male", "not_known"]), phone=f"07700 900{index:03d}", owning_team=team,
        )  # fmt: skip
        town, area = rng.choice(TOWNS.get(slug, TOWNS["suffolk"]))
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{area} {rng.randint(1, 9)}{rng.choice(letters)}{rng.choice(letters)}"
        profile.addresses.create(
            line1=f"{rng.randint(1, 120)} {rng.choice(STREETS)}", town=town,
            postcode=postcode,
        )  # fmt: skip
        if index % 7 == 0:
            profile.warnings.create(kind="lone_visits", note="Visit in pairs after an incident at the door.")
        if index % 5 == 0:
            profile.vulnerabilities.create(kind="mental_health", note="Anxiety; prefers phone contact first.")
        profiles.append((profile, owner, team))

    by_owner = {
        council: [p for p, owner, _ in profiles if owner == council],
        police: [p for p, owner, _ in profiles if owner == police],
    }
    for owner, team in ((council, asb), (council, asb), (police, snt)):
        group = by_owner[owner][:4]
        by_owner[owner] = by_owner[owner][4:] + group  # next family takes the next four
        family = services.family_create(user=owner, name=f"{group[0].last_name} household", owning_team=team)
        for position, profile in enumerate(group):
            relationship = ["parent", "parent", "child", "child"][position]
            FamilyMember.objects.create(family=family, profile=profile, relationship=relationship)

    types = {case_type.code: case_type for case_type in CaseType.objects.all()}
    plans = [
        ("ASB", "Noise and intimidation on {street}", council, asb, ["perpetrator", "victim", "complainant"]),
        ("ASB", "Youths gathering and damage at {street} shops", council, asb, ["perpetrator", "witness"]),
        ("TF", "{last} family: school attendance and rent arrears", council, asb, ["family_member", "family_member"]),
        ("IOM", "IOM cohort: {first} {last}", police, iom, ["offender"]),
        ("DA", "Repeat incidents at {street}", police, snt, ["victim", "perpetrator"]),
        ("HC", "Abuse towards shopkeeper, {street}", police, snt, ["victim", "perpetrator", "witness"]),
        ("ASB", "Drug dealing reported near {street}", police, snt, ["perpetrator", "complainant"]),
        ("TF", "{last} family: support plan", council, asb, ["family_member", "family_member", "family_member"]),
    ]  # fmt: skip
    for number, (code, title, owner, team, roles) in enumerate(plans):
        pool = by_owner[owner]
        chosen = pool[: len(roles)]
        by_owner[owner] = pool[len(roles) :] + chosen  # rotate: cases share few people
        lead_profile = chosen[0]
        subjects = list(zip(chosen, roles, strict=True))
        case = services.case_create(
            user=owner, case_type=types[code], owning_team=team, lead_practitioner=owner,
            title=title.format(street=rng.choice(STREETS), first=lead_profile.first_name, last=lead_profile.last_name),
            summary="Referred by the neighbourhood policing team after repeated reports.",
            opened_on=today - dt.timedelta(days=20 + number * 9), subjects=subjects,
        )  # fmt: skip
        if owner == council and number % 2 == 0:
            services.share_grant(user=owner, case=case, team=snt, can_edit=True)
        timeline = [
            ("phone_call", "", "Complaint logged", "Caller reports loud music and shouting after midnight."),
            ("visit", "", "Home visit", "Spoke at the door; agreed to keep noise down after 11pm."),
            ("meeting", "cmm", "Case-management meeting", "Police, housing and council agreed a joint plan."),
            ("enforcement", "warning_letter", "Warning letter sent", "First written warning, copy on file."),
            ("enforcement", "abc_offered", "Acceptable behaviour contract offered", "Meeting booked to sign."),
            ("letter", "", "Letter to complainant", "Update on the action taken so far."),
        ]  # fmt: skip
        for days_ago, (kind, action, summary, body) in zip(range(18, 0, -3), timeline, strict=False):
            services.entry_create(
                user=owner, case=case, kind=kind, action=action, summary=summary, body=body,
                occurred_at=now - dt.timedelta(days=days_ago + number, hours=rng.randint(1, 8)),
                attendees="PC Doyle, ASB officer, housing officer" if kind == "meeting" else "",
            )  # fmt: skip
        if number % 3 == 0:
            services.entry_create(
                user=owner, case=case, kind="note", summary="Disclosure to the lead officer",
                body="Details held for the owning team only.", occurred_at=now - dt.timedelta(days=1),
                is_sensitive=True, restricted_to_teams=[team],
            )  # fmt: skip

    return True


def casework_seed_demo_photos() -> int:
    """Give everyone on an open or on-hold case a drawn photo whose bytes are in storage (the
    development storage server keeps nothing across restarts, so this runs on every seed; a
    photo still in storage is kept). The colour follows the person, so a face stays the same
    across seeds. Returns how many photos were stored."""
    storage = storages["documents"]
    on_the_caseload = CaseSubject.objects.exclude(case__status=Case.Status.CLOSED).values("profile_id")
    people = Profile.objects.filter(pk__in=on_the_caseload, merged_into__isnull=True)
    stored = 0
    for profile in people.order_by("pk").select_related("created_by"):
        newest = (
            Document.objects.filter(attached_to_type="profile_photo", attached_to_id=str(profile.pk))
            .order_by("-uploaded_at")
            .first()
        )
        if newest is not None and storage.exists(storage.name_for_key(newest.storage_key)):
            continue
        initials = f"{profile.first_name[:1]}{profile.last_name[:1]}".upper() or profile.display_name[:2].upper()
        colour = PHOTO_COLOURS[zlib.crc32(profile.display_name.encode()) % len(PHOTO_COLOURS)]
        document_store(request_or_user=profile.created_by, file=_photo(initials, colour),
                       attached_to_type="profile_photo", attached_to_id=profile.pk)  # fmt: skip
        stored += 1
    return stored
